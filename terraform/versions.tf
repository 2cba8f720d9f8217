terraform {
  required_version = ">= 1.10.0"
  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.4"
    }
  }
  # State is local by default. To keep it in an S3-compatible object store, set
  # mlops_terraform_backend in the platform config: the terraform_stack module writes
  # backend_override.tf.json (terraform { backend "s3" {} }) and passes the settings as
  # -backend-config, with use_lockfile = true for state locking without DynamoDB.
}

provider "openstack" {
  cloud = var.cloud
}
