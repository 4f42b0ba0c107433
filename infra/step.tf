# The state machine that runs main.py on Batch, chunk by chunk (infra/state_machine.asl.json.tftpl).
resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_sfn_state_machine" "main" {
  name     = var.name
  role_arn = aws_iam_role.this["state-machine"].arn
  definition = templatefile("${path.module}/state_machine.asl.json.tftpl", {
    job_queue_arn          = aws_batch_job_queue.main.arn
    job_definition_arn     = aws_batch_job_definition.main.arn
    max_concurrency        = var.max_concurrent_jobs
    retry_interval_seconds = 60
    job_timeout_seconds    = var.job_timeout_seconds
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }
}
