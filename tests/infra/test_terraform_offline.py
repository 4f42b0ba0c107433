"""infra/ checked without AWS: formatting, validation, and what it derives from the catalog."""

import json
import os
import subprocess
from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions

from platform_assets.catalog import load_catalog
from platform_assets.runtime.cli import build_parser
from platform_assets.settings import PACKAGE_DIRECTORY
from platform_assets.sources.database.spec import DatabaseRead
from testkit.aws import render_state_machine
from tests.infra.terraform import (
    INFRA,
    PLANS,
    Workspace,
    plugin_directory,
    terraform_binary,
    workspace,
)

CATALOG = load_catalog(PACKAGE_DIRECTORY / "catalog.yaml")


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("terraform"))


@pytest.mark.parametrize("folder", [INFRA, PLANS], ids=["infra", "plans"])
def test_formatting(folder: Path):
    result = subprocess.run(
        [terraform_binary(), "fmt", "-check", "-recursive", "-diff", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_validate(offline: Workspace):
    assert "Success! The configuration is valid." in offline.run("validate")


def test_validate_the_state_bucket_bootstrap(tmp_path: Path):
    space = Workspace(INFRA / "bootstrap", terraform_binary(), offline_environment(tmp_path))
    space.run("init", "-backend=false", f"-plugin-dir={plugin_directory()}", "-input=false")
    assert "Success!" in space.run("validate")


def offline_environment(tmp_path: Path) -> dict[str, str]:
    # keep .terraform out of the repository
    return {**os.environ, "TF_DATA_DIR": str(tmp_path / "data"), "CHECKPOINT_DISABLE": "1"}


def test_every_catalog_cron_is_exactly_one_schedule(offline: Workspace):
    expressions = offline.evaluate("local.aws_crons")
    expected = {source.name for source in CATALOG.sources if source.schedule}
    assert set(expressions) == expected
    assert expressions["flights"] == "cron(0 6 * * ? *)"
    inputs = offline.evaluate("local.schedule_inputs")
    for name, scheduled in inputs.items():
        [chunk] = scheduled["chunks"]
        assert chunk["environment"] == []
        arguments = build_parser().parse_args(chunk["command"])  # main.py's own parser
        assert (arguments.command, arguments.source, arguments.partition) == ("push", name, None)


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 6 * * *", "cron(0 6 * * ? *)"),
        ("30 2 * * 1-5", "cron(30 2 ? * MON-FRI *)"),
        ("15 4 * * MON,wed", "cron(15 4 ? * MON,WED *)"),
        ("0 3 1 * *", "cron(0 3 1 * ? *)"),
        ("0 0 * * 0", "cron(0 0 ? * SUN *)"),
    ],
)
def test_unix_crons_become_eventbridge_crons(offline: Workspace, tmp_path: Path, cron, expected):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        (PACKAGE_DIRECTORY / "catalog.yaml").read_text().replace('"0 6 * * *"', f'"{cron}"')
    )
    assert load_catalog(catalog).source("flights").schedule.cron == cron
    crons = offline.evaluate("local.aws_crons", f"-var=catalog_path={catalog}")
    assert crons["flights"] == expected


def test_every_secret_the_catalog_names_is_created_once_and_readable_by_the_job(
    offline: Workspace, tmp_path: Path
):
    named = set()
    for source in CATALOG.sources:
        references = [*getattr(source.read, "secrets", {}).values()]
        references += [source.read.url] if isinstance(source.read, DatabaseRead) else []
        named |= {ref.aws_secret for ref in references if ref.aws_secret}
    assert named == {"platform/weather-api-token", "platform/client-database"}
    assert set(offline.evaluate("local.source_secret_names")) == named
    iam = (INFRA / "iam.tf").read_text()
    assert "resources = [for secret in aws_secretsmanager_secret.source : secret.arn]" in iam
    files_only = tmp_path / "catalog.yaml"
    seed = (PACKAGE_DIRECTORY / "catalog.yaml").read_text()
    files_only.write_text(seed[: seed.index("  - name: weather")])
    assert offline.evaluate("local.source_secret_names", f"-var=catalog_path={files_only}") == []


def parse(path: Path) -> dict:
    return hcl2.loads(
        path.read_text(), serialization_options=SerializationOptions(strip_string_quotes=True)
    )


def statements_of(path: Path) -> list[tuple[str, dict]]:
    parsed = parse(path)
    found = []
    for data in parsed.get("data", []):
        for name, body in data.get("aws_iam_policy_document", {}).items():
            for statement in body.get("statement", []):
                found.append((f"{path.name}:{name}", statement))
    return found


# The key policy's first statement hands the key's administration to the account's IAM (the
# documented default key policy); it grants nothing to a principal of ours.
KEY_POLICY_DELEGATION = ("kms.tf:kms", "AccountAdministers")


def test_no_statement_of_ours_grants_a_wildcard_action():
    statements = [item for path in sorted(INFRA.glob("*.tf")) for item in statements_of(path)]
    assert len(statements) > 20
    for where, statement in statements:
        if (where, statement.get("sid")) == KEY_POLICY_DELEGATION:
            continue
        for action in statement["actions"]:
            assert action != "*" and not action.endswith(":*"), f"{where}: {action}"


def test_schedules_are_written_once_from_the_catalog():
    parsed = parse(INFRA / "eventbridge.tf")
    schedules = [r for r in parsed["resource"] if "aws_scheduler_schedule" in r]
    assert len(schedules) == 1
    [body] = schedules[0]["aws_scheduler_schedule"].values()
    assert body["for_each"] == "${local.schedules}"
    locals_text = (INFRA / "locals.tf").read_text()
    catalog_file = '"${path.module}/../platform_assets/catalog.yaml"'
    assert f"yamldecode(file(coalesce(var.catalog_path, {catalog_file})))" in locals_text
    for path in INFRA.glob("*.tf"):
        assert "0 6 * * *" not in path.read_text(), f"{path.name} repeats a catalog cron"


def test_the_state_machine_template_is_json_and_its_command_is_main_pys():
    definition = json.loads(
        render_state_machine(
            max_concurrency=4,
            retry_interval_seconds=60,
            job_timeout_seconds=3600,
            job_queue_arn="arn:aws:batch:us-east-1:123456789012:job-queue/q",
            job_definition_arn="arn:aws:batch:us-east-1:123456789012:job-definition/d:1",
        )
    )
    task = definition["States"]["RunChunks"]["ItemProcessor"]["States"]["RunMain"]
    assert task["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    assert task["Parameters"]["ContainerOverrides"] == {
        "Command.$": "$.command",
        "Environment.$": "$.environment",
    }
    assert definition["States"]["RunChunks"]["MaxConcurrency"] == 4
    assert [retry["ErrorEquals"] for retry in task["Retry"]][1] == ["States.TaskFailed"]
    assert definition["States"]["RunChunks"]["Catch"][0]["Next"] == "RecordFailure"


def test_failed_executions_of_the_state_machine_alone_reach_the_alerts_topic(offline: Workspace):
    [rule] = resources_of(INFRA / "alerts.tf", "aws_cloudwatch_event_rule").values()
    pattern = rule["event_pattern"]
    assert pattern.startswith("${jsonencode({") and pattern.endswith("})}")
    assert 'source = ["aws.states"]' in pattern
    assert 'detail-type = ["Step Functions Execution Status Change"]' in pattern
    assert "stateMachineArn = [aws_sfn_state_machine.main.arn]" in pattern
    assert "status = local.alert_failed_status" in pattern
    assert offline.evaluate("local.alert_failed_status") == ["FAILED", "TIMED_OUT", "ABORTED"]
    [target] = resources_of(INFRA / "alerts.tf", "aws_cloudwatch_event_target").values()
    assert target["rule"] == "${aws_cloudwatch_event_rule.failed_executions.name}"
    assert target["arn"] == "${aws_sns_topic.alerts.arn}"
    [topic_policy] = [s for where, s in statements_of(INFRA / "alerts.tf")]
    assert topic_policy["actions"] == ["sns:Publish"]
    [principal] = topic_policy["principals"]
    assert (principal["type"], principal["identifiers"]) == ("Service", ["events.amazonaws.com"])
    [condition] = topic_policy["condition"]
    assert condition["variable"] == "aws:SourceArn"
    assert condition["values"] == ["${aws_cloudwatch_event_rule.failed_executions.arn}"]


def test_alert_subscribers_are_the_users_and_plain_http_is_refused(offline: Workspace):
    assert offline.evaluate("var.alert_subscriptions") == []
    subscribers = '-var=alert_subscriptions=[{protocol="email",endpoint="oncall@example.com"}]'
    assert offline.evaluate("var.alert_subscriptions", subscribers) == [
        {"protocol": "email", "endpoint": "oncall@example.com"}
    ]
    http = '-var=alert_subscriptions=[{protocol="http",endpoint="http://x"}]'
    refused = refusal(offline, http, "var.alert_subscriptions")
    assert "alert_subscriptions: protocol is one of email" in refused


def resources_of(path: Path, kind: str) -> dict[str, dict]:
    return {
        name: body
        for block in parse(path)["resource"]
        for name, body in block.get(kind, {}).items()
    }


def test_plain_http_is_denied_every_s3_action_on_the_bucket_and_its_objects():
    [tls_only] = [
        statement
        for _, statement in statements_of(INFRA / "modules" / "bucket" / "main.tf")
        if statement.get("sid") == "TlsOnly"
    ]
    assert tls_only["effect"] == "Deny"
    assert tls_only["actions"] == ["s3:*"]
    assert tls_only["resources"] == [
        "${aws_s3_bucket.this.arn}",
        "${aws_s3_bucket.this.arn}/*",
    ]
    [principal] = tls_only["principals"]
    assert (principal["type"], principal["identifiers"]) == ("AWS", ["*"])
    [condition] = tls_only["condition"]
    assert (condition["test"], condition["variable"], condition["values"]) == (
        "Bool",
        "aws:SecureTransport",
        ["false"],
    )


def test_the_logs_bucket_is_sse_s3_where_aws_delivers_logs_and_the_others_use_the_key(
    offline: Workspace,
):
    """S3 access logs and Redshift's audit logs are delivered only into an SSE-S3 bucket (AWS's
    S3 User Guide and Redshift Management Guide); the lake and Pipes keep the platform's key."""
    assert "1 passed, 0 failed" in offline.plan_test("log_delivery")


def refusal(space: Workspace, variable: str, expression: str) -> str:
    """What `terraform console` says to a refused variable (it exits 0 whatever stdin holds)."""
    refused = subprocess.run(
        [space.binary, "console", "-no-color", variable],
        cwd=space.directory,
        env=space.environment,
        input=f"{expression}\n",
        capture_output=True,
        text=True,
        check=False,
    )
    return refused.stderr


def test_overriding_redshift_parameters_never_drops_require_ssl(offline: Workspace):
    assert offline.evaluate("local.redshift_parameters") == {
        "enable_user_activity_logging": "true",
        "require_ssl": "true",
    }
    assert offline.evaluate("local.redshift_parameters", "-var=redshift_parameters={}") == {
        "require_ssl": "true"
    }
    overridden = '-var=redshift_parameters={max_concurrency_scaling_clusters="2"}'
    assert offline.evaluate("local.redshift_parameters", overridden) == {
        "max_concurrency_scaling_clusters": "2",
        "require_ssl": "true",
    }
    refused = refusal(offline, '-var=redshift_parameters={require_ssl="false"}', "1")
    assert "redshift_parameters: require_ssl is always" in refused
    [group] = resources_of(INFRA / "redshift.tf", "aws_redshift_parameter_group").values()
    [parameters] = group["dynamic"]
    assert parameters["parameter"]["for_each"] == "${local.redshift_parameters}"


def test_the_state_machine_may_terminate_only_this_accounts_jobs_in_its_region():
    """TerminateJob's resource type is `job` (arn:…:batch:<region>:<account>:job/<id>, Service
    Authorization Reference); DescribeJobs has none, so only it keeps "*"."""
    statements = {
        statement["sid"]: statement
        for where, statement in statements_of(INFRA / "iam.tf")
        if where == "iam.tf:state_machine"
    }
    assert statements["FollowJobs"]["actions"] == ["batch:DescribeJobs"]
    assert statements["FollowJobs"]["resources"] == ["*"]
    assert statements["StopJobs"]["actions"] == ["batch:TerminateJob"]
    assert statements["StopJobs"]["resources"] == [
        "arn:${local.partition}:batch:${var.region}:${local.account_id}:job/*"
    ]
    unscoped = [s for s in statements.values() if s["resources"] == ["*"]]
    assert not [a for s in unscoped for a in s["actions"] if a.startswith("batch:Terminate")]


def files_only_catalog(directory: Path) -> Path:
    """The seed catalog's files sources only (flights), before the API and database ones."""
    catalog = directory / "files-only.yaml"
    seed = (PACKAGE_DIRECTORY / "catalog.yaml").read_text()
    catalog.write_text(seed[: seed.index("  - name: weather")])
    assert {source.read.kind for source in load_catalog(catalog).sources} == {"files"}
    return catalog


def egress_of(space: Workspace, *variables: str) -> dict:
    """What the network derives from the catalog and the egress variables, in one console call:
    the mode, the NAT gateways' zones, the private route tables, and the upstream egress rules'
    ports by destination."""
    found = space.evaluate(
        "[local.egress, local.nat_zones, local.private_route_tables, local.upstream_egress_rules]",
        *variables,
    )
    egress, nat_zones, route_tables, rules = found  # type: ignore[misc]
    ports: dict[str, list[int]] = {}
    for rule in rules.values():
        ports.setdefault(rule["cidr"], []).append(rule["port"])
    return {
        "egress": egress,
        "nat_zones": nat_zones,
        "route_tables": route_tables,
        "ports": {cidr: sorted(found) for cidr, found in ports.items()},
    }


ANYWHERE = "0.0.0.0/0"


def test_the_jobs_get_a_way_out_only_when_the_catalog_has_api_or_database_sources(
    offline: Workspace, tmp_path: Path
):
    assert {source.read.kind for source in CATALOG.sources} == {"files", "http_api", "database"}
    assert egress_of(offline) == {
        "egress": "nat",
        "nat_zones": ["us-east-1a", "us-east-1b"],
        "route_tables": 2,
        "ports": {ANYWHERE: [443, 3306, 5432]},
    }
    closed = {"egress": "none", "nat_zones": [], "route_tables": 1, "ports": {}}
    files_only = f"-var=catalog_path={files_only_catalog(tmp_path)}"
    assert egress_of(offline, files_only) == closed
    # whatever the variables say, a catalog of files keeps the network closed
    assert egress_of(offline, files_only, "-var=egress=own", "-var=egress_ports=[443]") == closed


def test_egress_variables_shared_nat_own_route_none_and_declared_ports(offline: Workspace):
    assert egress_of(offline, "-var=nat_per_zone=false") == {
        "egress": "nat",
        "nat_zones": ["us-east-1a"],
        "route_tables": 1,
        "ports": {ANYWHERE: [443, 3306, 5432]},
    }
    assert egress_of(offline, "-var=egress=own") == {
        "egress": "own",
        "nat_zones": [],
        "route_tables": 1,
        "ports": {ANYWHERE: [443, 3306, 5432]},
    }
    assert egress_of(offline, "-var=egress=none")["ports"] == {}
    declared = egress_of(
        offline,
        "-var=egress_ports=[443,1433,443]",
        '-var=egress_cidr_blocks=["10.8.0.0/16","203.0.113.0/24"]',
    )
    assert declared["ports"] == {"10.8.0.0/16": [443, 1433], "203.0.113.0/24": [443, 1433]}
    # the refusals, each in the plan test below; here the line a user reads
    said = refusal(offline, "-var=egress_ports=[443.5]", "local.egress")
    assert "egress_ports: whole TCP port numbers from 1 to 65535" in said


def test_the_plan_holds_nat_routes_and_rules_with_outside_sources_and_none_without(
    offline: Workspace,
):
    """The resources themselves, in a plan (mocked provider, offline), both ways."""
    files_only_catalog(offline.directory.parent / "platform_assets")
    assert "9 passed, 0 failed" in offline.plan_test("egress")


def test_redshift_serverless_replaces_the_cluster_and_the_jobs_follow(offline: Workspace):
    """moto has no Redshift Serverless: a plan of each choice, with what AWS would return given
    (tests/infra/plans/warehouse.tftest.hcl), shows the cluster or the namespace and workgroup,
    the host, port and secret the jobs get, the job role's secret read, the COPY role's trust."""
    assert "4 passed, 0 failed" in offline.plan_test("warehouse")
    serverless = "-var=warehouse=serverless"
    zones, parameters = offline.evaluate(  # type: ignore[misc]
        "[local.azs, local.workgroup_parameters]",
        serverless,
        '-var=redshift_parameters={search_path="platform, public"}',
    )
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]  # a workgroup needs three zones
    assert parameters["require_ssl"] == "true"
    assert parameters["search_path"] == "platform, public"
    assert parameters["enable_user_activity_logging"] == "true"  # AWS's default, kept explicit


def test_the_serverless_workgroup_uses_the_platforms_network_and_key():
    [workgroup] = resources_of(INFRA / "redshift.tf", "aws_redshiftserverless_workgroup").values()
    assert workgroup["subnet_ids"] == "${aws_subnet.private[*].id}"
    assert workgroup["security_group_ids"] == ["${aws_security_group.warehouse.id}"]
    assert workgroup["port"] == 5439
    assert (workgroup["publicly_accessible"], workgroup["enhanced_vpc_routing"]) == (False, True)
    [namespace] = resources_of(INFRA / "redshift.tf", "aws_redshiftserverless_namespace").values()
    assert namespace["kms_key_id"] == "${aws_kms_key.platform.arn}"
    assert namespace["manage_admin_password"] == "${var.redshift_managed_password ? true : null}"
