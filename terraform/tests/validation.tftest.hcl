# Every variable validation rejects its bad value before anything is planned.
mock_provider "openstack" {
  mock_resource "openstack_networking_port_v2" {
    defaults = {
      all_fixed_ips = ["10.42.0.10"]
    }
  }
}

variables {
  cloud        = "test"
  cluster_name = "mlops"
  image        = "debian-12"
  keypair      = { name = "ops" }
  nodes = {
    cp1 = { roles = ["control_plane", "etcd", "worker"], flavor = "m1.large" }
  }
}

run "cluster_name_not_dns_safe" {
  command = plan
  variables {
    cluster_name = "MLOps_Cluster"
  }
  expect_failures = [var.cluster_name]
}

run "node_name_not_dns_safe" {
  command = plan
  variables {
    nodes = {
      "cp_1" = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
    }
  }
  expect_failures = [var.nodes]
}

run "node_names_collide" {
  command = plan
  variables {
    nodes = {
      cp1 = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
      CP1 = { roles = ["worker"], flavor = "m1.large" }
    }
  }
  expect_failures = [var.nodes]
}

run "no_control_plane" {
  command = plan
  variables {
    nodes = {
      w1 = { roles = ["worker", "etcd"], flavor = "m1.large" }
    }
  }
  expect_failures = [var.nodes]
}

run "even_etcd_members" {
  command = plan
  variables {
    nodes = {
      cp1 = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
      cp2 = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
    }
  }
  expect_failures = [var.nodes]
}

run "unknown_role" {
  command = plan
  variables {
    nodes = {
      cp1 = { roles = ["control_plane", "etcd", "master"], flavor = "m1.large" }
    }
  }
  expect_failures = [var.nodes]
}

run "duplicate_fixed_ip" {
  command = plan
  variables {
    nodes = {
      cp1 = { roles = ["control_plane", "etcd"], flavor = "m1.large", fixed_ip = "10.42.0.5" }
      w1  = { roles = ["worker"], flavor = "m1.large", fixed_ip = "10.42.0.5" }
    }
  }
  expect_failures = [var.nodes]
}

run "network_cidr_does_not_parse" {
  command = plan
  variables {
    network = { cidr = "10.42.0.0/33" }
  }
  expect_failures = [var.network]
}

run "pod_cidr_does_not_parse" {
  command = plan
  variables {
    pod_cidr = "10.233.64.0"
  }
  expect_failures = [var.pod_cidr]
}

run "service_cidr_does_not_parse" {
  command = plan
  variables {
    service_cidr = "not-a-cidr"
  }
  expect_failures = [var.service_cidr]
}

run "admin_cidr_does_not_parse" {
  command = plan
  variables {
    admin_cidrs = ["198.51.100.300/24"]
  }
  expect_failures = [var.admin_cidrs]
}

run "ingress_port_out_of_range" {
  command = plan
  variables {
    ingress_ports = ["443", "70000"]
  }
  expect_failures = [var.ingress_ports]
}

run "reserved_floating_ip_not_an_address" {
  command = plan
  variables {
    floating_ip = { address = "public" }
  }
  expect_failures = [var.floating_ip]
}
