# The data volume lives in this root's own state, apart from the cluster: destroying the
# cluster can only detach it. Deleting it means destroying THIS root, which
# playbooks/destroy.yml does only with destroy_data=true and the volume name typed back.
locals {
  use_existing = var.existing || var.existing_id != null
}

data "openstack_blockstorage_volume_v3" "existing" {
  count = var.existing && var.existing_id == null ? 1 : 0
  name  = var.name
}

resource "openstack_blockstorage_volume_v3" "this" {
  count = local.use_existing ? 0 : 1

  name              = var.name
  size              = var.size
  volume_type       = var.volume_type
  availability_zone = var.availability_zone
  description       = "MLOps platform data: survives cluster destroy"
  metadata = {
    "mlops-data" = "true"
  }
}
