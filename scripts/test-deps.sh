#!/usr/bin/env bash
# What the tests need beyond the venv and the Go-built tools: podman with runc,
# the Debian 12 node image, the MLflow server environment, the reference application's
# environment, the ansible-test bootstrap stand-in, Redis for ArgoCD, the restore drill's
# PostgreSQL and barman-cloud, and Debian's promtool. Each step is skipped when its cached result is present.
# `test-deps.sh mlflow redis` runs only those steps (`make run` needs them).
source "$(dirname "$0")/lib.sh"

# python_env DIR PYTHON BIN NAME WHY PACKAGE...: a Python environment of its own at DIR (made
# with PYTHON) with the packages, unless DIR/bin/BIN is already there.
python_env() {
  local dir=$1 python=$2 bin=$3 name=$4 why=$5
  shift 5
  if [ -x "$dir/bin/$bin" ]; then
    skip "$name"
  else
    step "$name ($why)"
    rm -rf "$dir" && "$python" -m venv "$dir" && "$dir/bin/pip" install -q "$@"
  fi
}

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
  python_env "$dir" python3 mlflow "mlflow $v" "its own environment: ~850 MB" "mlflow==$v"
  # The backup drill runs MLflow on PostgreSQL with artifacts in S3.
  if ! "$dir/bin/python" -c 'import psycopg2, boto3' 2>/dev/null; then
    step "mlflow $v: PostgreSQL and S3 clients (psycopg2-binary $PSYCOPG2_VERSION, boto3)"
    "$dir/bin/pip" install -q "psycopg2-binary==$PSYCOPG2_VERSION" boto3
  fi
  ln -sfn "$dir/bin/mlflow" "$CACHE/bin/mlflow"
}

app_env() {
  # The reference application (apps/digits) in an environment of its own, as its images
  # have it: its training, its service and its tests run there, every version from its
  # constraints.txt. Keyed by its dependencies; .cache/app-digits points at the current one.
  local key dir
  key=$(cat "$ROOT/apps/digits/pyproject.toml" "$ROOT/apps/digits/constraints.txt" | sha256sum | cut -c1-12)
  dir="$CACHE/app-digits-$key"
  python_env "$dir" python3 mlops-digits-serve "reference application $key" "its training, service and tests" \
    -c "$ROOT/apps/digits/constraints.txt" -e "$ROOT/apps/digits[serve,train,test]"
  ln -sfn "$dir" "$CACHE/app-digits"
}

moto_env() {
  # An S3-compatible server for the Terraform s3-backend test. Its own environment:
  # botocore pins python-dateutil below 3, kubernetes needs 3 or later.
  local dir="$CACHE/moto-$MOTO_VERSION"
  python_env "$dir" python3 moto_server "moto $MOTO_VERSION" "S3 server for the s3 backend test" \
    "moto[s3,server]==$MOTO_VERSION"
  ln -sfn "$dir" "$CACHE/moto"
}

backup_drill_tools() {
  # The restore drill: PostgreSQL from Debian and barman-cloud from PyPI, the tools
  # CloudNativePG runs in its database pods. The venv uses Debian's python3 so the
  # postgres user (archive_command) can run it: pyenv's Python lives under /root.
  apt_install_servers postgresql-15 python3-venv
  local dir="$CACHE/barman-$BARMAN_VERSION"
  python_env "$dir" /usr/bin/python3 barman-cloud-backup "barman-cloud $BARMAN_VERSION" "restore drill" \
    "barman[cloud]==$BARMAN_VERSION"
  ln -sfn "$dir" "$CACHE/barman"
}

promtool() {
  # promtool (check rules, test rules) from Debian's prometheus package, unpacked into .cache
  # by version rather than installed: the package would start a Prometheus server.
  local v dir deb sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  v=$(apt-cache policy prometheus | awk '/Candidate:/ {print $2}')
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    $sudo apt-get update -qq
    v=$(apt-cache policy prometheus | awk '/Candidate:/ {print $2}')
  fi
  [ -n "$v" ] && [ "$v" != "(none)" ] || die "apt has no prometheus package: add Debian $DEBIAN_SUITE to apt's sources"
  dir="$CACHE/prometheus-deb-${v//[:+~]/_}"
  if [ -x "$dir/usr/bin/promtool" ]; then
    skip "promtool $v"
  else
    step "promtool $v (Debian's prometheus package, unpacked)"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    (cd "$dir.tmp" && apt-get download -qq "prometheus=$v" 2>/dev/null)
    deb=$(ls "$dir.tmp"/prometheus_*.deb)
    dpkg-deb -x "$deb" "$dir.tmp" && rm -f "$deb" "$dir.tmp/usr/bin/prometheus"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  ln -sfn "$dir/usr/bin/promtool" "$CACHE/bin/promtool"
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
  apt_install_servers redis-server
}

images() {
  # tests/integration/images: BuildKit and the distribution registry (Go, cached by version),
  # runc for buildkitd's OCI worker and the tests' containers (crun fails on this machine's
  # cgroups), and the base image's Debian rootfs (debootstrap, cached by suite and recipe).
  apt_install runc debootstrap
  "$ROOT/scripts/build-go.sh" buildkit registry
  "$ROOT/scripts/images.sh" rootfs
}

for what in ${@:-podman node_image mlflow app moto ansible_test redis backup_drill promtool images}; do
  case $what in
    podman) podman_setup ;;
    node_image) node_image ;;
    mlflow) mlflow_env ;;
    app) app_env ;;
    moto) moto_env ;;
    ansible_test) ansible_test_bootstrap ;;
    redis) redis_server ;;
    backup_drill) backup_drill_tools ;;
    promtool) promtool ;;
    images) images ;;
    *) die "unknown step $what" ;;
  esac
done
