"""The `http_api` kind: a JSON API read page by page, retried with backoff, within bounds."""
