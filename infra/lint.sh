#!/usr/bin/env bash
# make lint: ruff, mypy (strict, packages from pyproject.toml) and the import contracts.
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

step "$VENV/bin/ruff" check .
step "$VENV/bin/ruff" format --check .
step "$VENV/bin/mypy"
step "$VENV/bin/lint-imports"
step "$VENV/bin/python" infra/size_check.py
