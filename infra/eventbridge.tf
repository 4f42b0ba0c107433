# One EventBridge Scheduler schedule per catalog source with a cron: each tick starts the state
# machine with main.py's push of that source; main.py loads the schedule's previous period and
# leaves a run report that Dagster's `run_reports` sensor records.
locals {
  # What each tick hands the state machine: one chunk, main.py's push of the source, no Pipes.
  schedule_inputs = {
    for name, source in local.schedules : name => {
      chunks = [{ job_name = "${name}-scheduled", command = ["push", "--source", name], environment = [] }]
    }
  }
}

resource "aws_scheduler_schedule_group" "platform" {
  name = var.name
}

resource "aws_scheduler_schedule" "source" {
  for_each                     = local.schedules
  name                         = "${var.name}-${each.key}"
  group_name                   = aws_scheduler_schedule_group.platform.name
  schedule_expression          = local.aws_crons[each.key]
  schedule_expression_timezone = "UTC"
  description                  = "catalog: ${each.value.schedule.cron} (UTC)"
  kms_key_arn                  = aws_kms_key.platform.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.main.arn
    role_arn = aws_iam_role.this["scheduler"].arn
    input    = jsonencode(local.schedule_inputs[each.key])

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}
