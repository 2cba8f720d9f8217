locals {
  create_network = var.existing_network == null
  fip_pool       = coalesce(var.floating_ip.pool, var.external_network, "-")
  fip_enabled    = var.floating_ip.address != null || local.fip_pool != "-"
  network_id     = local.create_network ? openstack_networking_network_v2.this[0].id : data.openstack_networking_network_v2.existing[0].id
  subnet_id      = local.create_network ? openstack_networking_subnet_v2.this[0].id : data.openstack_networking_subnet_v2.existing[0].id
}

data "openstack_networking_network_v2" "existing" {
  count = local.create_network ? 0 : 1
  name  = var.existing_network
}

data "openstack_networking_subnet_v2" "existing" {
  count      = local.create_network ? 0 : 1
  network_id = data.openstack_networking_network_v2.existing[0].id
  name       = var.existing_subnet
}

data "openstack_networking_network_v2" "external" {
  count    = local.create_network && var.external_network != null ? 1 : 0
  name     = var.external_network
  external = true
}

resource "openstack_networking_network_v2" "this" {
  count          = local.create_network ? 1 : 0
  name           = var.name
  admin_state_up = true
}

resource "openstack_networking_subnet_v2" "this" {
  count           = local.create_network ? 1 : 0
  name            = var.name
  network_id      = openstack_networking_network_v2.this[0].id
  cidr            = var.cidr
  ip_version      = 4
  dns_nameservers = var.dns_nameservers
}

resource "openstack_networking_router_v2" "this" {
  count               = length(data.openstack_networking_network_v2.external)
  name                = var.name
  external_network_id = data.openstack_networking_network_v2.external[0].id
}

resource "openstack_networking_router_interface_v2" "this" {
  count     = length(openstack_networking_router_v2.this)
  router_id = openstack_networking_router_v2.this[0].id
  subnet_id = openstack_networking_subnet_v2.this[0].id
}

# One port per node, with port security on: the pod and service CIDRs are allowed
# address pairs so Calico's traffic is not dropped as spoofed.
resource "openstack_networking_port_v2" "this" {
  for_each = var.ports

  name                  = "${var.name}-${each.key}"
  network_id            = local.network_id
  admin_state_up        = true
  port_security_enabled = true
  security_group_ids    = var.security_group_ids

  fixed_ip {
    subnet_id  = local.subnet_id
    ip_address = each.value.fixed_ip
  }

  dynamic "allowed_address_pairs" {
    for_each = var.allowed_cidrs
    content {
      ip_address = allowed_address_pairs.value
    }
  }
}

data "openstack_networking_floatingip_v2" "reserved" {
  count   = var.floating_ip.address == null ? 0 : 1
  address = var.floating_ip.address
}

resource "openstack_networking_floatingip_v2" "this" {
  count       = var.floating_ip.address == null && local.fip_pool != "-" ? 1 : 0
  pool        = local.fip_pool
  description = "${var.name} access node"
}

resource "openstack_networking_floatingip_associate_v2" "this" {
  count       = local.fip_enabled ? 1 : 0
  floating_ip = var.floating_ip.address != null ? data.openstack_networking_floatingip_v2.reserved[0].address : openstack_networking_floatingip_v2.this[0].address
  port_id     = openstack_networking_port_v2.this[var.floating_ip_port].id
  depends_on  = [openstack_networking_router_interface_v2.this]
}
