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
