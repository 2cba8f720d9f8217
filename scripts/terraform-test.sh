#!/usr/bin/env bash
# The `terraform` test tier (make test-terraform): for every root under terraform/,
# init without a backend (providers from the local mirror: TF_CLI_CONFIG_FILE),
# validate against the real provider schema, check formatting, and run `terraform test`
# (mock_provider "openstack": no cloud is contacted). Exit non-zero naming the root.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TF="$ROOT/scripts/tf"
if [ -z "${TF_CLI_CONFIG_FILE:-}" ] || [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
  echo "error: TF_CLI_CONFIG_FILE (${TF_CLI_CONFIG_FILE:-unset}) is not a file: run 'make test-deps' (scripts/build-go.sh provider)" >&2
  exit 2
fi

roots=("$ROOT/terraform" "$ROOT/terraform/data-volume")
for d in "$ROOT"/terraform/examples/*/; do roots+=("${d%/}"); done

failed=()
for root in "${roots[@]}"; do
  rel=${root#"$ROOT"/}
  echo "==> $rel"
  if ! "$TF" -chdir="$root" init -backend=false -input=false -no-color >"$root/.terraform-init.log" 2>&1; then
    cat "$root/.terraform-init.log" >&2
    echo "FAILED: $rel (init)" >&2; failed+=("$rel"); continue
  fi
  rm -f "$root/.terraform-init.log"
  if ! "$TF" -chdir="$root" validate -no-color; then
    echo "FAILED: $rel (validate)" >&2; failed+=("$rel"); continue
  fi
  if ! "$TF" -chdir="$root" fmt -check -recursive -diff; then
    echo "FAILED: $rel (fmt)" >&2; failed+=("$rel"); continue
  fi
  if [ -d "$root/tests" ]; then
    if ! "$TF" -chdir="$root" test -no-color; then
      echo "FAILED: $rel (test)" >&2; failed+=("$rel"); continue
    fi
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "terraform tier failed in: ${failed[*]}" >&2
  exit 1
fi
echo "terraform tier: ${#roots[@]} roots valid and tested"
