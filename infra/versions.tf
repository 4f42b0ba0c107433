terraform {
  required_version = ">= 1.10" # use_lockfile on the S3 backend

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project    = var.name
      managed_by = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_availability_zones" "pinned" {
  state = "available"
  filter { # the zones of local.azs; the private subnets check that each is available
    name   = "zone-name"
    values = local.azs
  }
}
