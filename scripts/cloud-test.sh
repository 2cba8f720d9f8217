#!/usr/bin/env bash
# The `cloud` test tier (make test-cloud): install the local OpenStack (cached by its
# versions), then run tests/cloud/, which starts it on 127.0.0.1 and stops it by pid.
source "$(dirname "$0")/lib.sh"
export PATH="$VENV/bin:$CACHE/bin:$PATH"
"$ROOT/scripts/openstack-deps.sh"
export MLOPS_OPENSTACK_VENV="$CACHE/openstack"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest tests/cloud -p no:cacheprovider "$@"
