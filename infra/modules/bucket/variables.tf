variable "name" {
  description = "The bucket's name."
  type        = string
}

variable "kms_key_arn" {
  description = "The key that encrypts every object (SSE-KMS); null for SSE-S3, the only default encryption that S3 access log and Redshift audit log delivery accept."
  type        = string
  default     = null
}

variable "noncurrent_days" {
  description = "Days a replaced or deleted object's previous version is kept."
  type        = number
}

variable "expire" {
  description = "Prefix → days after which its objects expire (\"\" is every object)."
  type        = map(number)
  default     = {}
}

variable "logging_target" {
  description = "Where S3 writes this bucket's access logs; null for none (the logs bucket itself)."
  type        = object({ bucket = string, prefix = string })
  default     = null
}

variable "policy_json" {
  description = "More statements for the bucket policy (log delivery into the logs bucket)."
  type        = string
  default     = null
}
