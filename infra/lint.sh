#!/usr/bin/env bash
# make lint: ruff, mypy (strict, packages from pyproject.toml), the import contracts, the module sizes, and that
# the front end's lock file still installs with npm ci.
# Exits with the code of the first tool that fails.
set -euo pipefail
LOG_TAG=lint
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

bash "$ROOT/infra/setup.sh" venv # quick no-op when .venv is current

step() {
  log "$*"
  local rc=0
  "$@" || rc=$?
  ((rc == 0)) || { log "FAILED (exit $rc): $*"; exit "$rc"; }
}

# npm ci refuses a lock file out of step with package.json (or one missing another platform's optional packages):
# checked on a copy of the two files, so no node_modules is touched.
npm_lock_installs() {
  local tmp rc=0
  tmp=$(mktemp -d)
  cp web/frontend/package.json web/frontend/package-lock.json "$tmp/"
  npm ci --dry-run --ignore-scripts --no-audit --no-fund --loglevel=error --prefix "$tmp" >/dev/null || rc=$?
  rm -rf "$tmp"
  return "$rc"
}

step "$VENV/bin/ruff" check .
step "$VENV/bin/ruff" format --check .
step "$VENV/bin/mypy"
step "$VENV/bin/lint-imports"
step "$VENV/bin/python" infra/size_check.py
! command -v npm >/dev/null || step npm_lock_installs
