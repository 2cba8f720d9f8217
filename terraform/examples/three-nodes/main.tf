# A data volume in its own state and a three-node cluster that attaches it: the two
# roots the infra stage applies, written out as one runnable example.
module "data_volume" {
  source = "../../data-volume"

  cloud = var.cloud
  name  = "example-data"
  size  = 20
}

module "cluster" {
  source = "../.."

  cloud        = var.cloud
  cluster_name = "example"
  image        = "Debian 12"
  keypair      = { name = "example-ops" }
  network      = { cidr = "10.42.0.0/24", external_network = "public" }
  admin_cidrs  = [var.admin_cidr]
  nodes = {
    cp1 = { roles = ["control_plane", "etcd"], flavor = "m1.large" }
    w1  = { roles = ["worker", "etcd"], flavor = "m1.xlarge" }
    w2  = { roles = ["worker", "etcd"], flavor = "m1.xlarge" }
  }
  data_volume = { id = module.data_volume.id, device = "/dev/vdb" }
}
