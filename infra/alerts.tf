# Failed executions of the platform's state machine, however started (Dagster, a schedule, by
# hand): an EventBridge rule on their status changes publishes one readable line to an SNS topic,
# encrypted with the platform's key; the subscribers are var.alert_subscriptions.
locals {
  alert_name = "${var.name}-failed-executions"
  # Spelled out, not read from the resources: the key policy names the topic, and the state
  # machine's log group needs the key, so referring to the resources would be a cycle.
  alert_topic_arn     = "arn:${local.partition}:sns:${var.region}:${local.account_id}:${local.alert_name}"
  alert_failed_status = ["FAILED", "TIMED_OUT", "ABORTED"]
  console             = "https://${var.region}.console.aws.amazon.com/states/home?region=${var.region}#/v2/executions/details"
}

resource "aws_sns_topic" "alerts" {
  name              = local.alert_name
  kms_master_key_id = aws_kms_key.platform.arn
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts_topic.json
}

# Only the rule below may publish; the account's own IAM policies still manage the topic.
data "aws_iam_policy_document" "alerts_topic" {
  statement {
    sid       = "FailedExecutionsRulePublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.failed_executions.arn]
    }
  }
}

resource "aws_sns_topic_subscription" "alerts" {
  # keyed by a digest: an https endpoint may carry a token, which must not name the resource
  for_each  = { for s in var.alert_subscriptions : substr(sha256("${s.protocol}:${s.endpoint}"), 0, 16) => s }
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

resource "aws_cloudwatch_event_rule" "failed_executions" {
  name        = local.alert_name
  description = "${var.name}: an execution ended ${join(", ", local.alert_failed_status)}"
  event_pattern = jsonencode({
    source      = ["aws.states"]
    detail-type = ["Step Functions Execution Status Change"]
    detail = {
      stateMachineArn = [aws_sfn_state_machine.main.arn]
      status          = local.alert_failed_status
    }
  })
}

resource "aws_cloudwatch_event_target" "failed_executions" {
  rule = aws_cloudwatch_event_rule.failed_executions.name
  arn  = aws_sns_topic.alerts.arn

  input_transformer {
    input_paths = {
      execution = "$.detail.executionArn"
      name      = "$.detail.name"
      status    = "$.detail.status"
    }
    # plain text, not JSON: subscribers get the line itself
    input_template = "${aws_sfn_state_machine.main.name}: execution <name> ended <status> (<execution>) ${local.console}/<execution>"
  }
}
