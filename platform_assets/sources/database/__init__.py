"""The `database` kind: a table or query over SQLAlchemy, streamed in chunks into Arrow."""
