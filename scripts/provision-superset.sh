#!/usr/bin/env bash
# Installs the pinned Superset of superset/requirements.txt into a Python 3.11 virtual
# environment under .cache/ (git-ignored), for test/integration/superset-import.test.ts.
#
#   bash scripts/provision-superset.sh            (scripts/provision.sh calls it when PROVISION_SUPERSET=1)
#
# Idempotent: a stamp holding the requirements file's contents makes a second run return at
# once; a changed pin rebuilds the environment.
#
# The wheels are kept outside the repository, in a wheelhouse per requirements file
# (~/.cache/tidemark/superset-wheels/<hash>): a fresh clone on a warm machine installs from it
# with --no-index, without the network. pip's own HTTP cache is not relied on: it keeps nothing
# when the index answers with no-store headers, as some proxies do.
#
# Env: SUPERSET_PYTHON (interpreter, default python3.11), SUPERSET_VENV (default
#      .cache/superset-venv), SUPERSET_WHEELHOUSE (default ~/.cache/tidemark/superset-wheels).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SUPERSET_VENV:-$ROOT/.cache/superset-venv}"
REQUIREMENTS="$ROOT/superset/requirements.txt"
STAMP="$VENV/.tidemark-requirements"
WHEELS_ROOT="${SUPERSET_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/tidemark/superset-wheels}"
PYTHON="${SUPERSET_PYTHON:-python3.11}"

log() { printf '[provision-superset %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[provision-superset] ERROR: %s\n' "$*" >&2; exit 1; }

if [ -f "$STAMP" ] && cmp -s "$STAMP" "$REQUIREMENTS" && [ -x "$VENV/bin/superset" ]; then
  log "superset present ($(grep -m1 '^apache-superset==' "$REQUIREMENTS"))"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set SUPERSET_PYTHON to a Python 3.10-3.11 interpreter)"
version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$version" in
  3.10|3.11) ;;
  *) die "$PYTHON is Python $version; the pinned Superset supports 3.10 and 3.11" ;;
esac

started=$SECONDS
log "creating $VENV (Python $version) with $(grep -m1 '^apache-superset==' "$REQUIREMENTS")"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
pip_log="$VENV/pip.log"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check --no-input "$@"; }

# One resolver run over all pins, so the marshmallow pins win over Superset's looser ranges.
wheelhouse="$WHEELS_ROOT/$(sha256sum "$REQUIREMENTS" | cut -c1-16)-py$version"
if [ ! -f "$wheelhouse/.complete" ]; then
  log "downloading wheels into $wheelhouse"
  rm -rf "$wheelhouse.partial"
  mkdir -p "$wheelhouse.partial"
  if ! pip wheel -r "$REQUIREMENTS" -w "$wheelhouse.partial" >"$pip_log" 2>&1; then
    tail -n 40 "$pip_log" >&2
    die "pip wheel failed (log: $pip_log)"
  fi
  rm -rf "$wheelhouse"
  mv "$wheelhouse.partial" "$wheelhouse"
  touch "$wheelhouse/.complete"
fi
if ! pip install --no-index --find-links "$wheelhouse" -r "$REQUIREMENTS" >>"$pip_log" 2>&1; then
  tail -n 40 "$pip_log" >&2
  die "pip install failed (log: $pip_log)"
fi
pip check >>"$pip_log" 2>&1 \
  || { tail -n 20 "$pip_log" >&2; die "pip check found broken requirements (log: $pip_log)"; }
# Importing the app catches a dependency that installs but breaks at start-up.
FLASK_APP=superset SUPERSET_SECRET_KEY=provision-check "$VENV/bin/superset" version >>"$pip_log" 2>&1 \
  || { tail -n 20 "$pip_log" >&2; die "the installed superset does not start (log: $pip_log)"; }
cp "$REQUIREMENTS" "$STAMP"
log "superset ready in $((SECONDS - started))s"
