"""A source's credentials go only where the catalog sends them, locally and in aws mode: an API
whose next page is on another host gets that host asked nothing, and the failing run leaves its
token and key in no line it prints, no file and no S3 object."""

from __future__ import annotations

from pathlib import Path

import boto3

from testkit.aws import put_secret
from testkit.upstreams import Recorder, serving_two_hosts

TOKEN = "tok-7Yq2-stays-home"
KEY = "key-P9w4-stays-home"
CATALOG = """
sources:
  - name: feed
    description: A paged JSON feed whose next page is on another host.
    read:
      kind: http_api
      base_url_env: FEED_URL
      path: /link
      params: {{to: "{second}", api_key: "{{secret[key]}}"}}
      headers: {{Authorization: "Bearer {{secret[token]}}"}}
      secrets:
        token: {{env: FEED_TOKEN, aws_secret: platform/feed-token}}
        key: {{env: FEED_KEY, aws_secret: platform/feed-key}}
      records: items
      pagination: {{style: link}}
    partitioning: {{granularity: daily, start: 2024-01-01, end: 2024-02-01}}
    columns: {{id: int64}}
"""


def test_a_link_to_another_host_is_not_followed_and_the_secrets_appear_nowhere(
    either_env, run_main, tmp_path
):
    with serving_two_hosts() as (first, second):
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(CATALOG.format(second=second))
        env = {**either_env, "PLATFORM_CATALOG": str(catalog), "FEED_URL": first}
        if env["PLATFORM_ENV"] == "aws":
            put_secret("platform/feed-token", TOKEN)
            put_secret("platform/feed-key", KEY)
        else:
            env |= {"FEED_TOKEN": TOKEN, "FEED_KEY": KEY}
        result = run_main("push", "--source", "feed", "--partition", "2024-01-05", env=env)

    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    print(f"\n{env['PLATFORM_ENV']}: {last}")
    assert last.startswith("main.py: failed: source feed partition 2024-01-05: "), last
    assert "api_key=***" in last and "a host the catalog does not allow" in last, last
    assert Recorder.seen == [], "the second host was asked nothing"
    printed = result.stdout + result.stderr
    assert [secret for secret in (TOKEN, KEY) if secret in printed] == []
    left = files_left(tmp_path) | objects_left(env)
    run_files = {Path(name).suffix: data for name, data in left.items() if "push-feed" in name}
    assert sorted(run_files) == [".json", ".log"], "the run's log and report are among them"
    assert b"a host the catalog does not allow" in run_files[".log"], "the log holds the error"
    leaks = [name for name, data in left.items() if TOKEN.encode() in data or KEY.encode() in data]
    assert leaks == [], "no file or object the run left holds a secret"


def files_left(directory: Path) -> dict[str, bytes]:
    """Every file under the test's folder: PLATFORM_HOME (the lake and logs locally), the
    catalog."""
    return {str(path): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def objects_left(env: dict[str, str]) -> dict[str, bytes]:
    """In aws mode, every object in the lake's bucket; locally, none."""
    if env["PLATFORM_ENV"] != "aws":
        return {}
    bucket = env["PLATFORM_LAKE_URI"].removeprefix("s3://").split("/")[0]
    s3 = boto3.client("s3")
    names = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    return {
        f"s3://{bucket}/{name}": s3.get_object(Bucket=bucket, Key=name)["Body"].read()
        for name in names
    }
