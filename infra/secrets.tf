# The secrets the catalog's sources name (API tokens, client database URLs): Terraform creates each
# empty and lets the job read it; its value is put outside Terraform, so it never sits in the state:
#   aws secretsmanager put-secret-value --secret-id platform/weather-api-token --secret-string …
locals {
  source_secret_names = toset(compact(flatten([
    for source in local.catalog.sources : [
      for ref in concat(values(try(source.read.secrets, {})), [try(source.read.url, {})]) :
      try(ref.aws_secret, "")
    ]
  ])))
}

resource "aws_secretsmanager_secret" "source" {
  # checkov:skip=CKV2_AWS_57: the upstream's owner (an API vendor, a client's DBA) rotates these
  for_each                = local.source_secret_names
  name                    = each.value
  description             = "Read by the platform's jobs for the catalog's sources."
  kms_key_id              = aws_kms_key.platform.arn
  recovery_window_in_days = 7
}
