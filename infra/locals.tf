locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # named zones, so the subnets never move when AWS adds one (the subnets check they exist): two,
  # or three for Redshift Serverless, whose workgroup needs subnets in three zones
  azs = (var.warehouse == "serverless"
    ? ["${var.region}a", "${var.region}b", "${var.region}c"]
    : ["${var.region}a", "${var.region}b"]
  )

  # The catalog is the single source of truth: the schedules come from it.
  catalog   = yamldecode(file(coalesce(var.catalog_path, "${path.module}/../platform_assets/catalog.yaml")))
  schedules = { for source in local.catalog.sources : source.name => source if try(source.schedule.cron, null) != null }

  # Catalog crons are five-field Unix crons (UTC); EventBridge Scheduler wants six fields with
  # one of day-of-month and day-of-week as "?", and names for the days of the week.
  cron_fields = { for name, source in local.schedules : name => split(" ", trimspace(source.schedule.cron)) }
  day_names   = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
  aws_crons = {
    for name, f in local.cron_fields : name => format(
      "cron(%s %s %s %s %s *)",
      f[0], f[1],
      f[4] == "*" ? f[2] : (f[2] == "*" ? "?" : f[2]),
      f[3],
      f[4] == "*" ? "?" : join(",", [
        for part in split(",", f[4]) : join("-", [
          for day in split("-", part) : can(tonumber(day)) ? local.day_names[tonumber(day)] : upper(day)
        ])
      ])
    )
  }

  lake_bucket  = module.lake_bucket
  logs_bucket  = module.logs_bucket
  pipes_bucket = module.pipes_bucket
  lake_uri     = "s3://${local.lake_bucket.bucket}/lake"
  reports_uri  = "s3://${local.pipes_bucket.bucket}/reports"
  logs_uri     = "s3://${local.logs_bucket.bucket}/runs"

}
