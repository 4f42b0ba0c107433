# A VPC whose jobs and warehouse sit in private subnets with no public addresses and reach AWS
# services through VPC endpoints (S3 through a gateway, the rest through interfaces). Only when
# the catalog has sources with upstreams outside AWS (http_api, database) do the jobs get a way
# out (local.egress): NAT gateways in public subnets, or the user's own route; else the network
# stays closed: no internet gateway, no NAT, no default route, no egress rule but the ones below.
locals {
  source_kinds = toset([for source in local.catalog.sources : source.read.kind])
  outside_aws  = setintersection(local.source_kinds, toset(["http_api", "database"]))
  egress       = length(local.outside_aws) > 0 ? var.egress : "none"

  # NAT gateways, keyed by zone: every zone's own, or the first zone's shared by all
  nat_zones = local.egress == "nat" ? (var.nat_per_zone ? local.azs : slice(local.azs, 0, 1)) : []
  # one private route table per zone when each zone has its NAT gateway, else one for all
  private_route_tables = length(local.nat_zones) > 1 ? length(local.azs) : 1

  # the ports the jobs may reach upstream: the user's, else 443 for APIs and the PostgreSQL and
  # MySQL/MariaDB ports for databases (the catalog names database URLs only through secrets)
  default_egress_ports = concat(
    contains(local.source_kinds, "http_api") ? [443] : [],
    contains(local.source_kinds, "database") ? [5432, 3306] : [],
  )
  egress_ports = local.egress == "none" ? [] : distinct(var.egress_ports != null ? var.egress_ports : local.default_egress_ports)
  upstream_egress_rules = {
    for pair in setproduct(local.egress_ports, var.egress_cidr_blocks) :
    "${pair[0]} to ${pair[1]}" => { port = pair[0], cidr = pair[1] }
  }
}

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

  lifecycle {
    precondition {
      condition     = contains(data.aws_availability_zones.pinned.names, local.azs[count.index])
      error_message = "Zone ${local.azs[count.index]} is not available in ${var.region}: the platform's subnets need it."
    }
  }
}

resource "aws_route_table" "private" {
  count  = local.private_route_tables
  vpc_id = aws_vpc.platform.id
  tags   = { Name = local.private_route_tables > 1 ? "${var.name}-private-${local.azs[count.index]}" : "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[min(count.index, local.private_route_tables - 1)].id
}

# The way out, where local.egress is "nat": an internet gateway, a small public subnet in each NAT
# gateway's zone (nothing else runs there), and the private tables' default route to the NAT
# gateway of their zone (or the shared one).
resource "aws_internet_gateway" "egress" {
  count  = length(local.nat_zones) > 0 ? 1 : 0
  vpc_id = aws_vpc.platform.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  for_each          = toset(local.nat_zones)
  vpc_id            = aws_vpc.platform.id
  availability_zone = each.key
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 240 + index(local.azs, each.key)) # past the private /20s
  tags              = { Name = "${var.name}-public-${each.key}" }
}

resource "aws_route_table" "public" {
  count  = length(local.nat_zones) > 0 ? 1 : 0
  vpc_id = aws_vpc.platform.id
  tags   = { Name = "${var.name}-public" }
}

resource "aws_route" "public_default" {
  count                  = length(aws_route_table.public)
  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.egress[0].id
}

resource "aws_route_table_association" "public" {
  for_each       = aws_subnet.public
  subnet_id      = each.value.id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_zones)
  domain   = "vpc"
  tags     = { Name = "${var.name}-nat-${each.key}" }
}

resource "aws_nat_gateway" "egress" {
  for_each      = toset(local.nat_zones)
  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id
  tags          = { Name = "${var.name}-${each.key}" }
  depends_on    = [aws_internet_gateway.egress]
}

resource "aws_route" "private_default" {
  count                  = length(local.nat_zones) > 0 ? local.private_route_tables : 0
  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.egress[length(local.nat_zones) > 1 ? local.azs[count.index] : local.nat_zones[0]].id
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
  name = "${var.name}-jobs"
  # (the description predates the upstream egress rules; changing it would replace the group)
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

# Who may talk to whom, and on which port: jobs → endpoints, S3 and the warehouse (and, with
# egress, their upstreams: jobs_to_upstreams below); nothing else.
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

# The rules between groups, the platform's and Dagster's (dagster.tf), written one way.
locals {
  rules_between_groups = merge(local.security_rules, local.dagster_rules)
  groups_by_name       = merge(local.security_groups, local.dagster_groups)
}

resource "aws_vpc_security_group_egress_rule" "between_groups" {
  for_each                     = { for name, rule in local.rules_between_groups : name => rule if rule.direction == "egress" }
  security_group_id            = local.groups_by_name[each.value.group]
  description                  = each.value.text
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = local.groups_by_name[each.value.peer]
}

resource "aws_vpc_security_group_ingress_rule" "between_groups" {
  for_each                     = { for name, rule in local.rules_between_groups : name => rule if rule.direction == "ingress" }
  security_group_id            = local.groups_by_name[each.value.group]
  description                  = each.value.text
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = local.groups_by_name[each.value.peer]
}

# The jobs to their upstreams (http_api and database sources only): the declared ports, nothing
# else, to var.egress_cidr_blocks, through the NAT gateways or the user's own route.
resource "aws_vpc_security_group_egress_rule" "jobs_to_upstreams" {
  for_each          = local.upstream_egress_rules
  security_group_id = aws_security_group.jobs.id
  description       = "The catalog's upstreams (http_api, database): TCP ${each.value.port}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
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
  route_table_ids   = aws_route_table.private[*].id
}

# glue: the jobs' Iceberg catalog (glue.tf), which a closed network could not reach otherwise
resource "aws_vpc_endpoint" "interface" {
  for_each            = toset(["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts", "states", "ssmmessages", "glue"])
  vpc_id              = aws_vpc.platform.id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
}
