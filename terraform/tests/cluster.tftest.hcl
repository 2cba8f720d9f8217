# Logic of the cluster root with a mocked OpenStack provider: no cloud is contacted.
mock_provider "openstack" {
  mock_resource "openstack_networking_port_v2" {
    defaults = {
      all_fixed_ips = ["10.42.0.10"]
    }
  }
  mock_resource "openstack_networking_floatingip_v2" {
    defaults = {
      address = "203.0.113.50"
    }
  }
  mock_resource "openstack_compute_volume_attach_v2" {
    defaults = {
      device = "/dev/vdb"
    }
  }
  mock_data "openstack_networking_network_v2" {
    defaults = {
      id = "11111111-2222-3333-4444-555555555555"
    }
  }
}

variables {
  cloud        = "test"
  cluster_name = "mlops"
  image        = "debian-12"
  keypair      = { name = "ops" }
  network      = { external_network = "public" }
  admin_cidrs  = ["198.51.100.0/24"]
  nodes = {
    cp1 = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
    w1  = { roles = ["worker", "etcd"], flavor = "m1.xlarge" }
    w2  = { roles = ["worker", "etcd"], flavor = "m1.xlarge" }
  }
  data_volume = { id = "vol-0001" }
}

run "default_three_nodes" {
  assert {
    condition     = length(output.inventory.hosts) == 3
    error_message = "three nodes expected in the inventory output"
  }
  assert {
    condition     = output.inventory.hosts.cp1.groups == ["kube_control_plane", "etcd"]
    error_message = "cp1 must be in kube_control_plane and etcd, got ${jsonencode(output.inventory.hosts.cp1.groups)}"
  }
  assert {
    condition     = output.inventory.hosts.w1.groups == ["etcd", "kube_node"]
    error_message = "w1 must be in etcd and kube_node"
  }
  assert {
    condition     = output.floating_ip == "203.0.113.50" && output.api_endpoint == "https://203.0.113.50:6443"
    error_message = "the allocated floating IP must give the API endpoint"
  }
  assert {
    condition     = output.inventory.hosts.cp1.floating_ip && output.inventory.hosts.cp1.address == "203.0.113.50"
    error_message = "the first control plane must carry the floating IP"
  }
  assert {
    condition     = !output.inventory.hosts.w1.floating_ip && output.inventory.hosts.w1.address == "10.42.0.10"
    error_message = "workers are reached on their private IP"
  }
  assert {
    condition     = module.network.created.network && module.network.created.router && module.network.floating_ip_created
    error_message = "network, router and floating IP must be created"
  }
  assert {
    condition     = output.security_group_rules <= 15
    error_message = "at most 15 security group rules, got ${output.security_group_rules}"
  }
}

run "one_node" {
  variables {
    nodes = {
      solo = { roles = ["control_plane", "etcd", "worker"], flavor = "m1.xlarge" }
    }
  }
  assert {
    condition     = keys(output.inventory.hosts) == ["solo"]
    error_message = "one host expected"
  }
  assert {
    condition     = output.inventory.hosts.solo.groups == ["kube_control_plane", "etcd", "kube_node"]
    error_message = "the single node has every group"
  }
  assert {
    condition     = output.data_volume.node == "solo" && output.inventory.access_host == "solo"
    error_message = "the single node carries the data volume and the floating IP"
  }
}

run "three_nodes_before_growth" {
}

run "grow_three_to_five_replaces_nothing" {
  variables {
    nodes = {
      cp1 = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
      w1  = { roles = ["worker", "etcd"], flavor = "m1.xlarge" }
      w2  = { roles = ["worker", "etcd"], flavor = "m1.xlarge" }
      a0  = { roles = ["worker"], flavor = "m1.xlarge" }
      w3  = { roles = ["worker"], flavor = "m1.xlarge" }
    }
  }
  assert {
    condition     = length(output.inventory.hosts) == 5
    error_message = "five nodes expected"
  }
  assert {
    condition = alltrue([
      for name in ["cp1", "w1", "w2"] :
      output.inventory.hosts[name].server_id == run.three_nodes_before_growth.inventory.hosts[name].server_id
    ])
    error_message = "growing the node map replaced an existing server"
  }
  assert {
    condition     = output.data_volume.server_id == run.three_nodes_before_growth.data_volume.server_id
    error_message = "growing the node map moved the data volume attachment"
  }
}

run "user_data_change_replaces_nothing" {
  variables {
    user_data = "#cloud-config\npackages: [jq]\n"
  }
  assert {
    condition = alltrue([
      for name in ["cp1", "w1", "w2"] :
      output.inventory.hosts[name].server_id == run.three_nodes_before_growth.inventory.hosts[name].server_id
    ])
    error_message = "changing user_data replaced a server"
  }
}

run "existing_network" {
  variables {
    network = { existing_network = "shared-net" }
  }
  assert {
    condition     = module.network.network_id == "11111111-2222-3333-4444-555555555555"
    error_message = "ports must go on the existing network"
  }
  assert {
    condition     = !module.network.created.network && !module.network.created.router
    error_message = "existing-network mode must create no network and no router"
  }
}

run "reserved_floating_ip_is_reused" {
  variables {
    floating_ip = { address = "198.51.100.77" }
  }
  assert {
    condition     = output.floating_ip == "198.51.100.77" && output.api_endpoint == "https://198.51.100.77:6443"
    error_message = "the reserved address must be associated, got ${coalesce(output.floating_ip, "null")}"
  }
  assert {
    condition     = !module.network.floating_ip_created
    error_message = "a reserved floating IP must not allocate another one"
  }
}

run "data_volume_attaches_to_first_control_plane" {
  variables {
    nodes = {
      zeta  = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
      alpha = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
      mid   = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
      w1    = { roles = ["worker"], flavor = "m1.xlarge" }
    }
  }
  assert {
    condition     = output.data_volume.node == "alpha" && output.data_volume.id == "vol-0001"
    error_message = "the data volume must attach to the first control plane by name (alpha)"
  }
  assert {
    condition     = output.data_volume.server_id == output.inventory.hosts.alpha.server_id
    error_message = "the attachment must target alpha's server"
  }
  assert {
    condition     = output.data_volume.device == "/dev/vdb"
    error_message = "the device hint comes from the attachment"
  }
  assert {
    condition     = output.inventory.hosts.alpha.floating_ip && !output.inventory.hosts.zeta.floating_ip
    error_message = "the floating IP goes to the same first control plane"
  }
}

run "no_data_volume" {
  variables {
    data_volume = null
  }
  assert {
    condition     = output.data_volume == null
    error_message = "no data volume id: no attachment"
  }
}

run "no_open_admin_ports_by_default" {
  variables {
    admin_cidrs   = []
    ingress_cidrs = ["0.0.0.0/0"]
  }
  assert {
    condition = alltrue([
      for r in values(module.security.rules) : !(r.cidr == "0.0.0.0/0" && (r.from <= 22 && r.to >= 22 || r.from <= 6443 && r.to >= 6443))
    ])
    error_message = "SSH or the API is open to 0.0.0.0/0 without the operator listing it"
  }
  assert {
    condition     = length(module.security.rules) == 2
    error_message = "only HTTP and HTTPS from ingress_cidrs expected, got ${jsonencode(keys(module.security.rules))}"
  }
}

run "admin_and_ingress_rules_are_merged" {
  variables {
    admin_cidrs   = ["198.51.100.0/24", "192.0.2.10/32"]
    ingress_cidrs = ["0.0.0.0/0"]
    ingress_ports = ["80", "443", "30000-32767"]
  }
  assert {
    condition     = output.security_group_rules == 8
    error_message = "1 internal + 2x2 admin + 3 ingress rules expected, got ${output.security_group_rules}"
  }
  assert {
    condition     = module.security.rules["ingress 30000-32767 0.0.0.0/0"].from == 30000 && module.security.rules["ingress 30000-32767 0.0.0.0/0"].to == 32767
    error_message = "a port range must be one rule"
  }
}
