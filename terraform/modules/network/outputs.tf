output "network_id" {
  description = "ID of the network the nodes are on."
  value       = local.network_id
}

output "subnet_id" {
  description = "ID of the subnet the nodes are on."
  value       = local.subnet_id
}

output "ports" {
  description = "Node name => {id, private_ip} of its port."
  value = {
    for name, port in openstack_networking_port_v2.this : name => {
      id         = port.id
      private_ip = coalesce(port.fixed_ip[0].ip_address, try(port.all_fixed_ips[0], null))
    }
  }
}

output "floating_ip" {
  description = "The floating IP of the access node (null when there is none)."
  value       = one(openstack_networking_floatingip_associate_v2.this[*].floating_ip)
}

output "floating_ip_created" {
  description = "Whether the floating IP was allocated here (false: a reserved address was reused)."
  value       = length(openstack_networking_floatingip_v2.this) == 1
}

output "created" {
  description = "Whether the network, subnet and router were created here (false: an existing network is used)."
  value = {
    network = length(openstack_networking_network_v2.this) == 1
    router  = length(openstack_networking_router_v2.this) == 1
  }
}
