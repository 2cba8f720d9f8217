#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<ns>/<name>:
# run it on a copy of the collection's files placed there. Content that is not
# Ansible content (the Python package, scripts, benchmarks, the chart, the reference
# application and the images, Molecule
# scenarios, pytest integration and contract tests and their fixtures) has its own checks in
# the lint, unit and integration tiers. tests/output/ (ansible-test's
# own virtual environments) is kept between runs, so a second run is quick.
source "$(dirname "$0")/lib.sh"
dest="$CACHE/sanity/ansible_collections/mlops/platform"
mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 ! -name tests ! -name .git -exec rm -rf {} +
find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} + 2>/dev/null || true
(cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zvE '^(src|scripts|bench|charts|molecule|apps|images|tests/(envtest|integration|cloud|contract|fixtures|fuzz))/|^(pyproject.toml|Makefile)$' \
  | xargs -0 cp --parents -t "$dest")
cd "$dest"
# ansible-test lists the collection's files through git.
[ -d .git ] || git init -q .
git add -A >/dev/null
exec "$VENV/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
