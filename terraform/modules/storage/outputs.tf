output "data_volume" {
  description = "The attached data volume: id, node and device hint (null when none)."
  value = var.data_volume == null ? null : {
    id        = var.data_volume.id
    node      = var.data_volume.node
    server_id = openstack_compute_volume_attach_v2.data[0].instance_id
    device    = coalesce(openstack_compute_volume_attach_v2.data[0].device, var.data_volume.device, "/dev/vdb")
  }
}

output "extra_volumes" {
  description = "Node name => ID of its extra volume."
  value       = { for name, v in openstack_blockstorage_volume_v3.extra : name => v.id }
}
