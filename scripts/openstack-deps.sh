#!/usr/bin/env bash
# The local OpenStack of the `cloud` tier: MariaDB and RabbitMQ from Debian (never
# started as system services: mlops_platform.cloud starts them on 127.0.0.1 by pid)
# and one virtualenv with keystone, glance, placement, nova, neutron and cinder from
# PyPI, cached under .cache/ by their versions. Prints the venv's path last.
source "$(dirname "$0")/lib.sh"

debian_packages() {
  apt_install_servers mariadb-server rabbitmq-server
}

openstack_venv() {
  local key="keystone-$OPENSTACK_KEYSTONE_VERSION nova-$OPENSTACK_NOVA_VERSION neutron-$OPENSTACK_NEUTRON_VERSION"
  key+=" cinder-$OPENSTACK_CINDER_VERSION glance-$OPENSTACK_GLANCE_VERSION placement-$OPENSTACK_PLACEMENT_VERSION"
  key+=" gunicorn-$OPENSTACK_GUNICORN_VERSION pymysql-$OPENSTACK_PYMYSQL_VERSION"
  local dir="$CACHE/openstack-$(printf '%s' "$key" | sha256sum | cut -c1-12)"
  if [ -x "$dir/bin/nova-manage" ] && [ "$(cat "$dir/.versions" 2>/dev/null)" = "$key" ]; then
    skip "OpenStack services ($key)"
  else
    step "OpenStack services from PyPI ($key)"
    rm -rf "$dir" && python3 -m venv "$dir"
    "$dir/bin/pip" install -q --upgrade pip
    "$dir/bin/pip" install -q \
      "keystone==$OPENSTACK_KEYSTONE_VERSION" "nova==$OPENSTACK_NOVA_VERSION" \
      "neutron==$OPENSTACK_NEUTRON_VERSION" "cinder==$OPENSTACK_CINDER_VERSION" \
      "glance==$OPENSTACK_GLANCE_VERSION" "openstack-placement==$OPENSTACK_PLACEMENT_VERSION" \
      "gunicorn==$OPENSTACK_GUNICORN_VERSION" "pymysql==$OPENSTACK_PYMYSQL_VERSION"
    printf '%s' "$key" > "$dir/.versions"
  fi
  ln -sfn "$dir" "$CACHE/openstack"
  echo "$dir"
}

debian_packages
openstack_venv
