resource "openstack_compute_keypair_v2" "this" {
  count      = var.keypair.public_key == null ? 0 : 1
  name       = var.keypair.name
  public_key = var.keypair.public_key
}

resource "openstack_compute_servergroup_v2" "this" {
  name     = var.name
  policies = [var.server_group_policy]
}

# for_each over the node map: adding or removing one node leaves the others untouched.
resource "openstack_compute_instance_v2" "this" {
  for_each = var.nodes

  name        = "${var.name}-${each.key}"
  flavor_name = each.value.flavor
  image_name  = each.value.image
  key_pair    = var.keypair.public_key == null ? var.keypair.name : openstack_compute_keypair_v2.this[0].name
  user_data   = var.user_data

  metadata = {
    cluster = var.name
    roles   = join(",", each.value.roles)
  }

  network {
    port = var.port_ids[each.key]
  }

  scheduler_hints {
    group = openstack_compute_servergroup_v2.this.id
  }

  lifecycle {
    # Changing cloud-init or the image name must never rebuild a running node.
    ignore_changes = [user_data, image_name, image_id]
  }
}
