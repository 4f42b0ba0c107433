# The lake's Glue database, the job role's and the readers' Glue access, the optional Athena
# workgroup, and the jobs' PLATFORM_GLUE_DATABASE, in plans (tests/infra/test_glue_offline.py).
# What AWS would return for the job definition's other references is given (override_during =
# plan), so that its container properties, the environment among them, are known in the plan.
override_resource {
  target          = aws_ecr_repository.image
  override_during = plan
  values = {
    repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/data-platform"
  }
}

override_resource {
  target          = aws_iam_role.this
  override_during = plan
  values = {
    arn = "arn:aws:iam::123456789012:role/data-platform-role"
  }
}

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
  target          = module.lake_bucket.aws_s3_bucket.this
  override_during = plan
  values = {
    arn = "arn:aws:s3:::data-platform-lake-123456789012"
  }
}

run "the_database_and_who_may_use_it" {
  command = plan
  assert {
    condition     = aws_glue_catalog_database.lake.name == "data_platform_lake" && output.glue_database == "data_platform_lake"
    error_message = "the database is the name with underscores, plus _lake: ${aws_glue_catalog_database.lake.name}"
  }
  assert {
    condition     = aws_glue_catalog_database.lake.location_uri == "s3://data-platform-lake-123456789012/lake" && strcontains(aws_glue_catalog_database.lake.description, "s3://data-platform-lake-123456789012/lake")
    error_message = "the database's location and description are the lake's URI"
  }
  assert {
    condition = toset(one([for s in data.aws_iam_policy_document.job.statement : s.resources if s.sid == "IcebergCatalog"])) == toset([
      "arn:aws:glue:us-east-1:123456789012:catalog",
      "arn:aws:glue:us-east-1:123456789012:database/data_platform_lake",
      "arn:aws:glue:us-east-1:123456789012:table/data_platform_lake/*",
    ])
    error_message = "the job role's Glue statement names the catalog, the database and its tables, nothing else"
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.job.statement : s.actions if s.sid == "IcebergCatalog"])) == toset(["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"])
    error_message = "the job role may get, create and update tables (pyiceberg's commits), nothing else"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.job.statement : s if anytrue([for a in s.actions : startswith(a, "glue:")])]) == 1
    error_message = "one statement of the job role names Glue"
  }
  assert {
    condition     = contains(one([for s in data.aws_iam_policy_document.job.statement : s.resources if s.sid == "ReadWriteObjects"]), "arn:aws:s3:::data-platform-lake-123456789012/lake/*")
    error_message = "the job role writes the lake, its Iceberg metadata under lake/_platform/ included"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.lake_reader.statement : alltrue([for a in s.actions : contains(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "kms:Decrypt"], a) || startswith(a, "glue:Get")])])
    error_message = "the readers' policy only reads"
  }
  assert {
    condition     = length(aws_glue_data_catalog_encryption_settings.account) == 0
    error_message = "the account's Data Catalog encryption settings are not ours by default"
  }
}

run "the_jobs_and_dagster_are_told_the_database" {
  command = plan
  assert {
    condition     = contains(jsondecode(aws_batch_job_definition.main.container_properties).environment, { name = "PLATFORM_GLUE_DATABASE", value = "data_platform_lake" })
    error_message = "the job definition's environment names the database"
  }
  assert {
    condition     = local.dagster_environment.PLATFORM_GLUE_DATABASE == "data_platform_lake"
    error_message = "the Dagster tasks' environment names it too"
  }
  assert {
    condition     = contains(keys(aws_vpc_endpoint.interface), "glue")
    error_message = "the jobs reach Glue through an interface endpoint"
  }
}

run "athena_absent_by_default" {
  command = plan
  assert {
    condition     = length(aws_athena_workgroup.lake) + length(module.athena_results) == 0 && output.athena_workgroup == null
    error_message = "no workgroup and no results bucket"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.lake_reader.statement : s if anytrue([for a in s.actions : startswith(a, "athena:")])]) == 0
    error_message = "the readers' policy names no Athena action"
  }
}

run "athena_workgroup" {
  command = plan
  variables {
    athena_workgroup = true
  }
  assert {
    condition     = length(aws_athena_workgroup.lake) == 1 && aws_athena_workgroup.lake[0].configuration[0].enforce_workgroup_configuration
    error_message = "a workgroup that enforces its configuration"
  }
  assert {
    condition     = aws_athena_workgroup.lake[0].configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS" && aws_athena_workgroup.lake[0].configuration[0].result_configuration[0].encryption_configuration[0].kms_key_arn == aws_kms_key.platform.arn
    error_message = "its results encrypted with the platform's key"
  }
  assert {
    condition     = aws_athena_workgroup.lake[0].configuration[0].result_configuration[0].output_location == "s3://data-platform-athena-123456789012/results/" && module.athena_results[0].encryption == "aws:kms"
    error_message = "its results in a bucket of their own, SSE-KMS"
  }
  assert {
    condition     = aws_athena_workgroup.lake[0].configuration[0].publish_cloudwatch_metrics_enabled && aws_athena_workgroup.lake[0].configuration[0].bytes_scanned_cutoff_per_query == 10737418240
    error_message = "metrics published; queries cut off past 10 GiB"
  }
  assert {
    condition     = aws_athena_workgroup.lake[0].configuration[0].engine_version[0].selected_engine_version == "Athena engine version 3"
    error_message = "engine version 3, which reads Iceberg"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.lake_reader.statement : s.resources if s.sid == "QueryInTheWorkgroup"]) == toset(["arn:aws:athena:us-east-1:123456789012:workgroup/data-platform"])
    error_message = "the readers may query in that workgroup only"
  }
  assert {
    condition     = contains([for s in data.aws_iam_policy_document.log_delivery.statement : s.sid], "S3AccessLogsAthena")
    error_message = "the results bucket's access logs may be delivered"
  }
}

run "encrypted_catalog_when_asked" {
  command = plan
  variables {
    glue_catalog_encryption = true
  }
  assert {
    condition     = aws_glue_data_catalog_encryption_settings.account[0].data_catalog_encryption_settings[0].encryption_at_rest[0].sse_aws_kms_key_id == aws_kms_key.platform.arn
    error_message = "the catalog encrypted with the platform's key"
  }
  assert {
    condition     = contains([for s in data.aws_iam_policy_document.lake_reader.statement : s.sid], "DecryptTheCatalog") && contains([for s in data.aws_iam_policy_document.job.statement : s.sid], "CatalogEncryption")
    error_message = "the job role and the readers may use the key through Glue"
  }
}

run "refuses_a_database_name_athena_cannot_read" {
  command = plan
  variables {
    glue_database = "Data-Lake"
  }
  expect_failures = [var.glue_database]
}
