#!/usr/bin/env bash
# Install the pinned Kubespray collection with `ansible-galaxy collection install`.
#
#   scripts/kubespray.sh          operators (`make kubespray`): requirements.yml's git
#                                 source (needs GitHub) into .cache/collections
#   scripts/kubespray.sh fixture  tests (`make test-deps`): the same install, from the
#                                 vendored release tree ../shared/fixtures/src/
#                                 kubespray-v$KUBESPRAY_VERSION.tar.gz, into
#                                 .cache/kubespray-$KUBESPRAY_VERSION/collections; then
#                                 the stand-in (tests/fixtures/kubespray/README.md) beside
#                                 it in .cache/kubespray-$KUBESPRAY_VERSION/standin
#
# Both refuse to run when versions.env, requirements.yml and the fixture disagree
# on the version (bumping Kubespray is one change to all three).
source "$(dirname "$0")/lib.sh"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
need ansible-galaxy "make deps"
"$VENV/bin/python" -c 'import distlib' 2>/dev/null \
  || die "the Python package distlib is missing from $VENV (Kubespray's galaxy.yml uses manifest:): make deps"

v=$KUBESPRAY_VERSION
fixture="$ROOT/../shared/fixtures/src/kubespray-v$v.tar.gz"
dir="$CACHE/kubespray-$v"

# The version pinned in requirements.yml (the kubernetes_sigs.kubespray entry).
pinned=$("$VENV/bin/python" - "$ROOT/requirements.yml" <<'PY'
import sys, yaml
entries = yaml.safe_load(open(sys.argv[1]))["collections"]
print(next(e["version"] for e in entries if e["name"].endswith("/kubespray.git") or e["name"] == "kubernetes_sigs.kubespray"))
PY
)
[ "$pinned" = "v$v" ] || die "requirements.yml pins Kubespray $pinned, versions.env KUBESPRAY_VERSION=$v: change both together"

install() { # install SOURCE... -> into the collections path $1
  local dest=$1; shift
  local log="$CACHE/kubespray-$v.install.log"
  ansible-galaxy collection install "$@" -p "$dest" >"$log" 2>&1 \
    || { tail -n 20 "$log"; die "ansible-galaxy collection install failed (log: $log)"; }
}

if [ "${1:-}" != fixture ]; then
  mkdir -p "$CACHE/collections"
  step "Kubespray v$v from requirements.yml (GitHub) into .cache/collections"
  install "$CACHE/collections" -r "$ROOT/requirements.yml"
  exit 0
fi

[ -f "$fixture" ] || die "the Kubespray fixture $fixture is missing (../shared beside the checkout)"
key="$(sha256sum "$fixture" "$ROOT"/tests/fixtures/kubespray/playbooks/*.yml | sha256sum | cut -c1-16)"
if stamp_ok "kubespray-$v" "$key" && [ -f "$dir/standin/ansible_collections/kubernetes_sigs/kubespray/MANIFEST.json" ]; then
  skip "Kubespray v$v (fixture) and its stand-in"
  exit 0
fi
step "Kubespray v$v from the fixture (ansible-galaxy collection install of the release tree)"
rm -rf "$dir" && mkdir -p "$dir/src"
tar -xzf "$fixture" -C "$dir/src" --strip-components=1
tree_version=$(sed -n 's/^version: *//p' "$dir/src/galaxy.yml")
[ "$tree_version" = "$v" ] || die "$fixture holds Kubespray $tree_version, versions.env says $v"
install "$dir/collections" "$dir/src"

# The stand-in: the installed collection with the playbooks that install Kubernetes
# (they need the internet) replaced by tests/fixtures/kubespray/playbooks/.
real="$dir/collections/ansible_collections/kubernetes_sigs/kubespray"
standin="$dir/standin/ansible_collections/kubernetes_sigs/kubespray"
mkdir -p "$standin/playbooks"
for entry in "$real"/*; do
  [ "$(basename "$entry")" = playbooks ] || ln -s "$entry" "$standin/"
done
cp "$real"/playbooks/*.yml "$standin/playbooks/"
cp "$ROOT"/tests/fixtures/kubespray/playbooks/*.yml "$standin/playbooks/"
stamp_set "kubespray-$v" "$key"
