# The versions are pinned by the two roots this example calls (../.. and ../../data-volume).
terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}
