#!/usr/bin/env bash
# Checks that requirements-edge.txt (edge_runtime/requirements.txt) resolves to binary wheels for Raspberry Pi OS 64-bit
# (aarch64) on Python 3.11 (Bookworm) and 3.13 (Trixie), without building anything.
#
# pip's --platform/--python-version/--only-binary=:all: resolution, two passes per Python:
#   1. --no-deps: every pinned package has a wheel for that Python and platform;
#   2. with dependencies: the pins and everything they pull in resolve together.
# Needs access to PyPI (CI has it: it installs from PyPI). Usage: .ci/check_edge_wheels.sh [PYTHON_VERSION...] (default: 3.11 3.13)
# GLIBC_MAX sets the newest manylinux tag accepted (default 2.36, Bookworm's glibc; Trixie has 2.41).
set -uo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=requirements-edge.txt
PIP=${PIP:-python3 -m pip}
GLIBC_MAX=${GLIBC_MAX:-36}
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(3.11 3.13)

# pip does not expand manylinux_2_X tags to older ones: list every glibc the device can run.
platforms=(--platform manylinux2014_aarch64)
for minor in $(seq 17 "$GLIBC_MAX"); do
  platforms+=(--platform "manylinux_2_${minor}_aarch64")
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for version in "${versions[@]}"; do
  for mode in no-deps with-deps; do
    extra=()
    [ "$mode" = no-deps ] && extra=(--no-deps)
    dest="$tmp/$version-$mode"
    echo "== edge wheels: Python $version, aarch64 (glibc <= 2.$GLIBC_MAX), $mode"
    if $PIP download --quiet --disable-pip-version-check --only-binary=:all: "${platforms[@]}" \
      --implementation cp --python-version "$version" "${extra[@]}" -d "$dest" -r "$REQUIREMENTS" \
      >"$dest.log" 2>&1; then
      ls "$dest" | sed 's/^/   /'
    else
      failed=1
      echo "   FAILED:"
      grep -E "ERROR|No matching|Could not find|from versions" "$dest.log" | sed 's/^/   /' | head -n 20
    fi
  done
done
if [ "$failed" -ne 0 ]; then
  echo "== edge wheels: some pins have no aarch64 wheel (see above)"
  exit 1
fi
echo "== edge wheels: all pins resolve to aarch64 wheels for Python ${versions[*]}"
