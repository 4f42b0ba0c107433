"""infra/glue.tf and athena.tf without AWS: the lake's Glue database, who may use it, and the
optional Athena workgroup (tests/infra/plans/glue.tftest.hcl holds the plans)."""

from tests.infra.terraform import INFRA, Workspace
from tests.infra.test_terraform_offline import (  # the workspace and the readers of infra/
    offline,  # noqa: F401 (a fixture)
    refusal,
    statements_of,
)

# what pyiceberg's GlueCatalog calls: get_database, get_table(s), create_table, update_table, and
# delete_table when the lake moved (lake/iceberg.py registers its tables again)
ICEBERG_CATALOG = {
    "glue:DeleteTable",
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
}


def test_the_plans_of_the_database_its_users_and_athena(offline: Workspace):  # noqa: F811
    """The database, the job role's Glue statement (exactly the catalog, the database and its
    tables), the readers' policy, the jobs' and Dagster's PLATFORM_GLUE_DATABASE, the Athena
    workgroup absent by default and encrypted and enforced when asked, and the refused name."""
    assert "6 passed, 0 failed" in offline.plan_test("glue")


def test_the_database_is_named_after_the_platform_unless_named(offline: Workspace):  # noqa: F811
    assert offline.evaluate("local.glue_database") == "data_platform_lake"
    assert offline.evaluate("local.glue_database", "-var=name=acme-data-2") == "acme_data_2_lake"
    assert offline.evaluate("local.glue_database", "-var=glue_database=sales") == "sales"
    for name in ("Sales", "sales-lake", "_sales", "9sales"):
        said = refusal(offline, f"-var=glue_database={name}", expression="local.glue_database")
        assert "glue_database: a lower-case letter, then" in said, name


def test_only_the_job_role_writes_the_catalog_and_nothing_deletes_from_it():
    statements = [item for path in sorted(INFRA.glob("*.tf")) for item in statements_of(path)]
    glue = {
        (where, statement.get("sid")): set(statement["actions"])
        for where, statement in statements
        if any(action.startswith("glue:") for action in statement["actions"])
    }
    assert set(glue) == {("iam.tf:job", "IcebergCatalog"), ("iam.tf:lake_reader", "ReadCatalog")}
    assert glue["iam.tf:job", "IcebergCatalog"] == ICEBERG_CATALOG
    assert all(
        action.startswith("glue:Get") for action in glue["iam.tf:lake_reader", "ReadCatalog"]
    )
    [catalog] = [s for where, s in statements if s.get("sid") == "IcebergCatalog"]
    assert catalog["resources"] == [
        "${local.glue_catalog_arn}",
        "${local.glue_database_arn}",
        "${local.glue_tables_arn}",
    ]
    # the readers' fixed statements read, and decrypt only through S3
    readers = {s["sid"]: s for where, s in statements if where == "iam.tf:lake_reader"}
    assert {a for s in readers.values() for a in s["actions"] if not a.startswith("glue:")} == {
        "s3:GetObject",
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "kms:Decrypt",
    }
    [through] = readers["DecryptThroughS3"]["condition"]
    assert (through["variable"], through["values"]) == (
        "kms:ViaService",
        ["s3.${var.region}.amazonaws.com"],
    )
