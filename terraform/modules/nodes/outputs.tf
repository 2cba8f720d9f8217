output "ids" {
  description = "Node name => server ID."
  value       = { for name, server in openstack_compute_instance_v2.this : name => server.id }
}

output "server_group_id" {
  description = "ID of the nodes' server group."
  value       = openstack_compute_servergroup_v2.this.id
}

output "keypair" {
  description = "Name of the key pair the nodes boot with."
  value       = var.keypair.name
}
