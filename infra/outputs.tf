# Exactly what Dagster's aws mode needs (README: "Running against real AWS" maps each to a setting).
output "region" {
  value = var.region
}

output "lake_bucket" {
  value = local.lake_bucket.bucket
}

output "logs_bucket" {
  value = local.logs_bucket.bucket
}

output "pipes_bucket" {
  value = local.pipes_bucket.bucket
}

output "state_machine_arn" {
  value = aws_sfn_state_machine.main.arn
}

output "private_route_table_ids" {
  description = "The jobs' route tables: with egress = \"own\", add your default route (transit gateway, peering) to each."
  value       = aws_route_table.private[*].id
}

output "nat_public_ips" {
  description = "The addresses the jobs reach their upstreams from (egress = \"nat\"): give them to an API or a client database that allow-lists callers. Empty otherwise."
  value       = [for zone in local.nat_zones : aws_eip.nat[zone].public_ip]
}

output "redshift_host" {
  description = "The cluster's endpoint, or the serverless workgroup's."
  value       = local.redshift_endpoint.host
}

output "redshift_port" {
  value = local.redshift_endpoint.port
}

output "redshift_database" {
  value = var.redshift_database
}

output "redshift_admin_user" {
  value = var.redshift_admin_user
}

output "redshift_admin_secret_arn" {
  value = local.redshift_secret_arn
}

output "redshift_copy_role_arn" {
  value = aws_iam_role.this["redshift-copy"].arn
}

output "dagster_policy_arn" {
  description = "Attach to the role Dagster runs as."
  value       = aws_iam_policy.dagster.arn
}

output "ecr_repository_url" {
  description = "Push the Dockerfile's image here, tagged var.image_tag."
  value       = aws_ecr_repository.image["main"].repository_url
}

output "alerts_topic_arn" {
  description = "SNS topic of failed executions: subscribe through var.alert_subscriptions (or to it yourself)."
  value       = aws_sns_topic.alerts.arn
}

output "dagster_ecr_repository_url" {
  description = "Push deploy/dagster.Dockerfile's image here, tagged var.dagster_image_tag."
  value       = aws_ecr_repository.image["dagster"].repository_url
}

output "dagster_cluster" {
  description = "ECS cluster of the Dagster webserver and daemon services."
  value       = aws_ecs_cluster.dagster.name
}

output "dagster_ui_url" {
  description = "The internal load balancer's address (null with dagster_ui = \"none\": forward a port, README)."
  value       = local.dagster_lb ? "https://${aws_lb.dagster[0].dns_name}" : null
}

output "dagster_db_secret_arn" {
  description = "Secret (RDS-managed) holding Dagster's PostgreSQL password; only the tasks' execution role reads it."
  value       = local.dagster_db_secret_arn
}

output "glue_database" {
  description = "Glue Data Catalog database of the lake's Iceberg tables (the jobs' PLATFORM_GLUE_DATABASE)."
  value       = aws_glue_catalog_database.lake.name
}

output "lake_reader_policy_arn" {
  description = "Attach to the lake's readers (Athena users, Redshift Spectrum's role, Spark): the Glue database and tables, the lake's objects, and the Athena workgroup if any, read-only."
  value       = aws_iam_policy.lake_reader.arn
}

output "athena_workgroup" {
  description = "The readers' Athena workgroup (null without athena_workgroup)."
  value       = one(aws_athena_workgroup.lake[*].name)
}
