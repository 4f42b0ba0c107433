"""What the tests and the benchmarks share: main.py started as a process (and through Dagster),
the aws-mode environment over a moto server, the stand-ins for what moto lacks (Redshift as
PostgreSQL behind a proxy, an S3 proxy that fails requests on command, the completion of moto's
Step Functions → Batch path), the sample upstreams served on loopback, and the warehouse and
catalog helpers tests read results with. Not part of the platform: it is not installed, and it
is imported from the repository's root (pytest's rootdir, `python -m bench…`)."""
