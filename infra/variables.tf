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
  description = "Address range of the platform's VPC: the private subnets take its first /20s, NAT gateways' public subnets (with egress = \"nat\") the /24s from .240 on."
  type        = string
  default     = "10.42.0.0/16"
}

variable "egress" {
  description = <<-EOT
    How the jobs reach the upstreams of the catalog's http_api and database sources. Read only when the catalog has such sources; a catalog of files sources keeps the network closed (no internet gateway, no NAT, no default route, no upstream egress rule) whatever this says.
    "nat" (default): an internet gateway, a public subnet and NAT gateway per zone (or one shared: nat_per_zone), and the private route tables' default route to them.
    "own": your own way out (a transit gateway, VPC peering, a VPN, or PrivateLink endpoints): nothing is created but the egress rules; add your route to each table of the private_route_table_ids output yourself, e.g. resource "aws_route" "out" { for_each = toset(<that output>)  route_table_id = each.key  destination_cidr_block = "0.0.0.0/0"  transit_gateway_id = "tgw-…" } (or vpc_peering_connection_id; a narrower destination_cidr_block with egress_cidr_blocks to match); PrivateLink endpoints in the VPC need no route.
    "none": no way out and no egress rules, even with such sources (they then fail to connect).
  EOT
  type        = string
  default     = "nat"

  validation {
    condition     = contains(["nat", "own", "none"], var.egress)
    error_message = "egress: one of \"nat\", \"own\" or \"none\"."
  }
}

variable "nat_per_zone" {
  description = "With egress = \"nat\": a NAT gateway in every zone, each zone's private route table to its own (a zone's outage leaves the other's jobs their way out), or false for one NAT gateway in the first zone shared by all (about half the hourly cost; cross-zone traffic, and the jobs lose their way out with that zone)."
  type        = bool
  default     = true
}

variable "egress_ports" {
  description = "TCP ports the jobs may open to their upstreams (with egress \"nat\" or \"own\"). null: 443 when the catalog has http_api sources, plus 5432 (PostgreSQL) and 3306 (MySQL, MariaDB) when it has database sources (their URLs sit in secrets, so the catalog does not say their ports); list yours instead, e.g. [443, 1433] for SQL Server."
  type        = list(number)
  default     = null

  validation {
    condition     = var.egress_ports == null ? true : alltrue([for port in var.egress_ports : port == floor(port) && port >= 1 && port <= 65535])
    error_message = "egress_ports: whole TCP port numbers from 1 to 65535."
  }
}

variable "egress_cidr_blocks" {
  description = "Where the jobs may open those ports: anywhere by default (an API's addresses are rarely fixed); narrow it to your upstreams' ranges, e.g. a client network behind your transit gateway."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.egress_cidr_blocks) > 0 && alltrue([for cidr in var.egress_cidr_blocks : can(cidrnetmask(cidr))])
    error_message = "egress_cidr_blocks: at least one IPv4 CIDR block, e.g. \"203.0.113.0/24\"."
  }
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

variable "warehouse" {
  description = "The Redshift the jobs load: \"provisioned\" (a cluster of redshift_nodes × redshift_node_type) or \"serverless\" (a Redshift Serverless namespace and workgroup, sized by redshift_serverless_base_capacity; its workgroup needs subnets in three zones, so the VPC then spans <region>a, b and c). The jobs' settings, the admin secret and the COPY/UNLOAD role follow the choice."
  type        = string
  default     = "provisioned"

  validation {
    condition     = contains(["provisioned", "serverless"], var.warehouse)
    error_message = "warehouse: \"provisioned\" or \"serverless\"."
  }
}

variable "redshift_serverless_base_capacity" {
  description = "With warehouse = \"serverless\": the workgroup's base capacity in RPUs (AWS takes 8 to 512 in steps of 8; some regions also 4)."
  type        = number
  default     = 8

  validation {
    condition     = var.redshift_serverless_base_capacity >= 4 && var.redshift_serverless_base_capacity <= 1024 && floor(var.redshift_serverless_base_capacity) == var.redshift_serverless_base_capacity
    error_message = "redshift_serverless_base_capacity: whole RPUs, 4 to 1024."
  }
}

variable "redshift_serverless_max_capacity" {
  description = "With warehouse = \"serverless\": the most RPUs the workgroup may scale to (bounds its cost); null leaves AWS's default."
  type        = number
  default     = null

  validation {
    condition     = var.redshift_serverless_max_capacity == null ? true : var.redshift_serverless_max_capacity >= var.redshift_serverless_base_capacity
    error_message = "redshift_serverless_max_capacity: at least the base capacity."
  }
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
  description = "Admin user of the warehouse (cluster or namespace); its password is generated and kept in Secrets Manager."
  type        = string
  default     = "platform_admin"
}

variable "redshift_managed_password" {
  description = "Let Redshift generate and rotate the admin password in Secrets Manager (the cluster's manage_master_password, the namespace's manage_admin_password). Off only where that is not available (an emulator): then a generated password is kept in a secret of ours."
  type        = bool
  default     = true
}

variable "redshift_parameters" {
  description = "Parameters of the warehouse (the cluster's parameter group; the serverless workgroup's config parameters), merged under the required ones: require_ssl is always \"true\", whatever this map holds. The default also logs user activity."
  type        = map(string)
  default = {
    enable_user_activity_logging = "true"
  }

  validation {
    condition     = lower(lookup(var.redshift_parameters, "require_ssl", "true")) == "true"
    error_message = "redshift_parameters: require_ssl is always \"true\" (the warehouse takes TLS only); leave it out."
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

# The lake's Iceberg catalog (infra/glue.tf) and its readers' Athena (infra/athena.tf)

variable "glue_database" {
  description = "Glue Data Catalog database the lake's Iceberg tables are registered in (the jobs' PLATFORM_GLUE_DATABASE). null: the name with dashes as underscores, plus \"_lake\" (data_platform_lake)."
  type        = string
  default     = null

  validation { # Athena and Redshift Spectrum take lower-case letters, digits and underscores only
    condition     = var.glue_database == null ? true : can(regex("^[a-z][a-z0-9_]{0,254}$", var.glue_database))
    error_message = "glue_database: a lower-case letter, then lower-case letters, digits and underscores, at most 255 characters."
  }
}

variable "glue_catalog_encryption" {
  description = "Also manage this account's and region's Glue Data Catalog encryption settings: metadata at rest and connection passwords with the platform's key. Account-wide (every database, every user of Glue in the region would need the key), so off unless this platform owns the account's catalog."
  type        = bool
  default     = false
}

variable "athena_workgroup" {
  description = "An Athena workgroup for the lake's readers (engine version 3, which reads Iceberg), its query results in a bucket of their own, encrypted with the platform's key; the lake_reader_policy_arn policy may then use it."
  type        = bool
  default     = false
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "With athena_workgroup: Athena cancels a query that scans more than this many bytes (AWS's minimum is 10 MB)."
  type        = number
  default     = 10737418240 # 10 GiB

  validation {
    condition     = var.athena_bytes_scanned_cutoff_per_query >= 10485760 && floor(var.athena_bytes_scanned_cutoff_per_query) == var.athena_bytes_scanned_cutoff_per_query
    error_message = "athena_bytes_scanned_cutoff_per_query: whole bytes, at least 10485760 (10 MB)."
  }
}
