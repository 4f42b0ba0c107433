# A VPC with private subnets only: the jobs and the warehouse have no public addresses and reach
# AWS services through VPC endpoints (S3 through a gateway, the rest through interfaces).
resource "aws_vpc" "platform" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "private" {
  count             = length(local.azs)
  vpc_id            = aws_vpc.platform.id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, count.index)
  tags              = { Name = "${var.name}-private-${local.azs[count.index]}" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.platform.id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_default_security_group" "closed" {
  vpc_id = aws_vpc.platform.id # no rules: nothing uses the default group
}

resource "aws_flow_log" "platform" {
  vpc_id               = aws_vpc.platform.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = local.logs_bucket.arn # under AWSLogs/<account>/vpcflowlogs/
  depends_on           = [module.logs_bucket]
}

resource "aws_security_group" "jobs" {
  name        = "${var.name}-jobs"
  description = "Batch jobs: out to the VPC endpoints and the warehouse only"
  vpc_id      = aws_vpc.platform.id
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-endpoints"
  description = "Interface endpoints: HTTPS from the jobs"
  vpc_id      = aws_vpc.platform.id
}

resource "aws_security_group" "warehouse" {
  name        = "${var.name}-warehouse"
  description = "Redshift: its port from the jobs"
  vpc_id      = aws_vpc.platform.id
}

# Who may talk to whom, and on which port: jobs → endpoints, S3 and the warehouse; nothing else.
locals {
  security_rules = {
    jobs_to_endpoints   = { direction = "egress", group = "jobs", port = 443, peer = "endpoints", text = "HTTPS to the interface endpoints" }
    jobs_to_warehouse   = { direction = "egress", group = "jobs", port = 5439, peer = "warehouse", text = "Redshift's port" }
    endpoints_from_jobs = { direction = "ingress", group = "endpoints", port = 443, peer = "jobs", text = "HTTPS from the jobs" }
    warehouse_from_jobs = { direction = "ingress", group = "warehouse", port = 5439, peer = "jobs", text = "Redshift's port from the jobs" }
  }
  security_groups = {
    jobs      = aws_security_group.jobs.id
    endpoints = aws_security_group.endpoints.id
    warehouse = aws_security_group.warehouse.id
  }
}

resource "aws_vpc_security_group_egress_rule" "between_groups" {
  for_each                     = { for name, rule in local.security_rules : name => rule if rule.direction == "egress" }
  security_group_id            = local.security_groups[each.value.group]
  description                  = each.value.text
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = local.security_groups[each.value.peer]
}

resource "aws_vpc_security_group_ingress_rule" "between_groups" {
  for_each                     = { for name, rule in local.security_rules : name => rule if rule.direction == "ingress" }
  security_group_id            = local.security_groups[each.value.group]
  description                  = each.value.text
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = local.security_groups[each.value.peer]
}

resource "aws_vpc_security_group_egress_rule" "jobs_to_s3" {
  security_group_id = aws_security_group.jobs.id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.platform.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = toset(["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts", "states", "ssmmessages"])
  vpc_id              = aws_vpc.platform.id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
}
