"""raw/<source> schema_matches: every lake file of the partitions has the source's schema."""

from __future__ import annotations

import pyarrow as pa

from platform_assets.checks.check import SHOWN, Check, CheckSubject, Metadata, Verdict
from platform_assets.contracts import SchemaContract
from platform_assets.layers import Layer
from platform_assets.schemas import describe_difference, fingerprint, lake_schema, narrowed_type


class SchemaMatches(Check):
    layer = Layer.RAW
    name = "schema_matches"
    description = "Every lake file of the partitions has the source's schema."
    joined = frozenset({"expected_fingerprint"})  # the schema may grow between a range's chunks

    def measure(self, subject: CheckSubject) -> Metadata:
        source, periods, lake = subject.source, subject.periods, subject.lake
        expected = lake_schema(subject.schema)
        manifests = lake.manifests(Layer.RAW, source.name, periods)
        problems = [
            f"{period.key}: not in the lake"
            for period, manifest in zip(periods, manifests, strict=True)
            if manifest is None
        ]
        files = [
            (period, entry)
            for period, manifest in zip(periods, manifests, strict=True)
            if manifest is not None
            for entry in manifest.entries
        ]
        schemas = lake.file_schemas([entry for _, entry in files])
        for (period, entry), actual in zip(files, schemas, strict=True):
            if source.schema_contract is SchemaContract.EVOLVE:
                # a file written before the schema grew has the columns (and struct fields) of
                # its day: a subset
                actual_names = set(actual.names)
                expected_then = pa.schema(
                    [
                        f.with_type(narrowed_type(f.type, actual.field(f.name).type))
                        for f in expected
                        if f.name in actual_names
                    ]
                )
                difference = describe_difference(expected_then, actual)
                declared = source.declared_schema
                if not difference and declared is not None:
                    lacking = [n for n in declared.names if n not in actual_names]
                    if lacking:
                        difference = f"missing declared column(s) {', '.join(lacking)}"
            else:
                difference = describe_difference(expected, actual)
            if difference:
                problems.append(f"{period.key}: {entry.url}: {difference}")
        return {
            "expected_fingerprint": fingerprint(expected),
            "files_checked": len(files),
            "problem_count": len(problems),
            "problems": problems[:SHOWN],
        }

    def judge(self, metadata: Metadata) -> Verdict:
        if metadata["problem_count"]:
            return Verdict(False, metadata["problems"][0])
        return Verdict(
            True, f"{metadata['files_checked']} files match {metadata['expected_fingerprint']}"
        )
