#!/usr/bin/env bash
# Runtime toolchain: the virtual environment (package + `ansible` collections) and
# the link that makes this checkout the collection mlops.platform.
source "$(dirname "$0")/lib.sh"
extra=${1:-}   # "dev" for the test tools

need python3 "install Python 3.11+ (apt-get install python3 python3-venv)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is required, found $(python3 -V)"

key="$(cat "$ROOT/pyproject.toml" "$ROOT/versions.env" | sha256sum | cut -c1-16)-${extra:-runtime}"
if stamp_ok venv "$key" || { [ -z "$extra" ] && stamp_ok venv "${key%-runtime}-dev"; }; then
  skip "virtualenv"
else
  step "virtualenv ${extra:+with dev tools}"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e "$ROOT${extra:+[$extra]}" "ansible==$ANSIBLE_VERSION"
  stamp_set venv "$key"
fi

# This checkout is the collection: link it where ansible.cfg's collections_path looks.
link="$CACHE/collections/ansible_collections/mlops/platform"
if [ "$(readlink "$link" 2>/dev/null)" != "$ROOT" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$ROOT" "$link"
fi
