#!/usr/bin/env bash
# The Molecule platform image: Debian 12 built with debootstrap (no container
# registry is reachable here) and imported into podman as $NODE_IMAGE.
source "$(dirname "$0")/lib.sh"
need debootstrap "apt-get install debootstrap"
need podman "apt-get install podman runc"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rootfs="$CACHE/node-image/rootfs"
tarball="$CACHE/node-image/debian-$DEBIAN_SUITE.tar"
if [ ! -f "$tarball" ]; then
  step "debootstrap Debian $DEBIAN_SUITE (python3, sudo, systemd, iproute2, openssh-server)"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  debootstrap --variant=minbase \
    --include=python3,python3-apt,sudo,systemd,systemd-sysv,dbus,iproute2,openssh-server,kmod,procps,util-linux,e2fsprogs,udev,ca-certificates \
    "$DEBIAN_SUITE" "$rootfs" "$mirror" > "$CACHE/node-image/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE/node-image/debootstrap.log"; die "debootstrap failed (log: $CACHE/node-image/debootstrap.log)"; }
  # Trim what a test node never needs, and let systemd run in a container.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  : > "$rootfs/etc/machine-id"
  tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$rootfs"
fi
step "podman import $NODE_IMAGE"
podman import --change 'CMD ["/lib/systemd/systemd"]' --change 'STOPSIGNAL SIGRTMIN+3' \
  "$tarball" "$NODE_IMAGE" >/dev/null
