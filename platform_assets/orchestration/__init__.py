"""Dagster, generated from the catalog: assets, checks, jobs and schedules that launch main.py."""
