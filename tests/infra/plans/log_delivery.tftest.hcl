run "encryption" {
  command = plan
  assert {
    condition     = module.logs_bucket.encryption == "AES256"
    error_message = "the logs bucket must be SSE-S3: ${module.logs_bucket.encryption}"
  }
  assert {
    condition     = module.lake_bucket.encryption == "aws:kms"
    error_message = "the lake bucket uses the platform's key"
  }
  assert {
    condition     = module.pipes_bucket.encryption == "aws:kms"
    error_message = "the Pipes bucket uses the platform's key"
  }
}
