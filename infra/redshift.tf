# The warehouse, var.warehouse: a provisioned cluster (default) or Redshift Serverless (a namespace
# and a workgroup). Either sits in the private subnets behind the warehouse security group,
# encrypted with the platform's key, not publicly accessible, with enhanced VPC routing (COPY and
# UNLOAD go through the VPC's S3 endpoint), TLS required, audit logs kept (the cluster's to the logs
# bucket, the namespace's to CloudWatch), the admin password in Secrets Manager, and the COPY/UNLOAD
# role attached. The jobs' settings and IAM follow the chosen one through these locals.
locals {
  provisioned = var.warehouse == "provisioned"
  serverless  = var.warehouse == "serverless"

  # The user's parameters under the required ones: no override can turn TLS off.
  redshift_parameters = merge(var.redshift_parameters, { require_ssl = "true" })
  # The workgroup holds every config parameter AWS returns, at its documented default unless set:
  # one left out reads back as a change at every plan (terraform-provider-aws #33899, #33916).
  workgroup_parameters = merge({
    auto_mv                          = "true"
    datestyle                        = "ISO, MDY"
    enable_case_sensitive_identifier = "false"
    enable_user_activity_logging     = "true"
    max_query_execution_time         = "14400"
    query_group                      = "default"
    search_path                      = "$user, public"
    use_fips_ssl                     = "false"
  }, local.redshift_parameters)

  # the one warehouse there is: the cluster's endpoint or the workgroup's
  redshift_endpoint = one(concat(
    [for cluster in aws_redshift_cluster.warehouse : { host = cluster.dns_name, port = cluster.port }],
    [for workgroup in aws_redshiftserverless_workgroup.warehouse : { host = workgroup.endpoint[0].address, port = workgroup.endpoint[0].port }],
  ))
  redshift_secret_arn = (
    !var.redshift_managed_password ? one(aws_secretsmanager_secret.redshift_admin[*].arn)
    : local.provisioned ? one(aws_redshift_cluster.warehouse[*].master_password_secret_arn)
    : one(aws_redshiftserverless_namespace.warehouse[*].admin_password_secret_arn)
  )
}

resource "aws_redshift_subnet_group" "warehouse" {
  count      = local.provisioned ? 1 : 0
  name       = var.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_redshift_parameter_group" "warehouse" {
  count = local.provisioned ? 1 : 0
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
  count                               = local.provisioned ? 1 : 0
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
  cluster_subnet_group_name           = aws_redshift_subnet_group.warehouse[0].name
  cluster_parameter_group_name        = aws_redshift_parameter_group.warehouse[0].name
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
  count                = local.provisioned ? 1 : 0
  cluster_identifier   = aws_redshift_cluster.warehouse[0].id
  log_destination_type = "s3"
  bucket_name          = local.logs_bucket.id
  s3_key_prefix        = "redshift/"
  depends_on           = [module.logs_bucket]
}

# Redshift Serverless (var.warehouse = "serverless"): the namespace holds the data, the admin user
# and the attached role; the workgroup is the compute, in three zones' private subnets.
resource "aws_redshiftserverless_namespace" "warehouse" {
  count                            = local.serverless ? 1 : 0
  namespace_name                   = var.name
  db_name                          = var.redshift_database
  admin_username                   = var.redshift_admin_user
  manage_admin_password            = var.redshift_managed_password ? true : null
  admin_password_secret_kms_key_id = var.redshift_managed_password ? aws_kms_key.platform.arn : null
  admin_user_password              = var.redshift_managed_password ? null : data.aws_secretsmanager_random_password.redshift_admin[0].random_password
  kms_key_id                       = aws_kms_key.platform.arn
  iam_roles                        = [aws_iam_role.this["redshift-copy"].arn]
  default_iam_role_arn             = aws_iam_role.this["redshift-copy"].arn
  log_exports                      = ["connectionlog", "userlog", "useractivitylog"] # to CloudWatch Logs

  lifecycle {
    ignore_changes = [admin_user_password] # as the cluster's master_password
  }
}

resource "aws_redshiftserverless_workgroup" "warehouse" {
  count                = local.serverless ? 1 : 0
  namespace_name       = aws_redshiftserverless_namespace.warehouse[0].namespace_name
  workgroup_name       = var.name
  base_capacity        = var.redshift_serverless_base_capacity
  max_capacity         = var.redshift_serverless_max_capacity
  port                 = 5439 # the warehouse security group's
  subnet_ids           = aws_subnet.private[*].id
  security_group_ids   = [aws_security_group.warehouse.id]
  publicly_accessible  = false
  enhanced_vpc_routing = true

  dynamic "config_parameter" {
    for_each = local.workgroup_parameters
    content {
      parameter_key   = config_parameter.key
      parameter_value = config_parameter.value
    }
  }
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
