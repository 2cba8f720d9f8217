#!/usr/bin/env bash
# What the tests need beyond the venv and the Go-built tools: podman with runc,
# the Debian 12 node image, the MLflow server environment and the ansible-test
# bootstrap stand-in, Redis for ArgoCD. Each step is skipped when its cached result is
# present. `test-deps.sh mlflow redis` runs only those steps (`make run` needs them).
source "$(dirname "$0")/lib.sh"

podman_setup() {
  apt_install podman runc debootstrap uidmap slirp4netns fuse-overlayfs
  # runc: crun fails on this machine's cgroup setup. Ulimits at or below the
  # machine's own (raising them is refused).
  local conf=/etc/containers/containers.conf.d/50-mlops-platform.conf
  local want
  want=$'[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n'
  if [ "$(cat "$conf" 2>/dev/null)" != "${want%$'\n'}" ]; then
    step "podman: runc runtime and ulimits ($conf)"
    mkdir -p "$(dirname "$conf")" && printf '%s' "$want" > "$conf"
  fi
}

node_image() {
  if podman image exists "$NODE_IMAGE"; then
    skip "node image $NODE_IMAGE"
  else
    "$ROOT/scripts/build-node-image.sh"
  fi
}

mlflow_env() {
  local v=$MLFLOW_VERSION
  local dir="$CACHE/mlflow-$v"
  if [ -x "$dir/bin/mlflow" ]; then
    skip "mlflow $v"
  else
    step "mlflow $v (its own environment: ~850 MB)"
    rm -rf "$dir" && python3 -m venv "$dir" && "$dir/bin/pip" install -q "mlflow==$v"
  fi
  ln -sfn "$dir/bin/mlflow" "$CACHE/bin/mlflow"
}

moto_env() {
  # An S3-compatible server for the Terraform s3-backend test. Its own environment:
  # botocore pins python-dateutil below 3, kubernetes needs 3 or later.
  local dir="$CACHE/moto-$MOTO_VERSION"
  if [ -x "$dir/bin/moto_server" ]; then
    skip "moto $MOTO_VERSION"
  else
    step "moto $MOTO_VERSION (S3 server for the s3 backend test)"
    rm -rf "$dir" && python3 -m venv "$dir" && "$dir/bin/pip" install -q "moto[s3,server]==$MOTO_VERSION"
  fi
  ln -sfn "$dir" "$CACHE/moto"
}

ansible_test_bootstrap() {
  # ansible-test downloads get-pip from a host that is unreachable here; it runs a
  # cached copy when there is one (DESIGN.md, "ansible-test sanity").
  local v
  v=$("$VENV/bin/python" - <<'PY'
import pathlib, re, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([^']+)'", src.read_text()).group(1))
PY
)
  local target="$HOME/.ansible/test/cache/get_pip_${v//./_}.py"
  if cmp -s "$ROOT/scripts/get_pip_standin.py" "$target"; then
    skip "ansible-test get-pip stand-in (pip $v)"
  else
    step "ansible-test get-pip stand-in (pip $v)"
    mkdir -p "$(dirname "$target")" && cp "$ROOT/scripts/get_pip_standin.py" "$target"
  fi
}

redis_server() { # ArgoCD's cache, run on loopback by the local control plane
  dpkg -s redis-server >/dev/null 2>&1 && { skip "redis-server"; return; }
  # Only the binary is wanted: keep the package's init script from starting a server
  # of its own (policy-rc.d 101 = "not allowed", for the duration of the install).
  local policy=/usr/sbin/policy-rc.d created=""
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created=1; }
  apt_install redis-server
  [ -z "$created" ] || rm -f "$policy"
}

for what in ${@:-podman node_image mlflow moto ansible_test redis}; do
  case $what in
    podman) podman_setup ;;
    node_image) node_image ;;
    mlflow) mlflow_env ;;
    moto) moto_env ;;
    ansible_test) ansible_test_bootstrap ;;
    redis) redis_server ;;
    *) die "unknown step $what" ;;
  esac
done
