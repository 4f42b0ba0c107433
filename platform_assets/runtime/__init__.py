"""What main.py runs, in Batch or in a subprocess: no Dagster here but dagster_pipes."""
