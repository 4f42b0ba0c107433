"""A Dagster code location that is a small, complete AWS data platform."""
