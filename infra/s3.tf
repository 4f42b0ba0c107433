# The lake, the logs, and the Pipes exchange (context, messages, run reports), each a
# modules/bucket: encrypted (the lake and Pipes with the platform's key, the logs with SSE-S3),
# versioned, never public, TLS only; with var.athena_workgroup, the workgroup's query results too.
locals {
  logs_bucket_name = "${var.name}-logs-${local.account_id}"
  logs_bucket_arn  = "arn:${local.partition}:s3:::${local.logs_bucket_name}"
}

# The logs bucket is SSE-S3, not SSE-KMS: AWS delivers S3 server access logs and Redshift audit
# logs only into a bucket whose default encryption is SSE-S3 (S3 User Guide, "Enabling Amazon S3
# server access logging"; Redshift Management Guide, "Database audit logging"); VPC flow logs
# accept either. It holds logs only (access, flow, audit, the runs' own), never lake data.
module "logs_bucket" {
  source          = "./modules/bucket"
  name            = local.logs_bucket_name
  kms_key_arn     = null
  noncurrent_days = 7
  expire          = { for prefix in ["runs/", "AWSLogs/", "access/", "redshift/"] : prefix => var.log_retention_days }
  policy_json     = data.aws_iam_policy_document.log_delivery.json
}

module "lake_bucket" {
  source          = "./modules/bucket"
  name            = "${var.name}-lake-${local.account_id}"
  kms_key_arn     = aws_kms_key.platform.arn
  noncurrent_days = 30                             # a republished partition's previous files, kept a while
  expire          = { "lake/_staging/loads/" = 1 } # COPY manifests a killed load could not remove
  logging_target  = { bucket = module.logs_bucket.id, prefix = "access/lake/" }
  depends_on      = [module.logs_bucket] # S3 may write access logs only once the policy allows it
}

module "pipes_bucket" {
  source          = "./modules/bucket"
  name            = "${var.name}-pipes-${local.account_id}"
  kms_key_arn     = aws_kms_key.platform.arn
  noncurrent_days = 1
  expire          = { "" = 30 } # Pipes context and messages, and run reports once recorded
  logging_target  = { bucket = module.logs_bucket.id, prefix = "access/pipes/" }
  depends_on      = [module.logs_bucket]
}

# Athena's query results (athena.tf): copies of what readers selected from the lake, so the
# platform's key, and kept 30 days; the lake itself never holds them.
module "athena_results" {
  count           = var.athena_workgroup ? 1 : 0
  source          = "./modules/bucket"
  name            = "${var.name}-athena-${local.account_id}"
  kms_key_arn     = aws_kms_key.platform.arn
  noncurrent_days = 1
  expire          = { "" = 30 }
  logging_target  = { bucket = module.logs_bucket.id, prefix = "access/athena/" }
  depends_on      = [module.logs_bucket]
}

# The logs bucket also takes S3 access logs, VPC flow logs and Redshift's audit logs.
data "aws_iam_policy_document" "log_delivery" {
  dynamic "statement" {
    for_each = toset(concat(["lake", "pipes"], var.athena_workgroup ? ["athena"] : []))
    content {
      sid       = "S3AccessLogs${title(statement.value)}"
      actions   = ["s3:PutObject"]
      resources = ["${local.logs_bucket_arn}/access/${statement.value}/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }

  statement {
    sid       = "FlowAndAuditLogs"
    actions   = ["s3:PutObject"]
    resources = ["${local.logs_bucket_arn}/AWSLogs/*", "${local.logs_bucket_arn}/redshift/*"]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com", "redshift.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "FlowAndAuditLogsChecks"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.logs_bucket_arn]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com", "redshift.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
