# The lake's Iceberg catalog in aws mode: one Glue Data Catalog database. main.py (pyiceberg's
# GlueCatalog, as the job role: iam.tf) registers each table there and commits its new metadata
# files, which live in the lake itself, under <lake>/_platform/ (the job role's lake/* grants).
# Readers (Athena, Redshift Spectrum, Spark) find the tables through it: iam.tf's lake_reader
# policy, and athena.tf's optional workgroup.
#
# IAM alone governs the database only while Lake Formation keeps its defaults (the database's
# tables open to IAM_ALLOWED_PRINCIPALS): an account that has turned those off must also grant
# the job role and the readers in Lake Formation.
locals {
  glue_database     = coalesce(var.glue_database, "${replace(var.name, "-", "_")}_lake")
  glue_catalog_arn  = "arn:${local.partition}:glue:${var.region}:${local.account_id}:catalog"
  glue_database_arn = "arn:${local.partition}:glue:${var.region}:${local.account_id}:database/${local.glue_database}"
  glue_tables_arn   = "arn:${local.partition}:glue:${var.region}:${local.account_id}:table/${local.glue_database}/*"
}

resource "aws_glue_catalog_database" "lake" {
  name         = local.glue_database
  description  = "${var.name}: the Iceberg tables of the lake at ${local.lake_uri}"
  location_uri = local.lake_uri
}

# The Data Catalog's encryption settings belong to the account and region, not to a database:
# applying them here would switch encryption (with this platform's key) for every database and
# every Glue user there, and destroying this platform would switch it off again (while what was
# encrypted meanwhile stays encrypted with a key the destroy schedules for deletion). So they stay
# unmanaged unless var.glue_catalog_encryption says this platform owns the account's catalog;
# then the job role may also kms:Encrypt and the readers use the key through Glue (iam.tf).
resource "aws_glue_data_catalog_encryption_settings" "account" {
  count = var.glue_catalog_encryption ? 1 : 0

  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = aws_kms_key.platform.arn
    }
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = aws_kms_key.platform.arn
    }
  }
}
