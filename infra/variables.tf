variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "data-platform"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name: lower-case letters, digits and dashes, 3 to 31 characters."
  }
}

variable "region" {
  description = "AWS region of everything."
  type        = string
  default     = "us-east-1"
}

variable "catalog_path" {
  description = "The platform's catalog: the schedules are read from it, never written here."
  type        = string
  default     = null
}

variable "vpc_cidr" {
  description = "Address range of the platform's VPC (private subnets only)."
  type        = string
  default     = "10.42.0.0/16"
}

variable "image_tag" {
  description = "Tag of the image in the ECR repository that the Batch jobs run (tags are immutable)."
  type        = string
  default     = "latest-release"
}

variable "job_vcpu" {
  description = "vCPUs of one Batch job (Fargate sizes)."
  type        = string
  default     = "1"
}

variable "job_memory_mib" {
  description = "Memory of one Batch job, MiB (Fargate sizes)."
  type        = string
  default     = "4096"
}

variable "job_timeout_seconds" {
  description = "A job running longer than this is stopped (Batch) and its state times out (Step Functions)."
  type        = number
  default     = 21600
}

variable "max_concurrent_jobs" {
  description = "Chunks of one execution that run at the same time."
  type        = number
  default     = 4
}

variable "max_vcpus" {
  description = "Upper bound of the Fargate compute environment."
  type        = number
  default     = 16
}

variable "redshift_node_type" {
  description = "Node type of the provisioned Redshift cluster."
  type        = string
  default     = "ra3.large"
}

variable "redshift_nodes" {
  description = "Number of Redshift nodes."
  type        = number
  default     = 2
}

variable "redshift_database" {
  description = "Database of the warehouse."
  type        = string
  default     = "platform"
}

variable "redshift_admin_user" {
  description = "Admin user of the cluster; its password is generated and kept in Secrets Manager."
  type        = string
  default     = "platform_admin"
}

variable "redshift_managed_password" {
  description = "Let Redshift generate and rotate the admin password in Secrets Manager. Off only where that is not available (an emulator): then a generated password is kept in a secret of ours."
  type        = bool
  default     = true
}

variable "redshift_parameters" {
  description = "Parameters of the cluster's parameter group (TLS required, activity logged)."
  type        = map(string)
  default = {
    require_ssl                  = "true"
    enable_user_activity_logging = "true"
  }
}

variable "log_retention_days" {
  description = "How long job and state machine logs are kept (CloudWatch and the logs bucket)."
  type        = number
  default     = 365
}

variable "batch_service_role_arn" {
  description = "Service role of the compute environment; null uses Batch's service-linked role (recommended)."
  type        = string
  default     = null
}

variable "job_environment" {
  description = "Extra environment for the jobs, on top of the platform's settings (overrides them)."
  type        = map(string)
  default     = {}
}

variable "alert_subscriptions" {
  description = "Who hears of a failed, timed-out or aborted execution: SNS subscriptions to the alerts topic, e.g. [{ protocol = \"email\", endpoint = \"oncall@example.com\" }] (an email subscriber confirms the mail AWS sends). Empty: the topic has no subscribers."
  type        = list(object({ protocol = string, endpoint = string }))
  default     = []

  validation {
    condition     = alltrue([for s in var.alert_subscriptions : contains(["email", "email-json", "https", "sqs", "lambda", "sms"], s.protocol)])
    error_message = "alert_subscriptions: protocol is one of email, email-json, https, sqs, lambda, sms (plain http is not offered)."
  }
}

# Dagster's control plane (infra/dagster.tf)

variable "dagster_image_tag" {
  description = "Tag of the Dagster image (deploy/dagster.Dockerfile) in the dagster ECR repository (tags are immutable)."
  type        = string
  default     = "latest-release"
}

variable "dagster_ui" {
  description = "How users reach Dagster's UI: \"none\" (no load balancer: SSM port forwarding through ECS Exec), \"internal_alb\" (an internal HTTPS load balancer) or \"alb_oidc\" (the same, signing users in through an OIDC identity provider, Cognito's too)."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "internal_alb", "alb_oidc"], var.dagster_ui)
    error_message = "dagster_ui: one of none, internal_alb, alb_oidc."
  }
}

variable "dagster_ui_cidrs" {
  description = "Address ranges that may reach the internal load balancer (a VPN, a peered network); empty: the VPC's own range."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.dagster_ui_cidrs : can(cidrnetmask(cidr)) && !endswith(cidr, "/0")])
    error_message = "dagster_ui_cidrs: IPv4 ranges, never the whole internet (/0)."
  }
}

variable "dagster_certificate_arn" {
  description = "ACM certificate of the internal load balancer's HTTPS listener (required unless dagster_ui is \"none\")."
  type        = string
  default     = null

  validation {
    condition     = var.dagster_ui == "none" || var.dagster_certificate_arn != null
    error_message = "dagster_certificate_arn: a load balancer (dagster_ui internal_alb or alb_oidc) listens on HTTPS only and needs a certificate."
  }
}

variable "dagster_oidc" {
  description = "The OIDC identity provider of dagster_ui = \"alb_oidc\" (issuer, endpoints, client)."
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
    client_secret          = string
  })
  default   = null
  sensitive = true

  validation {
    condition     = var.dagster_ui != "alb_oidc" || var.dagster_oidc != null
    error_message = "dagster_oidc: dagster_ui = \"alb_oidc\" needs the identity provider."
  }
}

variable "dagster_webserver_count" {
  description = "Webserver tasks (the daemon is always exactly one)."
  type        = number
  default     = 1
}

variable "dagster_task_sizes" {
  description = "CPU units and memory (MiB) of the webserver's and the daemon's tasks (Fargate sizes); the daemon's runs are its subprocesses."
  type        = map(object({ cpu = number, memory = number }))
  default = {
    webserver = { cpu = 1024, memory = 2048 }
    daemon    = { cpu = 1024, memory = 4096 }
  }

  validation {
    condition     = length(setsubtract(["webserver", "daemon"], keys(var.dagster_task_sizes))) == 0
    error_message = "dagster_task_sizes: sizes of webserver and daemon."
  }
}

variable "dagster_max_concurrent_runs" {
  description = "Runs the daemon starts at once (the queued run coordinator's limit)."
  type        = number
  default     = 5
}

variable "dagster_db_instance_class" {
  description = "Instance class of Dagster's PostgreSQL."
  type        = string
  default     = "db.t4g.medium"
}

variable "dagster_db_engine_version" {
  description = "PostgreSQL major version (minor versions are upgraded automatically); its parameter group family follows."
  type        = string
  default     = "17"
}

variable "dagster_db_storage_gib" {
  description = "Storage of Dagster's PostgreSQL, GiB (it grows by itself up to five times this)."
  type        = number
  default     = 20
}

variable "dagster_db_multi_az" {
  description = "A standby of Dagster's PostgreSQL in the other zone (failover in a minute or two)."
  type        = bool
  default     = true
}

variable "dagster_db_backup_days" {
  description = "Days of automated backups (point-in-time recovery) of Dagster's PostgreSQL."
  type        = number
  default     = 7
}

variable "dagster_db_iam_authentication" {
  description = "Allow IAM database authentication on Dagster's PostgreSQL besides the managed password."
  type        = bool
  default     = true
}

variable "dagster_deletion_protection" {
  description = "Protect Dagster's PostgreSQL and load balancer from deletion (turn off before a destroy)."
  type        = bool
  default     = true
}
