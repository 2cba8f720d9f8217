resource "openstack_blockstorage_volume_v3" "extra" {
  for_each = var.extra_volumes

  name = "${var.name}-${each.key}-extra"
  size = each.value
}

resource "openstack_compute_volume_attach_v2" "extra" {
  for_each = var.extra_volumes

  instance_id = var.server_ids[each.key]
  volume_id   = openstack_blockstorage_volume_v3.extra[each.key].id
}

# Only the attachment lives in the cluster's state: destroying the cluster detaches the
# data volume, it never deletes it (the volume itself is in terraform/data-volume).
resource "openstack_compute_volume_attach_v2" "data" {
  # Known at plan time even when the volume's id is not (created in the same apply).
  count = var.data_volume == null ? 0 : 1

  instance_id = var.server_ids[var.data_volume.node]
  volume_id   = var.data_volume.id
  device      = var.data_volume.device

  lifecycle {
    # The device is only a hint: Nova reports the name the hypervisor chose (often not
    # the hint), and without this every plan would show a change.
    ignore_changes = [device]
  }
}
