# The warehouse either way: a provisioned cluster by default, Redshift Serverless as the option.
# moto has no Redshift Serverless, so this is its proof: plans in which the endpoints and secrets
# AWS would return are given (override_during = plan), so the jobs' settings and IAM that follow
# the choice are known.
override_resource {
  target          = aws_redshift_cluster.warehouse
  override_during = plan
  values = {
    dns_name                   = "platform.abc123.us-east-1.redshift.amazonaws.com"
    port                       = 5439
    master_password_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!cluster-admin"
  }
}

override_resource {
  target          = aws_redshiftserverless_workgroup.warehouse
  override_during = plan
  values = {
    endpoint = [{
      address      = "data-platform.123456789012.us-east-1.redshift-serverless.amazonaws.com"
      port         = 5439
      vpc_endpoint = []
    }]
  }
}

override_resource {
  target          = aws_redshiftserverless_namespace.warehouse
  override_during = plan
  values = {
    admin_password_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!namespace-admin"
  }
}

override_resource {
  target          = aws_iam_role.this["redshift-copy"]
  override_during = plan
  values = {
    arn = "arn:aws:iam::123456789012:role/data-platform-redshift-copy"
  }
}

run "provisioned_by_default" {
  command = plan
  assert {
    condition     = length(aws_redshift_cluster.warehouse) == 1 && length(aws_redshift_logging.warehouse) == 1
    error_message = "a cluster, its audit logging"
  }
  assert {
    condition     = length(aws_redshiftserverless_namespace.warehouse) + length(aws_redshiftserverless_workgroup.warehouse) == 0
    error_message = "no serverless namespace or workgroup"
  }
  assert {
    condition     = length(aws_subnet.private) == 2
    error_message = "two zones"
  }
  assert {
    condition     = local.job_settings.PLATFORM_REDSHIFT_HOST == "platform.abc123.us-east-1.redshift.amazonaws.com"
    error_message = "the jobs connect to the cluster: ${local.job_settings.PLATFORM_REDSHIFT_HOST}"
  }
  assert {
    condition     = local.job_settings.PLATFORM_REDSHIFT_SECRET_ARN == "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!cluster-admin"
    error_message = "the jobs read the cluster's admin secret"
  }
}

run "serverless" {
  command = plan
  variables {
    warehouse = "serverless"
  }
  assert {
    condition     = length(aws_redshift_cluster.warehouse) + length(aws_redshift_parameter_group.warehouse) + length(aws_redshift_subnet_group.warehouse) + length(aws_redshift_logging.warehouse) == 0
    error_message = "no cluster, parameter group, subnet group or cluster logging"
  }
  assert {
    condition     = length(aws_redshiftserverless_namespace.warehouse) == 1 && length(aws_redshiftserverless_workgroup.warehouse) == 1
    error_message = "a namespace and a workgroup"
  }
  assert {
    condition     = length(aws_subnet.private) == 3
    error_message = "three zones' private subnets (the workgroup's: test_the_serverless_workgroup_uses_the_platforms_network)"
  }
  assert {
    condition     = !aws_redshiftserverless_workgroup.warehouse[0].publicly_accessible && aws_redshiftserverless_workgroup.warehouse[0].enhanced_vpc_routing
    error_message = "private, enhanced VPC routing"
  }
  assert {
    condition     = contains([for p in aws_redshiftserverless_workgroup.warehouse[0].config_parameter : "${p.parameter_key}=${p.parameter_value}"], "require_ssl=true")
    error_message = "TLS required"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.warehouse[0].kms_key_id == aws_kms_key.platform.arn && aws_redshiftserverless_namespace.warehouse[0].manage_admin_password
    error_message = "encrypted with the platform's key; the admin password managed by Redshift"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.warehouse[0].admin_password_secret_kms_key_id == aws_kms_key.platform.arn
    error_message = "the admin secret encrypted with the platform's key"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.warehouse[0].iam_roles == toset([aws_iam_role.this["redshift-copy"].arn]) && aws_redshiftserverless_namespace.warehouse[0].default_iam_role_arn == aws_iam_role.this["redshift-copy"].arn
    error_message = "the COPY/UNLOAD role attached"
  }
  assert {
    condition     = local.job_settings.PLATFORM_REDSHIFT_HOST == "data-platform.123456789012.us-east-1.redshift-serverless.amazonaws.com" && local.job_settings.PLATFORM_REDSHIFT_PORT == "5439"
    error_message = "the jobs connect to the workgroup: ${local.job_settings.PLATFORM_REDSHIFT_HOST}"
  }
  assert {
    condition     = local.job_settings.PLATFORM_REDSHIFT_SECRET_ARN == "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!namespace-admin" && output.redshift_admin_secret_arn == local.job_settings.PLATFORM_REDSHIFT_SECRET_ARN
    error_message = "the jobs read the namespace's admin secret"
  }
  assert {
    condition     = contains(flatten([for s in data.aws_iam_policy_document.job.statement : s.resources if s.sid == "WarehousePassword"]), "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!namespace-admin")
    error_message = "the job role may read the namespace's admin secret"
  }
  assert {
    condition     = contains(flatten([for p in data.aws_iam_policy_document.assume["redshift.amazonaws.com"].statement[0].principals : p.identifiers]), "redshift-serverless.amazonaws.com")
    error_message = "Redshift Serverless may assume the COPY/UNLOAD role"
  }
  assert {
    condition     = output.redshift_host == local.job_settings.PLATFORM_REDSHIFT_HOST
    error_message = "the output names the workgroup too"
  }
}

run "refuses_an_unknown_warehouse" {
  command = plan
  variables {
    warehouse = "dedicated"
  }
  expect_failures = [var.warehouse]
}

run "refuses_a_max_capacity_below_the_base" {
  command = plan
  variables {
    warehouse                         = "serverless"
    redshift_serverless_base_capacity = 32
    redshift_serverless_max_capacity  = 16
  }
  expect_failures = [var.redshift_serverless_max_capacity]
}
