locals {
  # The first control-plane node (by name) carries the floating IP and the data volume.
  control_planes = sort([for name, n in var.nodes : name if contains(n.roles, "control_plane")])
  access_node    = local.control_planes[0]

  # Kubespray's group names for each role.
  role_groups = {
    control_plane = "kube_control_plane"
    etcd          = "etcd"
    worker        = "kube_node"
  }
}

module "security" {
  source = "./modules/security"

  name          = var.cluster_name
  admin_cidrs   = var.admin_cidrs
  ingress_cidrs = var.ingress_cidrs
  ingress_ports = var.ingress_ports
}

module "network" {
  source = "./modules/network"

  name               = var.cluster_name
  cidr               = var.network.cidr
  existing_network   = var.network.existing_network
  existing_subnet    = var.network.existing_subnet
  external_network   = var.network.external_network
  dns_nameservers    = var.network.dns_nameservers
  ports              = { for name, n in var.nodes : name => { fixed_ip = n.fixed_ip } }
  security_group_ids = [module.security.id]
  allowed_cidrs      = distinct([var.pod_cidr, var.service_cidr])
  floating_ip        = var.floating_ip
  floating_ip_port   = local.access_node
}

module "nodes" {
  source = "./modules/nodes"

  name = var.cluster_name
  nodes = {
    for name, n in var.nodes : name => {
      flavor = n.flavor
      image  = coalesce(n.image, var.image)
      roles  = n.roles
    }
  }
  port_ids            = { for name, p in module.network.ports : name => p.id }
  keypair             = var.keypair
  server_group_policy = var.server_group_policy
  user_data           = var.user_data
}

module "storage" {
  source = "./modules/storage"

  name          = var.cluster_name
  server_ids    = module.nodes.ids
  extra_volumes = { for name, n in var.nodes : name => n.extra_volume_size if n.extra_volume_size != null }
  data_volume = var.data_volume == null ? null : {
    id     = var.data_volume.id
    node   = local.access_node
    device = var.data_volume.device
  }
}
