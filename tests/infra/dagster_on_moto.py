"""What infra/dagster.tf applied on moto, read back through boto3: the rehearsal's part for
Dagster's control plane.

moto 5.2.5 keeps less than AWS in four places, each proven offline instead
(tests/infra/test_terraform_offline.py reads the configuration):
- ECS CreateService drops enableExecuteCommand, healthCheckGracePeriodSeconds and the
  deploymentConfiguration (minimum/maximum percent, circuit breaker); moto runs no task either,
  so nothing here starts Dagster or opens an ECS Exec session;
- RDS drops Performance Insights (a plan after apply wants to turn it on again);
- RDS keeps the parameter group's values but returns them without their Source, so the provider,
  which reads back only user-set parameters, sees none (asserted here through boto3);
- ELBv2 stores the OIDC action as given and checks only that the certificate is ACM's: nothing
  authenticates anyone.
The rehearsal applies with dagster_ui = "alb_oidc" (the most there is to apply) and deletion
protection off (so that destroy can run).
"""

import json

import boto3

WEBSERVER, DAEMON = "dagster-webserver", "dagster-daemon"

OIDC = {
    "issuer": "https://idp.example.com",
    "authorization_endpoint": "https://idp.example.com/authorize",
    "token_endpoint": "https://idp.example.com/token",
    "user_info_endpoint": "https://idp.example.com/userinfo",
    "client_id": "dagster",
    "client_secret": "rehearsal-only",
}


def rehearsal_variables(name: str) -> dict:
    """infra/'s Dagster variables for the rehearsal: an internal ALB with OIDC, behind a
    certificate moto's ACM issues."""
    certificate = boto3.client("acm").request_certificate(DomainName=f"{name}.example.internal")
    return {
        "dagster_ui": "alb_oidc",
        "dagster_certificate_arn": certificate["CertificateArn"],
        "dagster_oidc": OIDC,
        "dagster_ui_cidrs": ["10.8.0.0/16"],
        "dagster_deletion_protection": False,
    }


def check_the_dagster_control_plane(name: str, outputs: dict) -> None:
    cluster, secret_arn = outputs["dagster_cluster"], outputs["dagster_db_secret_arn"]
    ecs, rds, ec2 = boto3.client("ecs"), boto3.client("rds"), boto3.client("ec2")
    [described] = ecs.describe_clusters(clusters=[cluster], include=["CONFIGURATIONS", "SETTINGS"])[
        "clusters"
    ]
    assert {"name": "containerInsights", "value": "enabled"} in described["settings"]
    exec_logs = described["configuration"]["executeCommandConfiguration"]
    assert exec_logs["logging"] == "OVERRIDE"
    assert exec_logs["logConfiguration"]["cloudWatchEncryptionEnabled"] is True

    # both services, one task each, in the private subnets without public addresses
    services = {
        service["serviceName"]: service
        for service in ecs.describe_services(cluster=cluster, services=[WEBSERVER, DAEMON])[
            "services"
        ]
    }
    assert {key: service["desiredCount"] for key, service in services.items()} == {
        WEBSERVER: 1,
        DAEMON: 1,
    }
    networks = [
        service["networkConfiguration"]["awsvpcConfiguration"] for service in services.values()
    ]
    assert [service["launchType"] for service in services.values()] == ["FARGATE", "FARGATE"]
    assert [network["assignPublicIp"] for network in networks] == ["DISABLED", "DISABLED"]
    [dagster_group] = {group for network in networks for group in network["securityGroups"]}
    assert services[DAEMON]["loadBalancers"] == []
    [balanced] = services[WEBSERVER]["loadBalancers"]
    assert (balanced["containerName"], balanced["containerPort"]) == (WEBSERVER, 3000)

    # the password: the RDS-managed secret, injected through `secrets`, nowhere in plain
    password = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    )["password"]
    task_roles = set()
    for service in services.values():
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
            "taskDefinition"
        ]
        assert password not in json.dumps(definition)
        [container] = definition["containerDefinitions"]
        assert container["name"] == service["serviceName"]
        assert container["secrets"] == [
            {"name": "DAGSTER_PG_PASSWORD", "valueFrom": f"{secret_arn}:password::"}
        ]
        environment = {item["name"]: item["value"] for item in container["environment"]}
        assert not [key for key in environment if "PASSWORD" in key]
        assert environment["PLATFORM_STATE_MACHINE_ARN"] == outputs["state_machine_arn"]
        assert environment["PLATFORM_PIPES_BUCKET"] == outputs["pipes_bucket"]
        assert environment["DAGSTER_EVENT_BATCH_SIZE"] == "1000"
        assert container["logConfiguration"]["options"]["awslogs-group"] == f"/aws/ecs/{cluster}"
        task_roles.add((definition["taskRoleArn"], definition["executionRoleArn"]))
    [(task_role, execution_role)] = task_roles

    # the database: encrypted with the platform's key, private, TLS forced, its port from the
    # Dagster tasks alone
    [instance] = rds.describe_db_instances(DBInstanceIdentifier=f"{name}-dagster")["DBInstances"]
    assert instance["StorageEncrypted"] is True
    assert instance["PubliclyAccessible"] is False
    assert instance["MasterUserSecret"]["SecretArn"] == secret_arn
    assert instance["Endpoint"]["Address"] == environment["DAGSTER_PG_HOST"]
    assert instance["IAMDatabaseAuthenticationEnabled"] is True
    assert instance["BackupRetentionPeriod"] == 7
    assert instance["CopyTagsToSnapshot"] is True
    assert sorted(instance["EnabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    [key] = {instance["KmsKeyId"], instance["MasterUserSecret"]["KmsKeyId"]}
    assert boto3.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Description"] == (
        f"{name}: data at rest"
    )
    [parameter_group] = instance["DBParameterGroups"]
    parameters = rds.describe_db_parameters(
        DBParameterGroupName=parameter_group["DBParameterGroupName"]
    )["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in parameters}["rds.force_ssl"] == "1"
    [database_group] = [group["VpcSecurityGroupId"] for group in instance["VpcSecurityGroups"]]
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [database_group]}]
    )["SecurityGroupRules"]
    [ingress] = [rule for rule in rules if not rule["IsEgress"]]
    assert (ingress["FromPort"], ingress["ToPort"]) == (5432, 5432)
    assert ingress["ReferencedGroupInfo"]["GroupId"] == dagster_group

    # the tasks' group: in from the load balancer only, on the webserver's port
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [dagster_group]}]
    )["SecurityGroupRules"]
    [ingress] = [rule for rule in rules if not rule["IsEgress"]]
    assert (ingress["FromPort"], ingress.get("CidrIpv4")) == (3000, None)
    assert {rule["FromPort"] for rule in rules if rule["IsEgress"]} == {443, 5432}
    assert not [rule for rule in rules if rule.get("CidrIpv4") == "0.0.0.0/0"]

    # the UI: internal, HTTPS only, signing users in before it forwards
    elbv2 = boto3.client("elbv2")
    [balancer] = elbv2.describe_load_balancers(Names=[f"{name}-dagster"])["LoadBalancers"]
    assert balancer["Scheme"] == "internal"
    assert outputs["dagster_ui_url"] == f"https://{balancer['DNSName']}"
    [listener] = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    assert (listener["Port"], listener["Protocol"]) == (443, "HTTPS")
    actions = sorted(listener["DefaultActions"], key=lambda action: action["Order"])
    assert [action["Type"] for action in actions] == ["authenticate-oidc", "forward"]
    assert actions[0]["AuthenticateOidcConfig"]["Issuer"] == OIDC["issuer"]
    assert actions[1]["TargetGroupArn"] == balanced["targetGroupArn"]

    check_the_roles(task_role, execution_role, secret_arn, outputs)


def check_the_roles(task_role: str, execution_role: str, secret_arn: str, outputs: dict) -> None:
    """The Dagster processes hold iam.tf's Dagster policy (the state machine, the Pipes bucket)
    and ECS Exec's channel; the agent reads the one secret."""
    iam = boto3.client("iam")
    role_name = task_role.split("/")[-1]
    [attached] = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    assert attached["PolicyArn"] == outputs["dagster_policy_arn"]
    version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)
    granted = {
        action: statement["Resource"]
        for statement in document["PolicyVersion"]["Document"]["Statement"]
        for action in _listed(statement["Action"])
    }
    machine = outputs["state_machine_arn"]
    executions = machine.replace(":stateMachine:", ":execution:") + ":*"
    assert granted["states:StartExecution"] == machine
    for following in ["DescribeExecution", "StopExecution", "GetExecutionHistory"]:
        assert granted[f"states:{following}"] == executions
    pipes = f"arn:aws:s3:::{outputs['pipes_bucket']}"
    assert {_text(granted[a]) for a in ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]} == {
        f"{pipes}/*"
    }
    assert _text(granted["s3:ListBucket"]) == pipes
    [inline] = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    exec_policy = iam.get_role_policy(RoleName=role_name, PolicyName=inline)["PolicyDocument"]
    assert "ssmmessages:OpenDataChannel" in {
        action for statement in exec_policy["Statement"] for action in _listed(statement["Action"])
    }

    execution_name = execution_role.split("/")[-1]
    [inline] = iam.list_role_policies(RoleName=execution_name)["PolicyNames"]
    statements = iam.get_role_policy(RoleName=execution_name, PolicyName=inline)["PolicyDocument"][
        "Statement"
    ]
    [read] = [s for s in statements if "secretsmanager:GetSecretValue" in _listed(s["Action"])]
    assert read["Resource"] == secret_arn
    [decrypt] = [s for s in statements if "kms:Decrypt" in _listed(s["Action"])]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    }


def check_it_is_gone(name: str) -> None:
    clusters = boto3.client("ecs").describe_clusters(clusters=[f"{name}-dagster"])["clusters"]
    assert [cluster["status"] for cluster in clusters] in ([], ["INACTIVE"])
    instances = boto3.client("rds").describe_db_instances()["DBInstances"]
    assert f"{name}-dagster" not in [i["DBInstanceIdentifier"] for i in instances]


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _text(value: str | list[str]) -> str:
    [only] = _listed(value)
    return only
