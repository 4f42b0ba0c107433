"""The `files` kind: CSV, JSON lines or parquet files dropped by an upstream system."""
