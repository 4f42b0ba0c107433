output "id" {
  value = aws_s3_bucket.this.id
}

output "bucket" {
  value = aws_s3_bucket.this.bucket
}

output "arn" {
  value = aws_s3_bucket.this.arn
}

output "encryption" {
  description = "Default encryption of its objects: aws:kms (the platform's key) or AES256 (SSE-S3)."
  value       = var.kms_key_arn == null ? "AES256" : "aws:kms"
}
