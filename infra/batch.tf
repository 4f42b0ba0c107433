# Fargate in the private subnets; one queue; one job definition that runs main.py from the image,
# with the platform's settings in its environment (Step Functions adds the command and Pipes).
resource "aws_cloudwatch_log_group" "jobs" {
  name              = "/aws/batch/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_batch_compute_environment" "fargate" {
  compute_environment_name = var.name
  type                     = "MANAGED"
  state                    = "ENABLED"
  service_role             = var.batch_service_role_arn # null: Batch's service-linked role

  compute_resources {
    type               = "FARGATE"
    max_vcpus          = var.max_vcpus
    subnets            = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.jobs.id]
  }
}

resource "aws_batch_job_queue" "main" {
  name     = var.name
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.fargate.arn
  }
}

resource "aws_batch_job_definition" "main" {
  name                  = var.name
  type                  = "container"
  platform_capabilities = ["FARGATE"]

  retry_strategy {
    attempts = 2
    evaluate_on_exit {
      on_status_reason = "Host EC2*" # the machine went away: run it again
      action           = "RETRY"
    }
    evaluate_on_exit {
      on_reason = "CannotPullContainerError*"
      action    = "RETRY"
    }
    evaluate_on_exit {
      on_reason = "*" # main.py failed: Step Functions decides (its own Retry, then Catch)
      action    = "EXIT"
    }
  }

  timeout {
    attempt_duration_seconds = var.job_timeout_seconds
  }

  container_properties = jsonencode({
    image            = "${aws_ecr_repository.image["main"].repository_url}:${var.image_tag}"
    command          = ["list"]
    jobRoleArn       = aws_iam_role.this["job"].arn
    executionRoleArn = aws_iam_role.this["job-execution"].arn
    resourceRequirements = [
      { type = "VCPU", value = var.job_vcpu },
      { type = "MEMORY", value = var.job_memory_mib },
    ]
    networkConfiguration         = { assignPublicIp = "DISABLED" }
    fargatePlatformConfiguration = { platformVersion = "LATEST" }
    readonlyRootFilesystem       = false
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.jobs.name
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = "main"
      }
    }
    environment = [for name, value in merge(local.job_settings, var.job_environment) : { name = name, value = value }]
  })
}

locals {
  # What main.py reads in the container (platform_assets/settings.py); README maps each one.
  job_settings = {
    PLATFORM_ENV                 = "aws"
    AWS_REGION                   = var.region
    PLATFORM_LAKE_URI            = local.lake_uri
    PLATFORM_REPORTS_URI         = local.reports_uri
    PLATFORM_LOGS_URI            = local.logs_uri
    PLATFORM_REDSHIFT_HOST       = local.redshift_endpoint.host # the cluster's or the workgroup's (redshift.tf)
    PLATFORM_REDSHIFT_PORT       = tostring(local.redshift_endpoint.port)
    PLATFORM_REDSHIFT_DATABASE   = var.redshift_database
    PLATFORM_REDSHIFT_USER       = var.redshift_admin_user
    PLATFORM_REDSHIFT_SECRET_ARN = local.redshift_secret_arn
    PLATFORM_REDSHIFT_IAM_ROLE   = aws_iam_role.this["redshift-copy"].arn
    PLATFORM_GLUE_DATABASE       = aws_glue_catalog_database.lake.name # the Iceberg tables' (glue.tf)
  }
}
