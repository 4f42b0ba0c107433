# State lives in the bucket that infra/bootstrap creates; name it at init time:
#   terraform init -backend-config="bucket=$(terraform -chdir=bootstrap output -raw state_bucket)"
terraform {
  backend "s3" {
    key          = "platform/terraform.tfstate"
    encrypt      = true
    use_lockfile = true # S3-native locking; DynamoDB locking is deprecated
  }
}
