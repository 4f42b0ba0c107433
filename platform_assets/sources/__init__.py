"""Sources: each kind (registry.py) turns one partition of upstream data into Arrow batches."""
