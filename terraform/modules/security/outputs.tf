output "id" {
  description = "ID of the cluster security group."
  value       = openstack_networking_secgroup_v2.this.id
}

output "rule_count" {
  description = "Number of rules this module creates (the provider creates them one by one)."
  value       = 1 + length(local.tcp_rules)
}

output "rules" {
  description = "The TCP rules by name: CIDR and port range."
  value       = local.tcp_rules
}
