"""Rehearsal: `terraform apply` of infra/ against moto on loopback, Dagster's control plane read
back, a scheduled run through what was applied, a catalog cron change seen by a plan, then
`terraform destroy`.

The provider override (endpoints, skip flags, path-style S3) exists only in the test's copy of
infra/; a real deployment never sees it. Where moto cannot do what AWS does, the rehearsal sets
the variables infra/ keeps for that (a generated password instead of Redshift-managed; an
explicit Batch service role; Dagster's deletion protection off), or completes moto
(`moto_completions`); tests/infra/dagster_on_moto.py says where moto stops short of Dagster's
control plane.
"""

import copy
import datetime as dt
import json
import time

import boto3
import dagster as dg
import psycopg
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.events.models import Rule
from moto.events.utils import EventMessageType, EventTemplateParser
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, iam_backends
from moto.redshift.models import Cluster
from moto.redshift.responses import RedshiftResponse
from moto.s3.models import FakeBucket
from moto.sns.models import sns_backends
from moto.stepfunctions.responses import StepFunctionResponse

from platform_assets.orchestration.sensors import reports_sensor
from platform_assets.partitions import Granularity, previous_period
from platform_assets.settings import load_settings
from platform_assets.warehouse.redshift import COPY_MANIFESTS
from testkit.aws import FAKE_AWS, POSTGRES_DSN
from tests.infra.dagster_on_moto import (
    check_it_is_gone,
    check_the_dagster_control_plane,
    rehearsal_variables,
)
from tests.infra.terraform import workspace

SERVICES = [
    "batch",
    "ec2",
    "ecr",
    "ecs",
    "elbv2",
    "events",
    "glue",
    "iam",
    "kms",
    "logs",
    "rds",
    "redshift",
    "s3",
    "scheduler",
    "secretsmanager",
    "sfn",
    "sns",
    "sts",
]


def provider_override(endpoint: str) -> str:
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    return f"""terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
"""


def _permission_over_tls(bucket: FakeBucket, action: str, resource: str) -> PermissionResult:
    """moto evaluates bucket policies without their conditions, so a TLS-only Deny denies every
    request; the rehearsal's plain-HTTP loopback stands in for HTTPS, where it never applies."""
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(bucket.policy)
    policy["Statement"] = [
        statement
        for statement in policy["Statement"]
        if statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") != "false"
    ]
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


def _user_parameters(response: RedshiftResponse) -> dict[str, str]:
    """The values set on the request's parameter group (kept on moto's group object)."""
    name = response._get_param("ParameterGroupName")
    [group] = response.redshift_backend.describe_cluster_parameter_groups(name)
    return group.__dict__.setdefault("user_parameters", {})


def _modify_parameter_group(response: RedshiftResponse) -> ActionResult:
    """ModifyClusterParameterGroup, which moto lacks: the group keeps the values given."""
    given = response._get_param("Parameters")
    _user_parameters(response).update({p["ParameterName"]: p["ParameterValue"] for p in given})
    name = response._get_param("ParameterGroupName")
    return ActionResult({"ParameterGroupName": name, "ParameterGroupStatus": "in-sync"})


def _described_parameters(response: RedshiftResponse) -> ActionResult:
    """DescribeClusterParameters with the values set, and only those under Source=user."""
    name, user = response._get_param("ParameterGroupName"), _user_parameters(response)
    parameters = [
        {**p, "ParameterValue": user[p["ParameterName"]], "Source": "user"}
        if p["ParameterName"] in user
        else p
        for p in response.redshift_backend.describe_cluster_parameters(name)
    ]
    if response._get_param("Source") == "user":
        parameters = [p for p in parameters if p["Source"] == "user"]
    return ActionResult({"Parameters": parameters})


def _valid_definition(response: StepFunctionResponse) -> ActionResult:
    return ActionResult({"result": "OK", "diagnostics": []})


_send_to_queues_and_logs = Rule.send_to_targets


def _send_to_targets_and_topics(
    rule: Rule, event: EventMessageType, transform_input: bool = True
) -> None:
    """moto's rules deliver to queues, log groups and buses, not to SNS topics (it raises
    NotImplementedError): publish a matching event to a topic target as EventBridge would, with
    the target's input transformer, and leave the other targets to moto. moto fills only JSON
    templates, so a plain-text one is filled as the JSON string that holds it."""
    topics = [target for target in rule.targets if target["Arn"].split(":")[2] == "sns"]
    if topics and rule.event_pattern.matches_event(event):
        for target in topics:
            transformer = target["InputTransformer"]
            message = EventTemplateParser.parse(
                input_template=json.dumps(transformer["InputTemplate"]),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=event,
            )
            topic = sns_backends[rule.account_id][rule.region_name].get_topic(target["Arn"])
            topic.publish(str(message))
    others = copy.copy(rule)
    others.targets = [target for target in rule.targets if target not in topics]
    _send_to_queues_and_logs(others, event, transform_input)


def execution_status_change(machine_arn: str, execution: str, status: str) -> dict:
    """A "Step Functions Execution Status Change" event, as Step Functions sends it."""
    account, machine = machine_arn.split(":")[4], machine_arn.split(":")[-1]
    execution_arn = f"arn:aws:states:us-east-1:{account}:execution:{machine}:{execution}"
    detail = {"executionArn": execution_arn, "stateMachineArn": machine_arn, "name": execution}
    return {
        "Source": "aws.states",
        "DetailType": "Step Functions Execution Status Change",
        "Resources": [execution_arn],
        "Detail": json.dumps({**detail, "status": status}),
    }


def planned_changes(space) -> dict[str, dict]:
    """The resources a plan would change, with their before and after (terraform show -json)."""
    space.run("plan", "-input=false", "-out=rehearsal.plan")
    plan = json.loads(space.run("show", "-json", "rehearsal.plan"))
    return {
        change["address"]: change["change"]
        for change in plan["resource_changes"]
        if change["change"]["actions"] != ["no-op"] and change["change"]["actions"] != ["read"]
    }


@pytest.fixture
def moto_completions(monkeypatch):
    """What moto 5.2.5 lacks for this rehearsal: conditions in bucket policies (see below),
    ValidateStateMachineDefinition (moto runs the definition for real later) and
    ListStateMachineVersions, which the provider calls, fields of a cluster it waits on,
    ModifyClusterParameterGroup (require_ssl is always set) with the values read back,
    EventBridge rules' SNS targets, and the AWS-managed policy of RDS enhanced monitoring (moto
    holds AWS's managed policies only when told to load them all)."""
    monkeypatch.setattr(FakeBucket, "get_permission", _permission_over_tls)
    monkeypatch.setattr(Rule, "send_to_targets", _send_to_targets_and_topics)
    monkeypatch.setattr(
        StepFunctionResponse, "validate_state_machine_definition", _valid_definition, raising=False
    )
    monkeypatch.setattr(
        StepFunctionResponse,
        "list_state_machine_versions",
        lambda response: ActionResult({"stateMachineVersions": []}),
        raising=False,
    )
    monkeypatch.setattr(
        Cluster,
        "cluster_availability_status",
        property(lambda cluster: "Available" if cluster.status == "available" else "Modifying"),
        raising=False,
    )
    monkeypatch.setattr(Cluster, "availability_zone_relocation_status", "disabled", raising=False)
    monkeypatch.setattr(Cluster, "multi_az", "Disabled", raising=False)
    monkeypatch.setattr(
        RedshiftResponse, "modify_cluster_parameter_group", _modify_parameter_group, raising=False
    )
    monkeypatch.setattr(RedshiftResponse, "describe_cluster_parameters", _described_parameters)
    monitoring = "AmazonRDSEnhancedMonitoringRole"
    policy = AWSManagedPolicy.from_data(
        monitoring, DEFAULT_ACCOUNT_ID, "aws", json.loads(aws_managed_policies_data)[monitoring]
    )
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    monkeypatch.setitem(iam.managed_policies, policy.arn, policy)


def check_failed_executions_reach_the_subscriber(
    name: str, outputs: dict[str, str], queue_url: str
) -> None:
    """What infra/alerts.tf applied, and the one line each failed execution sends the user's
    subscriber; moto's Step Functions sends no status changes, so they are put as it would."""
    machine_arn, topic_arn = outputs["state_machine_arn"], outputs["alerts_topic_arn"]
    rule = boto3.client("events").describe_rule(Name=f"{name}-failed-executions")
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": [machine_arn], "status": ["FAILED", "TIMED_OUT", "ABORTED"]},
    }
    [target] = boto3.client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == topic_arn
    topic = boto3.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    [publisher] = json.loads(topic["Policy"])["Statement"]
    assert publisher["Principal"] == {"Service": "events.amazonaws.com"}
    assert publisher["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}
    key_policy = boto3.client("kms").get_key_policy(
        KeyId=topic["KmsMasterKeyId"], PolicyName="default"
    )["Policy"]
    [key_use] = [s for s in json.loads(key_policy)["Statement"] if s["Sid"] == "AlertsTopicPublish"]
    assert (
        key_use["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"] == topic_arn
    )
    other_machine = machine_arn.replace(f":stateMachine:{name}", ":stateMachine:someone-else")
    changes = [
        execution_status_change(machine_arn, "flights-scheduled-1", "FAILED"),
        execution_status_change(machine_arn, "flights-scheduled-2", "SUCCEEDED"),
        execution_status_change(machine_arn, "range-2013-01", "TIMED_OUT"),
        execution_status_change(other_machine, "theirs", "FAILED"),
        execution_status_change(machine_arn, "by-hand", "ABORTED"),
        execution_status_change(machine_arn, "by-hand-2", "RUNNING"),
    ]
    assert not [
        entry
        for entry in boto3.client("events").put_events(Entries=changes)["Entries"]
        if "ErrorCode" in entry
    ]
    received = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)[
        "Messages"
    ]
    lines = sorted(json.loads(message["Body"])["Message"] for message in received)
    execution_arn = f"{machine_arn.replace(':stateMachine:', ':execution:')}:by-hand"
    assert len(lines) == 3, lines
    assert lines[0] == (
        f"{name}: execution by-hand ended ABORTED ({execution_arn}) https://us-east-1.console.aws"
        ".amazon.com/states/home?region=us-east-1#/v2/executions/details/" + execution_arn
    )
    assert [line.split(" ended ")[1].split(" ")[0] for line in lines] == [
        "ABORTED",
        "FAILED",
        "TIMED_OUT",
    ]


@pytest.mark.timeout(1800)
def test_apply_run_on_schedule_change_the_cron_and_destroy(
    tmp_path,
    moto_endpoint,
    batch_runner,
    redshift,
    aws_env,
    moto_completions,
    landed_flights,
):
    suffix = aws_env["PLATFORM_REDSHIFT_SCHEMA"].replace("_", "-")
    name = f"rh-{suffix}"
    # yesterday is what a schedule firing now loads: land a real day of flights under that date
    day = previous_period(Granularity.DAILY, dt.datetime.now(dt.UTC)).start
    landing = f"s3://landing/{name}"
    source_day = landed_flights / "flights/2013/11/flights_2013-11-27.csv"
    boto3.client("s3").put_object(
        Bucket="landing",
        Key=f"{name}/landing/flights/{day:%Y}/{day:%m}/flights_{day:%Y-%m-%d}.csv",
        Body=source_day.read_bytes(),
    )
    catalog = (
        tmp_path / "catalog.yaml"
    )  # the seed's flights, open-ended so yesterday is a partition
    seed = load_settings({}).catalog_path.read_text()
    catalog.write_text(seed.replace("      end: 2014-01-01\n", ""))
    sqs = boto3.client("sqs")  # the user's subscriber: a queue, so that the test can read it
    alerts_queue = sqs.create_queue(QueueName=f"{name}-alerts")["QueueUrl"]
    alerts_queue_arn = sqs.get_queue_attributes(QueueUrl=alerts_queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    service_role = boto3.client("iam").create_role(
        RoleName=f"{name}-batch", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]

    space = workspace(tmp_path / "rehearsal", provider_override(moto_endpoint))
    container = {  # where the rehearsal's stand-ins are (production needs none of these)
        **FAKE_AWS,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "PLATFORM_CATALOG": str(catalog),
        "PLATFORM_LANDING_URI": landing,
        "PLATFORM_REDSHIFT_HOST": "127.0.0.1",
        "PLATFORM_REDSHIFT_PORT": aws_env["PLATFORM_REDSHIFT_PORT"],
        "PLATFORM_REDSHIFT_DATABASE": "test",
        "PLATFORM_REDSHIFT_USER": "postgres",
        "PLATFORM_REDSHIFT_SCHEMA": aws_env["PLATFORM_REDSHIFT_SCHEMA"],
        "PLATFORM_REDSHIFT_SSL": "false",
    }
    (space.directory / "rehearsal.auto.tfvars.json").write_text(
        json.dumps(
            {
                "name": name,
                "region": "us-east-1",
                "catalog_path": str(catalog),
                "redshift_managed_password": False,
                "redshift_nodes": 1,
                "redshift_node_type": "dc2.large",
                "batch_service_role_arn": service_role,
                "max_concurrent_jobs": 2,
                "job_environment": container,
                "alert_subscriptions": [{"protocol": "sqs", "endpoint": alerts_queue_arn}],
                **rehearsal_variables(name),
            }
        )
    )

    space.run("apply", "-auto-approve", "-input=false", timeout=900)
    outputs = {
        key: value["value"] for key, value in json.loads(space.run("output", "-json")).items()
    }
    assert outputs["lake_bucket"].startswith(name)
    assert outputs["state_machine_arn"].endswith(f":stateMachine:{name}")
    # the lake's Glue database, where main.py registers the Iceberg tables
    glue_database = boto3.client("glue").get_database(Name=outputs["glue_database"])["Database"]
    assert glue_database["Name"] == f"{name.replace('-', '_')}_lake"
    assert glue_database["LocationUri"] == f"s3://{outputs['lake_bucket']}/lake"
    # the seed's API and database sources give the jobs their way out: a NAT gateway per zone
    ec2 = boto3.client("ec2")
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    assert len(ec2.describe_nat_gateways(Filters=in_vpc)["NatGateways"]) == 2
    assert len(outputs["nat_public_ips"]) == 2
    routes = [
        route
        for table in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
        for route in table["Routes"]
        if route.get("NatGatewayId")
    ]
    assert len(routes) == 2 and {r["DestinationCidrBlock"] for r in routes} == {"0.0.0.0/0"}
    # the warehouse's parameters: the default's, with require_ssl merged in by infra/
    parameters = boto3.client("redshift").describe_cluster_parameters(
        ParameterGroupName=name, Source="user"
    )["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in parameters} == {
        "enable_user_activity_logging": "true",
        "require_ssl": "true",
    }

    # Dagster's webserver and one daemon on ECS, its PostgreSQL, its load balancer and roles
    check_the_dagster_control_plane(name, outputs)

    # failed, timed-out and aborted executions of this state machine alone reach the subscriber
    check_failed_executions_reach_the_subscriber(name, outputs, alerts_queue)

    # a tick of the schedule: its target, with its input, started as the scheduler would
    scheduler, sfn = boto3.client("scheduler"), boto3.client("stepfunctions")
    schedule = scheduler.get_schedule(Name=f"{name}-flights", GroupName=name)
    assert schedule["ScheduleExpression"] == "cron(0 6 * * ? *)"
    execution = sfn.start_execution(
        stateMachineArn=schedule["Target"]["Arn"], input=schedule["Target"]["Input"]
    )
    deadline = time.monotonic() + 300
    while (
        status := sfn.describe_execution(executionArn=execution["executionArn"])["status"]
    ) == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert status == "SUCCEEDED", [job.output[-2000:] for job in batch_runner.jobs[-2:]]
    job = batch_runner.jobs[-1]
    assert job.command == ["push", "--source", "flights"]
    assert job.environment["PLATFORM_LAKE_URI"] == f"s3://{outputs['lake_bucket']}/lake"
    assert job.environment["PLATFORM_GLUE_DATABASE"] == outputs["glue_database"]
    expected_rows = len(source_day.read_text().splitlines()) - 1
    with psycopg.connect(POSTGRES_DSN) as connection:
        loaded = connection.execute(
            f'SELECT count(*) FROM "{aws_env["PLATFORM_REDSHIFT_SCHEMA"]}".flights WHERE dt = %s',
            [day],
        ).fetchone()[0]
    assert loaded == expected_rows

    # ... and Dagster records it, once, through the sensor
    settings = load_settings(
        {**dict(job.environment), "PLATFORM_HOME": str(tmp_path / "dagster-side")}
    )
    sensor = reports_sensor(settings)
    with dg.instance_for_test() as instance:
        tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        for event in tick.asset_events:
            instance.report_runless_asset_event(event)
        again = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=tick.cursor))
        assert again.asset_events == []
        [record] = instance.fetch_materializations(
            dg.AssetKey(["warehouse", "flights"]), limit=5
        ).records
        assert record.partition_key == day.isoformat()
        assert record.asset_materialization.metadata["dagster/row_count"].value == expected_rows

    # the load removed its COPY manifests; what a killed load leaves, the lake bucket expires
    staging = settings.lake.store.path(f"{COPY_MANIFESTS}/").partition("/")[2]
    s3 = boto3.client("s3")
    assert "Contents" not in s3.list_objects_v2(Bucket=outputs["lake_bucket"], Prefix=staging)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=outputs["lake_bucket"])["Rules"]
    expiring = [rule for rule in rules if rule.get("Filter", {}).get("Prefix") == staging]
    assert [rule["Expiration"]["Days"] for rule in expiring] == [1], rules

    # a cron changed in the catalog changes the schedule in a plan, with no edit in infra/;
    # compared with a plan before the change, as moto reads some attributes back differently
    before = planned_changes(space)
    catalog.write_text(catalog.read_text().replace('"0 6 * * *"', '"30 7 * * 1-5"'))
    after = planned_changes(space)
    schedule = 'aws_scheduler_schedule.source["flights"]'
    assert schedule not in before
    assert set(after) - set(before) == {schedule}
    assert after[schedule]["actions"] == ["update"]
    assert after[schedule]["before"]["schedule_expression"] == "cron(0 6 * * ? *)"
    assert after[schedule]["after"]["schedule_expression"] == "cron(30 7 ? * MON-FRI *)"

    # what the run wrote must go first (the buckets are not force-destroyed); moto keeps writing
    # S3 access logs until the logging configurations are gone, so a second pass may be needed
    for _ in range(2):
        for bucket in boto3.resource("s3").buckets.all():
            if bucket.name.startswith(name):
                bucket.object_versions.delete()
        destroyed = space.run(
            "destroy", "-auto-approve", "-input=false", timeout=900, allowed=(0, 1)
        )
        if "Destroy complete!" in destroyed:
            break
    assert "Destroy complete!" in destroyed
    assert name not in [machine["name"] for machine in sfn.list_state_machines()["stateMachines"]]
    buckets = [bucket["Name"] for bucket in boto3.client("s3").list_buckets()["Buckets"]]
    assert not [bucket for bucket in buckets if bucket.startswith(name)]
    check_it_is_gone(name)
