#!/usr/bin/env bash
# Checks that requirements-edge.txt (edge_runtime/requirements.txt) resolves to binary wheels for Raspberry Pi OS 64-bit
# (aarch64), without building anything, for each release beside the numpy it ships:
#   bookworm: Python 3.11, glibc 2.36, system numpy 1.24.2 (python3-picamera2's C extensions are built for it)
#   trixie:   Python 3.13, glibc 2.41, system numpy 2.2.4
# The system numpy is given to pip as a constraint (-c): a venv made with --system-site-packages sees it, and pip keeps
# it only if every requirement accepts that exact version (else pip installs another numpy that hides it).
#
# pip's --platform/--python-version/--only-binary=:all: resolution, two passes per release:
#   1. --no-deps: every listed package has a wheel for that Python and platform;
#   2. with dependencies: the requirements, the system numpy and everything they pull in resolve together.
# pip evaluates environment markers (python_version) with the Python running it, not --python-version.
# Needs access to PyPI (CI has it: it installs from PyPI). Usage: .ci/check_edge_wheels.sh [RELEASE...]
# (bookworm, trixie, or their Python versions 3.11, 3.13; default: both).
set -uo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=requirements-edge.txt
PIP=${PIP:-python3 -m pip}
# release: Python version, newest glibc (minor), system numpy
declare -A PYTHON=([bookworm]=3.11 [trixie]=3.13)
declare -A GLIBC=([bookworm]=36 [trixie]=41)
declare -A NUMPY=([bookworm]=1.24.2 [trixie]=2.2.4)

releases=()
for arg in "${@:-bookworm trixie}"; do
  for name in $arg; do
    case "$name" in
      3.11) name=bookworm ;;
      3.13) name=trixie ;;
    esac
    if [ -z "${PYTHON[$name]:-}" ]; then
      echo "error: unknown release '$name'; use bookworm, trixie, 3.11 or 3.13" >&2
      exit 2
    fi
    releases+=("$name")
  done
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for release in "${releases[@]}"; do
  version=${PYTHON[$release]}
  # pip does not expand manylinux_2_X tags to older ones: list every glibc the device can run.
  platforms=(--platform manylinux2014_aarch64)
  for minor in $(seq 17 "${GLIBC[$release]}"); do
    platforms+=(--platform "manylinux_2_${minor}_aarch64")
  done
  echo "numpy==${NUMPY[$release]}" >"$tmp/$release-constraints.txt"
  for mode in no-deps with-deps; do
    extra=()
    [ "$mode" = no-deps ] && extra=(--no-deps)
    dest="$tmp/$release-$mode"
    echo "== edge wheels: $release, Python $version, aarch64 (glibc <= 2.${GLIBC[$release]}), system numpy ${NUMPY[$release]}, $mode"
    if $PIP download --quiet --disable-pip-version-check --only-binary=:all: "${platforms[@]}" \
      --implementation cp --python-version "$version" "${extra[@]}" -d "$dest" \
      -r "$REQUIREMENTS" -c "$tmp/$release-constraints.txt" >"$dest.log" 2>&1; then
      ls "$dest" | sed 's/^/   /'
    else
      failed=1
      echo "   FAILED:"
      grep -E "ERROR|No matching|Could not find|from versions|conflict|requires" "$dest.log" | sed 's/^/   /' | head -n 20
    fi
  done
done
if [ "$failed" -ne 0 ]; then
  echo "== edge wheels: some requirements have no aarch64 wheel or do not accept the system numpy (see above)"
  exit 1
fi
echo "== edge wheels: every requirement resolves to aarch64 wheels with the system numpy of: ${releases[*]}"
