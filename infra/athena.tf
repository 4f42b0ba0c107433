# With var.athena_workgroup: an Athena workgroup for the lake's readers (iam.tf's lake_reader
# policy may use it), engine version 3 (the one that reads Iceberg tables), its settings enforced
# over the clients' (results always in its own bucket, SSE-KMS with the platform's key), a cutoff
# per query, and its metrics in CloudWatch. Its results bucket is s3.tf's athena_results.
locals {
  athena_workgroup_arn = "arn:${local.partition}:athena:${var.region}:${local.account_id}:workgroup/${var.name}"
}

resource "aws_athena_workgroup" "lake" {
  count       = var.athena_workgroup ? 1 : 0
  name        = var.name
  description = "${var.name}: queries over the lake's Iceberg tables (Glue database ${local.glue_database})"
  state       = "ENABLED"

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff_per_query
    requester_pays_enabled             = false

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location       = "s3://${module.athena_results[0].bucket}/results/"
      expected_bucket_owner = local.account_id
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.platform.arn
      }
    }
  }
}
