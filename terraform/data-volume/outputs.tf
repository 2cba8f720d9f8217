output "id" {
  description = "ID of the data volume."
  value = (var.existing_id != null ? var.existing_id :
    local.use_existing ? data.openstack_blockstorage_volume_v3.existing[0].id :
  openstack_blockstorage_volume_v3.this[0].id)
}

output "name" {
  description = "Name of the data volume."
  value       = var.name
}

output "created" {
  description = "Whether this root created (and owns) the volume; false: an existing volume is used."
  value       = !local.use_existing
}
