#!/usr/bin/env bash
# `make run`: the whole platform on the local rehearsal target (inventory/local).
# Starts the local control plane (kube-apiserver + etcd) unless it is running,
# runs site.yml through mlopsctl (the Python API over ansible-runner) with live
# progress, and ends with the `mlopsctl status` table. The cloud stages (infra,
# nodes, cluster) skip themselves here; the others run for real. A second
# `make run` reports changed=0.
source "$(dirname "$0")/lib.sh"
export PATH="$VENV/bin:$CACHE/bin:$PATH"
export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$ROOT/ansible.cfg}"
export MLOPS_ENVTEST_BIN="${MLOPS_ENVTEST_BIN:-$CACHE/envtest/current}"
export MLOPS_CONTROLPLANE_DIR="${MLOPS_CONTROLPLANE_DIR:-$CACHE/controlplane}"
cd "$ROOT"

[ -x "$VENV/bin/mlopsctl" ] || die "mlopsctl is not installed in $VENV: run \`make deps\`"

step "local control plane ($MLOPS_CONTROLPLANE_DIR)"
# Idempotent: prints the kubeconfig of the running control plane, or starts one.
MLOPS_KUBECONFIG=$(python -m mlops_platform.controlplane up) || die "the local control plane did not start (see above)"
export MLOPS_KUBECONFIG
echo "    kubeconfig: $MLOPS_KUBECONFIG (stop it with \`make envtest-down\`)"

step "site.yml on inventory/local"
mlopsctl up --inventory inventory/local

step "status"
mlopsctl status --inventory inventory/local
