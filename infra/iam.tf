# One role per principal, each allowed only what it does. No statement grants a wildcard action.

# EventBridge Scheduler: may start executions of the platform's state machine, nothing else.
data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.main.arn]
  }
}

# Step Functions: submit, follow and stop the platform's Batch jobs (the managed events rule is
# how `.sync` hears of a job's end), and write its logs.
data "aws_iam_policy_document" "state_machine" {
  # checkov:skip=CKV_AWS_111: TerminateJob is held to this account's and region's jobs (a job's ARN is its random id, known only once submitted); DescribeJobs and the log-delivery actions take no resource ARN
  # checkov:skip=CKV_AWS_356: DescribeJobs and the log-delivery actions take no resource ARN (Service Authorization Reference), so "*" is their only resource
  statement {
    sid       = "SubmitJobs"
    actions   = ["batch:SubmitJob"]
    resources = [aws_batch_job_queue.main.arn, "arn:${local.partition}:batch:${var.region}:${local.account_id}:job-definition/${var.name}:*"]
  }
  statement {
    sid       = "FollowJobs" # DescribeJobs has no resource type
    actions   = ["batch:DescribeJobs"]
    resources = ["*"]
  }
  statement {
    sid       = "StopJobs" # TerminateJob's resource type is job: arn:…:batch:<region>:<account>:job/<id>
    actions   = ["batch:TerminateJob"]
    resources = ["arn:${local.partition}:batch:${var.region}:${local.account_id}:job/*"]
  }
  statement {
    sid       = "SyncRule"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${var.region}:${local.account_id}:rule/StepFunctionsGetEventsForBatchJobsRule"]
  }
  statement {
    sid = "Logs"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }
}

# Batch's ECS agent: pull the image, write the container's log stream.
data "aws_iam_policy_document" "job_execution" {
  # checkov:skip=CKV_AWS_111: ecr:GetAuthorizationToken takes no resource ARN
  # checkov:skip=CKV_AWS_356: ecr:GetAuthorizationToken takes no resource ARN
  statement {
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.image["main"].arn]
  }
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.jobs.arn}:*"]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
  }
}

# The container (main.py): its buckets' prefixes (the lake's include the Iceberg metadata under
# lake/_platform/), the lake's Glue database (glue.tf), the warehouse's and the sources' secrets,
# the platform's key.
data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ReadWriteObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.lake_bucket.arn}/lake/*", "${local.pipes_bucket.arn}/*", "${local.logs_bucket.arn}/runs/*"]
  }
  statement {
    sid       = "ListPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket.arn, local.pipes_bucket.arn]
  }
  # pyiceberg's GlueCatalog: GetDatabase (the database's kind and location), GetTable(s), and
  # CreateTable, or UpdateTable with the VersionId it read (a commit that lost a race fails);
  # DeleteTable only when the lake moved and its table is registered again (the catalog entry
  # only: no files are deleted). The database is Terraform's, so no CreateDatabase.
  statement {
    sid       = "IcebergCatalog"
    actions   = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"]
    resources = [local.glue_catalog_arn, local.glue_database_arn, local.glue_tables_arn]
  }
  statement {
    sid       = "WarehousePassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.redshift_secret_arn]
  }
  dynamic "statement" {
    for_each = length(aws_secretsmanager_secret.source) > 0 ? [1] : []
    content {
      sid       = "SourceSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [for secret in aws_secretsmanager_secret.source : secret.arn]
    }
  }
  statement {
    sid       = "Encryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.platform.arn]
  }
  dynamic "statement" { # an encrypted Data Catalog (var.glue_catalog_encryption) wants Encrypt too
    for_each = var.glue_catalog_encryption ? [1] : []
    content {
      sid       = "CatalogEncryption"
      actions   = ["kms:Encrypt"]
      resources = [aws_kms_key.platform.arn]
    }
  }
}

# Redshift: read the lake for COPY, write the lake's exports for UNLOAD.
data "aws_iam_policy_document" "redshift_copy" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${local.lake_bucket.arn}/lake/*"]
  }
  statement {
    actions   = ["s3:PutObject"]
    resources = ["${local.lake_bucket.arn}/lake/exports/*"]
  }
  statement {
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.lake_bucket.arn]
  }
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.platform.arn]
  }
}

# Wherever Dagster runs: start, follow and stop executions; exchange Pipes context and messages;
# read the run reports. Attach this policy to Dagster's own role.
resource "aws_iam_policy" "dagster" {
  name   = "${var.name}-dagster"
  policy = data.aws_iam_policy_document.dagster.json
}

data "aws_iam_policy_document" "dagster" {
  statement {
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.main.arn]
  }
  statement {
    actions   = ["states:DescribeExecution", "states:StopExecution", "states:GetExecutionHistory"]
    resources = ["arn:${local.partition}:states:${var.region}:${local.account_id}:execution:${aws_sfn_state_machine.main.name}:*"]
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.pipes_bucket.arn}/*"]
  }
  statement {
    actions   = ["s3:ListBucket"]
    resources = [local.pipes_bucket.arn]
  }
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.platform.arn]
  }
}

# The lake's readers (Athena, Redshift Spectrum's role, Spark): attach this policy to them. It reads
# the lake's Glue database and tables and the lake's objects (decrypted through S3 only), never
# writes either; with var.athena_workgroup, it may run queries in that workgroup alone, whose
# results it writes to the workgroup's bucket.
resource "aws_iam_policy" "lake_reader" {
  name        = "${var.name}-lake-reader"
  description = "${var.name}: read the lake's Iceberg tables (Glue database ${local.glue_database})"
  policy      = data.aws_iam_policy_document.lake_reader.json
}

data "aws_iam_policy_document" "lake_reader" {
  statement {
    sid = "ReadCatalog"
    actions = [
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetTableVersion", "glue:GetTableVersions",
      "glue:GetPartition", "glue:GetPartitions",
    ]
    resources = [local.glue_catalog_arn, local.glue_database_arn, local.glue_tables_arn]
  }
  statement {
    sid       = "ReadLake"
    actions   = ["s3:GetObject"]
    resources = ["${local.lake_bucket.arn}/lake/*"]
  }
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["lake/*"]
    }
  }
  statement {
    sid       = "LocateBuckets"
    actions   = ["s3:GetBucketLocation"]
    resources = concat([local.lake_bucket.arn], module.athena_results[*].arn)
  }
  statement {
    sid       = "DecryptThroughS3"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
  dynamic "statement" { # an encrypted Data Catalog: Glue uses the key with the caller's permissions
    for_each = var.glue_catalog_encryption ? [1] : []
    content {
      sid       = "DecryptTheCatalog"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
      resources = [aws_kms_key.platform.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["glue.${var.region}.amazonaws.com"]
      }
    }
  }
  dynamic "statement" {
    for_each = var.athena_workgroup ? [1] : []
    content {
      sid = "QueryInTheWorkgroup"
      actions = [
        "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
        "athena:StopQueryExecution", "athena:GetWorkGroup",
      ]
      resources = [local.athena_workgroup_arn]
    }
  }
  dynamic "statement" {
    for_each = module.athena_results
    content {
      sid       = "WriteQueryResults"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
      resources = ["${statement.value.arn}/results/*"]
    }
  }
  dynamic "statement" {
    for_each = var.athena_workgroup ? [1] : []
    content {
      sid       = "EncryptQueryResults" # Athena writes them with the caller's permissions
      actions   = ["kms:GenerateDataKey"]
      resources = [aws_kms_key.platform.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${var.region}.amazonaws.com"]
      }
    }
  }
  dynamic "statement" {
    for_each = module.athena_results
    content {
      sid       = "ListQueryResults"
      actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
      resources = [statement.value.arn]
    }
  }
}

# The roles, each trusting one service and carrying its own policy from above.
locals {
  role_services = {
    scheduler       = "scheduler.amazonaws.com"
    "state-machine" = "states.amazonaws.com"
    "job-execution" = "ecs-tasks.amazonaws.com"
    job             = "ecs-tasks.amazonaws.com"
    "redshift-copy" = "redshift.amazonaws.com"
  }
  role_policies = {
    scheduler       = data.aws_iam_policy_document.scheduler.json
    "state-machine" = data.aws_iam_policy_document.state_machine.json
    "job-execution" = data.aws_iam_policy_document.job_execution.json
    job             = data.aws_iam_policy_document.job.json
    "redshift-copy" = data.aws_iam_policy_document.redshift_copy.json
  }
}

resource "aws_iam_role" "this" {
  for_each           = local.role_services
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume[each.value].json
}

resource "aws_iam_role_policy" "this" {
  for_each = local.role_policies
  role     = aws_iam_role.this[each.key].id
  policy   = each.value
}

# Trust policies; the services that pass aws:SourceAccount are held to this account (confused deputy).
# Redshift Serverless assumes the COPY/UNLOAD role as redshift-serverless.amazonaws.com as well.
locals {
  trusted_too = { "redshift.amazonaws.com" = local.serverless ? ["redshift-serverless.amazonaws.com"] : [] }
}

data "aws_iam_policy_document" "assume" {
  for_each = {
    "scheduler.amazonaws.com" = true
    "states.amazonaws.com"    = true
    "ecs-tasks.amazonaws.com" = false
    "redshift.amazonaws.com"  = false
  }
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = concat([each.key], lookup(local.trusted_too, each.key, []))
    }
    dynamic "condition" {
      for_each = each.value ? [local.account_id] : []
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [condition.value]
      }
    }
  }
}
