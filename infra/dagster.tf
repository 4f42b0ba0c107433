# Dagster's control plane: the webserver and exactly one daemon on ECS Fargate in the private
# subnets, their storage in RDS PostgreSQL, the image in its own ECR repository.
#
# No separate code-location server: the webserver and the daemon each load the code location
# (platform_assets.definitions, workspace.yaml) from the same image, and a run is a subprocess of
# the daemon's task (deploy/dagster.yaml: DefaultRunLauncher) whose work happens in AWS Batch.
#
# Dagster's examples/deploy_ecs passes the PostgreSQL password as a plain environment value and
# opens port 80 to the world. Here RDS keeps the password in Secrets Manager and ECS's agent puts
# it into the containers (the task's `secrets`), nothing listens on the internet (var.dagster_ui:
# no load balancer, or an internal HTTPS one, with OIDC as an option), and each security group
# lets through only the ports below.

locals {
  dagster_name     = "${var.name}-dagster"
  dagster_lb       = var.dagster_ui != "none"
  dagster_oidc     = var.dagster_ui == "alb_oidc"
  dagster_lb_tag   = trimsuffix(substr(local.dagster_name, 0, 32), "-") # load balancers: 32 characters
  dagster_ui_cidrs = length(var.dagster_ui_cidrs) > 0 ? var.dagster_ui_cidrs : [var.vpc_cidr]
  dagster_port     = 3000

  # RDS keeps the master password in this secret and rotates it.
  dagster_db_secret_arn = aws_db_instance.dagster.master_user_secret[0].secret_arn

  # What the code location reads in aws mode (the jobs' settings, so that it resolves the same
  # lake, reports, logs and warehouse) plus the state machine it runs main.py through, and what
  # deploy/dagster.yaml reads. Never a secret: the password is in `secrets` below.
  dagster_environment = merge(local.job_settings, var.job_environment, {
    PLATFORM_STATE_MACHINE_ARN  = aws_sfn_state_machine.main.arn
    PLATFORM_PIPES_BUCKET       = local.pipes_bucket.bucket
    DAGSTER_PG_HOST             = aws_db_instance.dagster.address
    DAGSTER_PG_PORT             = tostring(aws_db_instance.dagster.port)
    DAGSTER_PG_DB               = aws_db_instance.dagster.db_name
    DAGSTER_PG_USER             = aws_db_instance.dagster.username
    PGSSLMODE                   = "require" # libpq: TLS or nothing (the server insists too: rds.force_ssl)
    DAGSTER_EVENT_BATCH_SIZE    = "1000"
    DAGSTER_MAX_CONCURRENT_RUNS = tostring(var.dagster_max_concurrent_runs)
  })
  dagster_secrets = [
    { name = "DAGSTER_PG_PASSWORD", valueFrom = "${local.dagster_db_secret_arn}:password::" },
  ]

  dagster_container = {
    image       = "${aws_ecr_repository.image["dagster"].repository_url}:${var.dagster_image_tag}"
    essential   = true
    environment = [for name, value in local.dagster_environment : { name = name, value = value }]
    secrets     = local.dagster_secrets
    # Dagster writes under $DAGSTER_HOME (compute logs, the UI's state) and /tmp. A deliberate
    # exception that checkov's CKV_AWS_336 does not see: it cannot read definitions built here.
    readonlyRootFilesystem = false
    linuxParameters        = { initProcessEnabled = true } # reaps ECS Exec's session processes
    stopTimeout            = 120                           # the daemon's runs get Fargate's longest notice
  }
  dagster_containers = {
    webserver = merge(local.dagster_container, {
      name         = "dagster-webserver"
      command      = ["dagster-webserver", "-h", "0.0.0.0", "-p", tostring(local.dagster_port), "-w", "workspace.yaml"]
      portMappings = [{ containerPort = local.dagster_port, protocol = "tcp" }]
      healthCheck = {
        command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${local.dagster_port}/server_info', timeout=5)"]
        interval    = 30
        timeout     = 10
        retries     = 3
        startPeriod = 120
      }
      logConfiguration = local.dagster_log_configuration["webserver"]
    })
    daemon = merge(local.dagster_container, {
      name         = "dagster-daemon"
      command      = ["dagster-daemon", "run", "-w", "workspace.yaml"]
      portMappings = []
      healthCheck = { # lenient: a replaced daemon ends the runs in its task
        command     = ["CMD", "dagster-daemon", "liveness-check"]
        interval    = 120
        timeout     = 60
        retries     = 3
        startPeriod = 300
      }
      logConfiguration = local.dagster_log_configuration["daemon"]
    })
  }
  dagster_log_configuration = {
    for process in ["webserver", "daemon"] : process => {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.dagster.name
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = process
      }
    }
  }
}

# --- Logs ----------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "dagster" {
  name              = "/aws/ecs/${local.dagster_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_cloudwatch_log_group" "dagster_exec" {
  name              = "/aws/ecs/${local.dagster_name}/exec" # what ECS Exec sessions type and see
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.platform.arn
}

# RDS would create these itself, unencrypted and kept forever; made first, they are ours.
resource "aws_cloudwatch_log_group" "dagster_db" {
  for_each          = toset(["postgresql", "upgrade"])
  name              = "/aws/rds/instance/${local.dagster_name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.platform.arn
}

# --- Network: who may talk to whom ------------------------------------------------------------

resource "aws_security_group" "dagster" {
  name        = local.dagster_name
  description = "Dagster tasks: out to the VPC endpoints, S3 and their database only"
  vpc_id      = aws_vpc.platform.id
}

resource "aws_security_group" "dagster_db" {
  name        = "${local.dagster_name}-db"
  description = "Dagster's PostgreSQL: its port from the Dagster tasks"
  vpc_id      = aws_vpc.platform.id
}

resource "aws_security_group" "dagster_lb" {
  count       = local.dagster_lb ? 1 : 0
  name        = "${local.dagster_name}-lb"
  description = "Dagster's internal load balancer: HTTPS from var.dagster_ui_cidrs"
  vpc_id      = aws_vpc.platform.id
}

locals {
  dagster_groups = merge(
    {
      dagster   = aws_security_group.dagster.id
      db        = aws_security_group.dagster_db.id
      endpoints = aws_security_group.endpoints.id
    },
    local.dagster_lb ? { lb = aws_security_group.dagster_lb[0].id } : {},
  )
  # written by network.tf's rules between groups
  dagster_rules = merge(
    {
      dagster_to_endpoints   = { direction = "egress", group = "dagster", port = 443, peer = "endpoints", text = "HTTPS to the interface endpoints" }
      dagster_to_db          = { direction = "egress", group = "dagster", port = 5432, peer = "db", text = "PostgreSQL" }
      endpoints_from_dagster = { direction = "ingress", group = "endpoints", port = 443, peer = "dagster", text = "HTTPS from the Dagster tasks" }
      db_from_dagster        = { direction = "ingress", group = "db", port = 5432, peer = "dagster", text = "PostgreSQL from the Dagster tasks" }
    },
    local.dagster_lb ? {
      lb_to_dagster   = { direction = "egress", group = "lb", port = local.dagster_port, peer = "dagster", text = "The webserver" }
      dagster_from_lb = { direction = "ingress", group = "dagster", port = local.dagster_port, peer = "lb", text = "The webserver, from the load balancer" }
    } : {},
  )
}

resource "aws_vpc_security_group_egress_rule" "dagster_to_s3" {
  security_group_id = aws_security_group.dagster.id
  description       = "HTTPS to S3 through the gateway endpoint (image layers, Pipes, reports)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

# Users reach the internal load balancer from these ranges only (a VPN, a peered network);
# var.dagster_ui_cidrs refuses 0.0.0.0/0.
resource "aws_vpc_security_group_ingress_rule" "dagster_lb_from_users" {
  for_each          = local.dagster_lb ? toset(local.dagster_ui_cidrs) : toset([])
  security_group_id = aws_security_group.dagster_lb[0].id
  description       = "HTTPS from the UI's users"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

# OIDC: the load balancer itself calls the identity provider's token and user-info endpoints,
# wherever they are; the private subnets need a way out for it (the network's egress).
resource "aws_vpc_security_group_egress_rule" "dagster_lb_to_identity_provider" {
  count             = local.dagster_oidc ? 1 : 0
  security_group_id = aws_security_group.dagster_lb[0].id
  description       = "HTTPS to the OIDC identity provider"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# --- The database --------------------------------------------------------------------------------

resource "aws_db_subnet_group" "dagster" {
  name       = local.dagster_name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "dagster" {
  name   = local.dagster_name
  family = "postgres${split(".", var.dagster_db_engine_version)[0]}"

  parameter {
    name  = "rds.force_ssl" # plain connections refused
    value = "1"
  }
  parameter {
    name  = "log_statement" # schema changes (Dagster's migrations) in the log
    value = "ddl"
  }
  parameter {
    name  = "log_min_duration_statement" # and statements slower than a second
    value = "1000"
  }
}

resource "aws_db_instance" "dagster" {
  identifier                            = local.dagster_name
  engine                                = "postgres"
  engine_version                        = var.dagster_db_engine_version
  instance_class                        = var.dagster_db_instance_class
  allocated_storage                     = var.dagster_db_storage_gib
  max_allocated_storage                 = var.dagster_db_storage_gib * 5
  storage_type                          = "gp3"
  storage_encrypted                     = true
  kms_key_id                            = aws_kms_key.platform.arn
  db_name                               = "dagster"
  username                              = "dagster"
  manage_master_user_password           = true
  master_user_secret_kms_key_id         = aws_kms_key.platform.arn
  iam_database_authentication_enabled   = var.dagster_db_iam_authentication
  db_subnet_group_name                  = aws_db_subnet_group.dagster.name
  vpc_security_group_ids                = [aws_security_group.dagster_db.id]
  parameter_group_name                  = aws_db_parameter_group.dagster.name
  publicly_accessible                   = false
  multi_az                              = var.dagster_db_multi_az
  ca_cert_identifier                    = "rds-ca-rsa2048-g1"
  backup_retention_period               = var.dagster_db_backup_days
  copy_tags_to_snapshot                 = true
  deletion_protection                   = var.dagster_deletion_protection
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "${local.dagster_name}-final"
  auto_minor_version_upgrade            = true
  enabled_cloudwatch_logs_exports       = keys(aws_cloudwatch_log_group.dagster_db)
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.platform.arn
  performance_insights_retention_period = 7 # the free tier
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.dagster_db_monitoring.arn
  depends_on                            = [aws_cloudwatch_log_group.dagster_db]
}

# --- Roles ---------------------------------------------------------------------------------------

# ECS's agent: pull the Dagster image (ECR decrypts its layers through its own grant on the key),
# write the containers' logs, read the database's secret and nothing else.
data "aws_iam_policy_document" "dagster_execution" {
  # checkov:skip=CKV_AWS_111: ecr:GetAuthorizationToken takes no resource ARN
  # checkov:skip=CKV_AWS_356: ecr:GetAuthorizationToken takes no resource ARN
  statement {
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.image["dagster"].arn]
  }
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dagster.arn}:*"]
  }
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.dagster_db_secret_arn]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

# The Dagster processes: iam.tf's Dagster policy (the state machine, the Pipes bucket, the key)
# and ECS Exec's channel and session log.
data "aws_iam_policy_document" "dagster_exec" {
  # checkov:skip=CKV_AWS_111: ssmmessages' channel actions and logs:DescribeLogGroups take no resource ARNs
  # checkov:skip=CKV_AWS_356: ssmmessages' channel actions and logs:DescribeLogGroups take no resource ARNs
  statement {
    actions = [
      "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
  statement {
    actions   = ["logs:DescribeLogGroups"] # the agent checks the session log's encryption
    resources = ["*"]
  }
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dagster_exec.arn}:*"]
  }
}

resource "aws_iam_role" "dagster_execution" {
  name               = "${local.dagster_name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume["ecs-tasks.amazonaws.com"].json
}

resource "aws_iam_role_policy" "dagster_execution" {
  role   = aws_iam_role.dagster_execution.id
  policy = data.aws_iam_policy_document.dagster_execution.json
}

resource "aws_iam_role" "dagster" {
  name               = local.dagster_name
  assume_role_policy = data.aws_iam_policy_document.assume["ecs-tasks.amazonaws.com"].json
}

resource "aws_iam_role_policy_attachment" "dagster" {
  role       = aws_iam_role.dagster.name
  policy_arn = aws_iam_policy.dagster.arn
}

resource "aws_iam_role_policy" "dagster_exec" {
  role   = aws_iam_role.dagster.id
  policy = data.aws_iam_policy_document.dagster_exec.json
}

# RDS enhanced monitoring publishes the instance's OS metrics through this role.
data "aws_iam_policy_document" "dagster_db_monitoring" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "dagster_db_monitoring" {
  name               = "${local.dagster_name}-db-monitoring"
  assume_role_policy = data.aws_iam_policy_document.dagster_db_monitoring.json
}

resource "aws_iam_role_policy_attachment" "dagster_db_monitoring" {
  role       = aws_iam_role.dagster_db_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# --- ECS -----------------------------------------------------------------------------------------

resource "aws_ecs_cluster" "dagster" {
  # checkov:skip=CKV_AWS_224: ECS Exec sessions are TLS (Session Manager); a KMS layer on top would need a KMS interface endpoint this closed network does not have; the session log is KMS-encrypted
  name = local.dagster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  configuration {
    execute_command_configuration {
      logging = "OVERRIDE"
      log_configuration {
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.dagster_exec.name
        cloud_watch_encryption_enabled = true
      }
    }
  }
}

resource "aws_ecs_task_definition" "dagster" {
  for_each                 = local.dagster_containers
  family                   = "${local.dagster_name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.dagster_task_sizes[each.key].cpu
  memory                   = var.dagster_task_sizes[each.key].memory
  execution_role_arn       = aws_iam_role.dagster_execution.arn
  task_role_arn            = aws_iam_role.dagster.arn
  container_definitions    = jsonencode([each.value])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
}

resource "aws_ecs_service" "dagster_webserver" {
  name                               = "dagster-webserver"
  cluster                            = aws_ecs_cluster.dagster.id
  task_definition                    = aws_ecs_task_definition.dagster["webserver"].arn
  desired_count                      = var.dagster_webserver_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = true # the port forwarding to the UI (README)
  propagate_tags                     = "SERVICE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = local.dagster_lb ? 120 : null

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.dagster.id]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = local.dagster_lb ? [1] : []
    content {
      target_group_arn = aws_lb_target_group.dagster[0].arn
      container_name   = "dagster-webserver"
      container_port   = local.dagster_port
    }
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.dagster, aws_iam_role_policy.dagster_exec]
}

# Exactly one daemon, ever: a deployment stops the old task before it starts the new one
# (0% / 100%), so two never run schedules and sensors side by side.
resource "aws_ecs_service" "dagster_daemon" {
  name                               = "dagster-daemon"
  cluster                            = aws_ecs_cluster.dagster.id
  task_definition                    = aws_ecs_task_definition.dagster["daemon"].arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = true
  propagate_tags                     = "SERVICE"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.dagster.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_iam_role_policy.dagster_exec]
}

# --- The UI's load balancer (var.dagster_ui = "internal_alb" or "alb_oidc") --------------------

resource "aws_lb" "dagster" {
  # checkov:skip=CKV_AWS_91: ALB access logs go only to SSE-S3 buckets, and the platform's buckets are KMS-encrypted; requests reach CloudWatch as the webserver's log
  # checkov:skip=CKV2_AWS_28: internal, reachable only from var.dagster_ui_cidrs, TLS, optionally OIDC; a WAF is the deployment's choice
  # checkov:skip=CKV2_AWS_76: no WAF (as above), so no Log4j rule set; the webserver is Python
  count                      = local.dagster_lb ? 1 : 0
  name                       = local.dagster_lb_tag
  internal                   = true
  load_balancer_type         = "application"
  subnets                    = aws_subnet.private[*].id
  security_groups            = [aws_security_group.dagster_lb[0].id]
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = var.dagster_deletion_protection
}

resource "aws_lb_target_group" "dagster" {
  # checkov:skip=CKV_AWS_378: TLS ends at the load balancer; the hop to the webserver stays inside the VPC, between two security groups
  count       = local.dagster_lb ? 1 : 0
  name        = local.dagster_lb_tag
  port        = local.dagster_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.platform.id

  health_check {
    path    = "/server_info"
    matcher = "200"
  }
}

resource "aws_lb_listener" "dagster" {
  count             = local.dagster_lb ? 1 : 0
  load_balancer_arn = aws_lb.dagster[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.dagster_certificate_arn

  dynamic "default_action" {
    for_each = local.dagster_oidc ? [var.dagster_oidc] : []
    content {
      type  = "authenticate-oidc"
      order = 1
      authenticate_oidc {
        issuer                     = default_action.value.issuer
        authorization_endpoint     = default_action.value.authorization_endpoint
        token_endpoint             = default_action.value.token_endpoint
        user_info_endpoint         = default_action.value.user_info_endpoint
        client_id                  = default_action.value.client_id
        client_secret              = default_action.value.client_secret
        on_unauthenticated_request = "authenticate"
      }
    }
  }

  default_action {
    type             = "forward"
    order            = local.dagster_oidc ? 2 : 1
    target_group_arn = aws_lb_target_group.dagster[0].arn
  }
}
