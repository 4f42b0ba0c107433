"""Terraform for tests: the binary, the on-disk provider mirror, and a workspace copied out of the
repository (so that nothing the tests run writes into infra/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_assets.settings import PACKAGE_DIRECTORY, PROJECT_DIRECTORY

INFRA = PROJECT_DIRECTORY / "infra"
AWS_PROVIDER = Path("registry.terraform.io/hashicorp/aws/5.100.0")
PLANS = Path(__file__).parent / "plans"  # terraform test files, run by Workspace.plan_test


def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not on the PATH: the Terraform checks cannot run here")
    return binary


def plugin_directory() -> Path:
    """TF_PLUGIN_DIR if set, else the first folder near the filesystem root that mirrors the
    hashicorp/aws provider (the machines here keep one; its place is looked up, never assumed)."""
    if named := os.environ.get("TF_PLUGIN_DIR"):
        return Path(named)
    for depth in range(4):
        pattern = "/".join(["*"] * depth) + ("/" if depth else "") + "registry.terraform.io"
        for found in Path("/").glob(pattern):
            if (found.parent / AWS_PROVIDER).is_dir():
                return found.parent
    pytest.skip("no on-disk provider mirror with hashicorp/aws 5.100.0 (set TF_PLUGIN_DIR)")


# The aws provider as `terraform test` mocks it: the data sources return these values, every
# policy document a valid empty policy (the provider still validates the JSON it is given), and
# the platform's key has its ARN already in the plan.
MOCKED_AWS = """mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults        = { arn = "arn:aws:kms:us-east-1:123456789012:key/platform" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1a", "us-east-1b", "us-east-1c"] }
  }
}

"""


@dataclass
class Workspace:
    """infra/ and the catalog, copied side by side as in the repository, initialised offline."""

    directory: Path
    binary: str
    environment: dict[str, str]

    def run(
        self,
        *arguments: str,
        stdin: str | None = None,
        timeout: float = 600,
        allowed: tuple[int, ...] = (0,),
    ) -> str:
        result = subprocess.run(
            [self.binary, *arguments, "-no-color"],
            cwd=self.directory,
            env=self.environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode in allowed, f"terraform {arguments[0]}: {result.stderr[-4000:]}"
        return result.stdout

    def plan_test(self, name: str) -> str:
        """`terraform test` of tests/infra/plans/<name>.tftest.hcl (run blocks), copied into the
        workspace with the aws provider mocked (MOCKED_AWS): a plan (or an apply of mocked values)
        with no AWS and no credentials, whose counts and values its asserts check."""
        tests = self.directory / "tests"
        tests.mkdir(exist_ok=True)
        runs = (PLANS / f"{name}.tftest.hcl").read_text()
        (tests / f"{name}.tftest.hcl").write_text(MOCKED_AWS + runs)
        result = subprocess.run(
            [self.binary, "test", f"-filter=tests/{name}.tftest.hcl", "-no-color"],
            cwd=self.directory,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        said = result.stdout[-4000:] + result.stderr[-4000:]
        assert result.returncode == 0, f"terraform test: {said}"
        return result.stdout

    def evaluate(self, expression: str, *variables: str) -> object:
        """An expression's value, as `terraform console` computes it (no AWS needed)."""
        output = self.run("console", *variables, stdin=f"jsonencode({expression})\n")
        return json.loads(json.loads(output.strip().splitlines()[-1]))


def workspace(
    root: Path, backend_override: str = 'terraform {\n  backend "local" {}\n}\n'
) -> Workspace:
    shutil.copytree(
        INFRA, root / "infra", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*")
    )
    (root / "platform_assets").mkdir()
    shutil.copy(PACKAGE_DIRECTORY / "catalog.yaml", root / "platform_assets" / "catalog.yaml")
    (root / "infra" / "backend_override.tf").write_text(backend_override)
    environment = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    space = Workspace(root / "infra", terraform_binary(), environment)
    space.run("init", f"-plugin-dir={plugin_directory()}", "-input=false")
    return space
