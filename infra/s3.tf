# The lake, the logs, and the Pipes exchange (context, messages, run reports): encrypted with the
# platform's key, versioned, never public, TLS only, each with lifecycle rules for what expires.
locals {
  buckets = {
    lake = {
      noncurrent_days = 30 # a republished partition's previous files, kept for a while
      expire          = {}
    }
    logs = {
      noncurrent_days = 7
      expire          = { "runs/" = var.log_retention_days, "vpc-flow-logs/" = var.log_retention_days, "access/" = var.log_retention_days, "redshift/" = var.log_retention_days }
    }
    pipes = {
      noncurrent_days = 1
      expire          = { "" = 30 } # Pipes context and messages, and run reports once recorded
    }
  }
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144: one region is the platform's scope; replicas are a deployment choice
  # checkov:skip=CKV2_AWS_62: nothing reacts to these objects' events
  for_each = local.buckets
  bucket   = "${var.name}-${each.key}-${local.account_id}"
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    bucket_key_enabled = true
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.platform.arn
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  depends_on = [aws_s3_bucket_versioning.this]

  rule {
    id     = "tidy"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = local.buckets[each.key].noncurrent_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  dynamic "rule" {
    for_each = local.buckets[each.key].expire
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
  for_each      = { for key, bucket in aws_s3_bucket.this : key => bucket if key != "logs" }
  bucket        = each.value.id
  target_bucket = local.logs_bucket.id
  target_prefix = "access/${each.key}/"
}

resource "aws_s3_bucket_policy" "this" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  policy     = each.key == "logs" ? data.aws_iam_policy_document.logs_bucket.json : data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The logs bucket also takes S3 access logs, VPC flow logs and Redshift's audit logs.
data "aws_iam_policy_document" "logs_bucket" {
  source_policy_documents = [data.aws_iam_policy_document.tls_only["logs"].json]

  statement {
    sid       = "ServiceLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${local.logs_bucket.arn}/access/*", "${local.logs_bucket.arn}/vpc-flow-logs/*", "${local.logs_bucket.arn}/redshift/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com", "delivery.logs.amazonaws.com", "redshift.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "ServiceLogDeliveryChecks"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.logs_bucket.arn]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com", "redshift.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
