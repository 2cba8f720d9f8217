output "inventory" {
  description = "What the mlops.platform.terraform inventory plugin reads: the SSH user, the access address and every host with its addresses and Kubespray groups."
  value = {
    cluster_name = var.cluster_name
    ssh_user     = var.ssh_user
    floating_ip  = module.network.floating_ip
    access_host  = local.access_node
    hosts = {
      for name, n in var.nodes : name => {
        private_ip  = module.network.ports[name].private_ip
        address     = name == local.access_node && module.network.floating_ip != null ? module.network.floating_ip : module.network.ports[name].private_ip
        floating_ip = name == local.access_node && module.network.floating_ip != null
        groups      = [for r in sort(distinct(n.roles)) : local.role_groups[r]]
        server_id   = module.nodes.ids[name]
      }
    }
  }
}

output "floating_ip" {
  description = "The floating IP of the first control-plane node (null when none)."
  value       = module.network.floating_ip
}

output "api_endpoint" {
  description = "URL of the Kubernetes API through the floating IP (null when none)."
  value       = module.network.floating_ip == null ? null : "https://${module.network.floating_ip}:6443"
}

output "data_volume" {
  description = "The data volume attached to the first control-plane node: id, node and device hint (null when none)."
  value       = module.storage.data_volume
}

output "security_group_rules" {
  description = "Number of security group rules the cluster creates."
  value       = module.security.rule_count
}
