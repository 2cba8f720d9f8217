#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<ns>/<name>:
# run it on a copy of the tracked files placed there.
source "$(dirname "$0")/lib.sh"
dest="$CACHE/sanity/ansible_collections/mlops/platform"
rm -rf "$dest" && mkdir -p "$dest"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^tests/envtest/' \
  | xargs -0 cp --parents -t "$dest" 2>/dev/null) || true
cd "$dest"
git init -q . && git add -A >/dev/null   # ansible-test lists files through git
exec "$VENV/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
