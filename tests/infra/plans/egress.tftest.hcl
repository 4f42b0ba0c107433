# The network in a plan, both ways (tests/infra/test_terraform_offline.py writes the files-only
# catalog beside the seed).
run "api_and_database_sources" {
  command = plan
  assert {
    condition     = length(aws_internet_gateway.egress) == 1 && length(aws_route_table.public) == 1
    error_message = "one internet gateway and public route table"
  }
  assert {
    condition     = keys(aws_nat_gateway.egress) == ["us-east-1a", "us-east-1b"]
    error_message = "a NAT gateway per zone"
  }
  assert {
    condition     = keys(aws_subnet.public) == ["us-east-1a", "us-east-1b"] && length(aws_eip.nat) == 2
    error_message = "a public subnet and an address per NAT gateway"
  }
  assert {
    condition     = length(aws_route_table.private) == 2 && length(aws_route.private_default) == 2
    error_message = "a private route table per zone, each with its default route"
  }
  assert {
    condition     = alltrue([for route in aws_route.private_default : route.destination_cidr_block == "0.0.0.0/0"])
    error_message = "the private default routes"
  }
  assert {
    condition     = join(",", sort([for rule in aws_vpc_security_group_egress_rule.jobs_to_upstreams : tostring(rule.from_port)])) == "3306,443,5432"
    error_message = "egress to 443, 5432 and 3306 only"
  }
  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_egress_rule.jobs_to_upstreams : rule.to_port == rule.from_port && rule.ip_protocol == "tcp"])
    error_message = "one TCP port per rule"
  }
}

run "files_sources_only" {
  command = plan
  variables {
    catalog_path = "../platform_assets/files-only.yaml" # written by the test
  }
  assert {
    condition     = length(aws_internet_gateway.egress) + length(aws_nat_gateway.egress) + length(aws_eip.nat) + length(aws_subnet.public) == 0
    error_message = "no internet gateway, NAT gateway, address or public subnet"
  }
  assert {
    condition     = length(aws_route.private_default) + length(aws_route.public_default) == 0 && length(aws_route_table.private) == 1
    error_message = "no default route; one private route table"
  }
  assert {
    condition     = length(aws_vpc_security_group_egress_rule.jobs_to_upstreams) == 0
    error_message = "no upstream egress rule"
  }
  assert {
    condition     = [for k in keys(aws_vpc_security_group_egress_rule.between_groups) : k if startswith(k, "jobs_")] == ["jobs_to_endpoints", "jobs_to_warehouse"]
    error_message = "the jobs still reach the endpoints and the warehouse"
  }
  assert {
    condition     = aws_flow_log.platform.traffic_type == "ALL"
    error_message = "flow logs stay"
  }
}

run "own_egress" {
  command = plan
  variables {
    egress = "own"
  }
  assert {
    condition     = length(aws_internet_gateway.egress) + length(aws_nat_gateway.egress) + length(aws_route.private_default) == 0
    error_message = "nothing of ours on the way out"
  }
  assert {
    condition     = length(aws_vpc_security_group_egress_rule.jobs_to_upstreams) == 3
    error_message = "the egress rules stay"
  }
}

run "one_shared_nat_gateway" {
  command = plan
  variables {
    nat_per_zone = false
  }
  assert {
    condition     = keys(aws_nat_gateway.egress) == ["us-east-1a"] && length(aws_route_table.private) == 1 && length(aws_route.private_default) == 1
    error_message = "one NAT gateway, one private route table and its default route"
  }
}

# What the egress variables refuse (each a variable's validation error).
run "refuses_an_unknown_egress" {
  command = plan
  variables {
    egress = "internet"
  }
  expect_failures = [var.egress]
}

run "refuses_port_0" {
  command = plan
  variables {
    egress_ports = [0]
  }
  expect_failures = [var.egress_ports]
}

run "refuses_a_fractional_port" {
  command = plan
  variables {
    egress_ports = [443.5]
  }
  expect_failures = [var.egress_ports]
}

run "refuses_a_port_past_65535" {
  command = plan
  variables {
    egress_ports = [70000]
  }
  expect_failures = [var.egress_ports]
}

run "refuses_what_is_not_a_cidr_block" {
  command = plan
  variables {
    egress_cidr_blocks = ["anywhere"]
  }
  expect_failures = [var.egress_cidr_blocks]
}
