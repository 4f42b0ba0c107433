"""infra/ checked without AWS: formatting, validation, and what it derives from the catalog."""

import json
import os
import subprocess
from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions

from platform_assets.catalog import load_catalog
from platform_assets.orchestration.runner import pipes_client
from platform_assets.orchestration.step_functions import PipesStepFunctionsClient
from platform_assets.runtime.cli import build_parser
from platform_assets.settings import PACKAGE_DIRECTORY, load_settings
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
    refused = refusal(offline, http, expression="var.alert_subscriptions")
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


def refusal(space: Workspace, *variables: str, expression: str = "var.name") -> str:
    """What `terraform console` says to refused variables (it exits 0 whatever stdin holds)."""
    refused = subprocess.run(
        [space.binary, "console", "-no-color", *variables],
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
    refused = refusal(offline, '-var=redshift_parameters={require_ssl="false"}', expression="1")
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
    said = refusal(offline, "-var=egress_ports=[443.5]", expression="local.egress")
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


# Dagster's control plane (infra/dagster.tf). moto drops some of it (tests/infra/dagster_on_moto.py
# says what); that part is read here from the configuration and from `terraform console`.

DAGSTER = INFRA / "dagster.tf"
CERTIFICATE = "-var=dagster_certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/x"

# the settings known only after apply, shaped as AWS gives them
AFTER_APPLY = {
    "PLATFORM_LAKE_URI": "s3://data-platform-lake-123456789012/lake",
    "PLATFORM_REPORTS_URI": "s3://data-platform-pipes-123456789012/reports",
    "PLATFORM_LOGS_URI": "s3://data-platform-logs-123456789012/runs",
    "PLATFORM_PIPES_BUCKET": "data-platform-pipes-123456789012",
    "PLATFORM_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:platform",
    "PLATFORM_REDSHIFT_HOST": "data-platform.abc.us-east-1.redshift.amazonaws.com",
    "PLATFORM_REDSHIFT_PORT": "5439",
    "PLATFORM_REDSHIFT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:w-AbCdEf",
    "PLATFORM_REDSHIFT_IAM_ROLE": "arn:aws:iam::123456789012:role/data-platform-redshift-copy",
    "PLATFORM_GLUE_DATABASE": "data_platform_lake",
    "DAGSTER_PG_HOST": "data-platform-dagster.abc.us-east-1.rds.amazonaws.com",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USER": "dagster",
}
KNOWN_BEFORE_APPLY = [
    "PLATFORM_ENV",
    "AWS_REGION",
    "PLATFORM_REDSHIFT_DATABASE",
    "PLATFORM_REDSHIFT_USER",
    "PGSSLMODE",
    "DAGSTER_EVENT_BATCH_SIZE",
    "DAGSTER_MAX_CONCURRENT_RUNS",
]


def locals_of(path: Path) -> dict:
    return {name: value for block in parse(path)["locals"] for name, value in block.items()}


def test_the_dagster_tasks_get_the_password_as_a_secret_and_the_aws_mode_settings(
    offline: Workspace,
):
    evaluated = offline.evaluate(
        "{containers = {for name, c in local.dagster_containers : name => {"
        "environment = [for e in c.environment : e.name], secrets = [for s in c.secrets : s.name],"
        " command = c.command, ports = [for p in c.portMappings : p.containerPort]}},"
        " jobs = keys(local.job_settings),"
        f" known = {{for k in {json.dumps(KNOWN_BEFORE_APPLY)} :"
        " k => local.dagster_environment[k]}}"
    )
    containers, known = evaluated["containers"], evaluated["known"]
    assert containers["webserver"]["command"] == [
        *("dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml")
    ]
    assert containers["daemon"]["command"] == ["dagster-daemon", "run", "-w", "workspace.yaml"]
    assert (containers["webserver"]["ports"], containers["daemon"]["ports"]) == ([3000], [])
    names = containers["daemon"]["environment"]
    for container in containers.values():
        assert container["secrets"] == ["DAGSTER_PG_PASSWORD"]
        assert container["environment"] == names
    assert not [name for name in names if "PASSWORD" in name]
    # the secret is the one RDS manages, its password key
    settings = locals_of(DAGSTER)
    assert settings["dagster_secrets"] == [
        {"name": "DAGSTER_PG_PASSWORD", "valueFrom": "${local.dagster_db_secret_arn}:password::"}
    ]
    secret = "${aws_db_instance.dagster.master_user_secret[0].secret_arn}"
    assert settings["dagster_db_secret_arn"] == secret
    [database] = resources_of(DAGSTER, "aws_db_instance").values()
    assert database["manage_master_user_password"] is True
    assert "password" not in database

    # the jobs' settings and the state machine's: the code location builds its Step Functions
    # Pipes client from exactly these
    assert set(evaluated["jobs"]) <= set(names)
    assert (known["PGSSLMODE"], known["DAGSTER_EVENT_BATCH_SIZE"]) == ("require", "1000")
    environment = {name: known.get(name) or AFTER_APPLY[name] for name in names}
    loaded = load_settings(environment)
    client = pipes_client(loaded)
    assert isinstance(client, PipesStepFunctionsClient)
    assert client.state_machine_arn == AFTER_APPLY["PLATFORM_STATE_MACHINE_ARN"]
    assert loaded.reports.url(loaded.reports.root) == AFTER_APPLY["PLATFORM_REPORTS_URI"]


def test_exactly_one_daemon_and_what_moto_does_not_keep():
    services = resources_of(DAGSTER, "aws_ecs_service")
    daemon, webserver = services["dagster_daemon"], services["dagster_webserver"]
    assert daemon["desired_count"] == 1  # a literal: no variable makes two
    assert (daemon["deployment_minimum_healthy_percent"], daemon["deployment_maximum_percent"]) == (
        0,
        100,
    )
    assert webserver["desired_count"] == "${var.dagster_webserver_count}"
    for service in (daemon, webserver):
        assert service["enable_execute_command"] is True
        assert service["launch_type"] == "FARGATE"
        [network] = service["network_configuration"]
        assert network["assign_public_ip"] is False
        assert network["security_groups"] == ["${aws_security_group.dagster.id}"]
        [breaker] = service["deployment_circuit_breaker"]
        assert (breaker["enable"], breaker["rollback"]) == (True, True)
    [database] = resources_of(DAGSTER, "aws_db_instance").values()
    assert database["performance_insights_enabled"] is True
    assert database["performance_insights_kms_key_id"] == "${aws_kms_key.platform.arn}"
    assert (database["publicly_accessible"], database["storage_encrypted"]) == (False, True)
    [group] = resources_of(DAGSTER, "aws_db_parameter_group").values()
    assert {p["name"]: p["value"] for p in group["parameter"]}["rds.force_ssl"] == "1"
    [endpoints] = [resources_of(INFRA / "network.tf", "aws_vpc_endpoint")["interface"]]
    for service in ("states", "ssmmessages"):  # the Pipes client's API, ECS Exec's channel
        assert f'"{service}"' in endpoints["for_each"]


def test_the_ui_has_no_public_way_in(offline: Workspace):
    assert offline.evaluate("[local.dagster_lb, local.dagster_oidc]") == [False, False]
    *internal, rules = offline.evaluate(
        "[local.dagster_lb, local.dagster_oidc, local.dagster_ui_cidrs, local.dagster_rules]",
        "-var=dagster_ui=internal_alb",
        CERTIFICATE,
    )
    assert internal == [True, False, ["10.42.0.0/16"]]  # the VPC's own range by default
    ingress = {name: rule for name, rule in rules.items() if rule["direction"] == "ingress"}
    assert {(r["group"], r["port"], r["peer"]) for r in ingress.values()} == {
        ("dagster", 3000, "lb"),
        ("db", 5432, "dagster"),
        ("endpoints", 443, "dagster"),
    }
    # the only rules with an address range: users to the internal load balancer, and the load
    # balancer out to the identity provider with OIDC
    with_ranges = {
        (kind, name): rule.get("cidr_ipv4")
        for kind in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
        for name, rule in resources_of(DAGSTER, kind).items()
        if "cidr_ipv4" in rule
    }
    assert with_ranges == {
        ("aws_vpc_security_group_ingress_rule", "dagster_lb_from_users"): "${each.value}",
        ("aws_vpc_security_group_egress_rule", "dagster_lb_to_identity_provider"): "0.0.0.0/0",
    }
    egress = resources_of(DAGSTER, "aws_vpc_security_group_egress_rule")
    assert egress["dagster_lb_to_identity_provider"]["count"] == "${local.dagster_oidc ? 1 : 0}"
    [balancer] = resources_of(DAGSTER, "aws_lb").values()
    assert balancer["internal"] is True
    [listener] = resources_of(DAGSTER, "aws_lb_listener").values()
    assert (listener["port"], listener["protocol"]) == (443, "HTTPS")
    refused = refusal(offline, "-var=dagster_ui=public", '-var=dagster_ui_cidrs=["0.0.0.0/0"]')
    assert "one of none, internal_alb, alb_oidc" in refused
    assert "never the whole internet" in refused
    refused = refusal(offline, "-var=dagster_ui=alb_oidc")
    assert "needs a certificate" in refused
    assert "needs the identity provider" in refused
