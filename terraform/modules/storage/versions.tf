# The provider's version is pinned by the roots (terraform/ and terraform/data-volume/).
terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}
