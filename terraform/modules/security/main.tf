# One group for the whole cluster, with as few rules as the policy allows: the provider
# creates rules one API call at a time, so every rule costs cluster start-up time.
locals {
  ingress_ranges = [
    for p in var.ingress_ports : {
      key  = p
      from = tonumber(split("-", p)[0])
      to   = tonumber(element(split("-", p), length(split("-", p)) - 1))
    }
  ]

  admin_rules = merge([
    for cidr in var.admin_cidrs : {
      "ssh ${cidr}" = { cidr = cidr, from = 22, to = 22 }
      "api ${cidr}" = { cidr = cidr, from = 6443, to = 6443 }
    }
  ]...)

  ingress_rules = merge([
    for cidr in var.ingress_cidrs : {
      for r in local.ingress_ranges : "ingress ${r.key} ${cidr}" => { cidr = cidr, from = r.from, to = r.to }
    }
  ]...)

  tcp_rules = merge(local.admin_rules, local.ingress_rules)
}

resource "openstack_networking_secgroup_v2" "this" {
  name        = var.name
  description = "Cluster ${var.name}: admin access, node-to-node traffic and platform ingress"
}

# All traffic between members of the group (fixed IPs and allowed address pairs, so
# pod and service CIDR traffic passes for Calico).
resource "openstack_networking_secgroup_rule_v2" "internal" {
  security_group_id = openstack_networking_secgroup_v2.this.id
  direction         = "ingress"
  ethertype         = "IPv4"
  remote_group_id   = openstack_networking_secgroup_v2.this.id
  description       = "all traffic between cluster nodes"
}

resource "openstack_networking_secgroup_rule_v2" "tcp" {
  for_each = local.tcp_rules

  security_group_id = openstack_networking_secgroup_v2.this.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = each.value.from
  port_range_max    = each.value.to
  remote_ip_prefix  = each.value.cidr
  description       = each.key
}
