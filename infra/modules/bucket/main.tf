# A platform bucket: encrypted (with the platform's key where AWS allows it), versioned, never public, TLS only,
# owner-enforced, with lifecycle rules, and (where asked) access logs to the logs bucket.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144: one region is the platform's scope; replicas are a deployment choice
  # checkov:skip=CKV2_AWS_62: nothing reacts to these objects' events
  # checkov:skip=CKV_AWS_18: access logs go where the caller says (logging_target); the logs bucket does not log into itself
  bucket = var.name
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# With a key, SSE-KMS; without one (the logs bucket), SSE-S3: S3 access logs and Redshift's audit
# logs are delivered only into buckets whose default encryption is SSE-S3 (AES-256).
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    bucket_key_enabled = var.kms_key_arn == null ? null : true
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket     = aws_s3_bucket.this.id
  depends_on = [aws_s3_bucket_versioning.this]

  rule {
    id     = "tidy"
    status = "Enabled"
    filter {
      prefix = "" # every object
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  dynamic "rule" {
    for_each = var.expire
    content {
      id     = "expire-${rule.key == "" ? "all" : trimsuffix(rule.key, "/")}"
      status = "Enabled"
      filter {
        prefix = rule.key
      }
      expiration {
        days = rule.value
      }
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  count         = var.logging_target == null ? 0 : 1
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.logging_target.bucket
  target_prefix = var.logging_target.prefix
}

resource "aws_s3_bucket_policy" "this" {
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.this.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

data "aws_iam_policy_document" "this" {
  source_policy_documents = var.policy_json == null ? [] : [var.policy_json]

  statement {
    sid       = "TlsOnly" # every S3 action, on the bucket and its objects, over plain HTTP
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
