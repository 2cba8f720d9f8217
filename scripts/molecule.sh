#!/usr/bin/env bash
# The `molecule` test tier (make test-molecule): every scenario under molecule/
# (molecule test -s <name>: create, prepare, converge, idempotence, verify,
# cleanup, destroy), one after the other; prints which failed and exits non-zero
# if any did. Scenarios create and remove their own containers, loop devices and
# control plane. Usage: scripts/molecule.sh [scenario...]
source "$(dirname "$0")/lib.sh"
export KUBESPRAY_VERSION  # molecule/cluster reads it (the fixture's Kubespray under .cache/)
export PATH="$VENV/bin:$CACHE/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export MOLECULE_NO_LOG=false
need molecule "make test-deps (the venv's dev extra: molecule, molecule-plugins[podman], pytest-testinfra)"
need podman "make test-deps (apt-get install podman runc)"
podman image exists "$NODE_IMAGE" || die "podman image $NODE_IMAGE is missing: make test-deps (scripts/build-node-image.sh) builds it"
[ -x "$CACHE/envtest/current/kube-apiserver" ] || die "the test control plane is missing: make test-deps (scripts/build-go.sh envtest) builds it"
[ -f "$CACHE/kubespray-$KUBESPRAY_VERSION/standin/ansible_collections/kubernetes_sigs/kubespray/MANIFEST.json" ] \
  || die "Kubespray $KUBESPRAY_VERSION from the fixture is missing: make test-deps (scripts/kubespray.sh fixture) installs it"
"$VENV/bin/python" -c 'import testinfra' 2>/dev/null || die "pytest-testinfra is missing from $VENV: pip install 'pytest-testinfra>=10'"

cd "$ROOT"
if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
fi
[ ${#scenarios[@]} -gt 0 ] || die "no Molecule scenarios under molecule/"

logs="$CACHE/molecule-logs"
mkdir -p "$logs"
passed=() failed=()
for s in "${scenarios[@]}"; do
  step "molecule test -s $s (log: $logs/$s.log)"
  started=$SECONDS
  if molecule test -s "$s" >"$logs/$s.log" 2>&1; then
    passed+=("$s"); printf '    %s: passed in %ss\n' "$s" $((SECONDS - started))
  else
    failed+=("$s"); printf '    %s: FAILED in %ss; last lines:\n' "$s" $((SECONDS - started))
    tail -n 25 "$logs/$s.log" | sed 's/^/      /'
  fi
done

printf '\nmolecule: %d passed (%s), %d failed (%s)\n' \
  ${#passed[@]} "${passed[*]:-none}" ${#failed[@]} "${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]
