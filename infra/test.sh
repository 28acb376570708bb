#!/usr/bin/env bash
# make test [ARGS=...]: stack up, lint, then pytest with ARGS. Exits with the code of the
# first failure. GRID_KAFKA_BOOTSTRAP and GRID_DATABASE_URL are exported for the tests.
set -euo pipefail
LOG_TAG="test"
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

bash "$ROOT/infra/stack.sh" up
bash "$ROOT/infra/lint.sh"

mkdir -p "$STACK/faust" # F_DATADIR's parent (see lib.sh)
log "pytest -q $*"
rc=0
"$VENV/bin/pytest" -q "$@" || rc=$?
if ((rc == 5)); then
  log "pytest collected no tests: that is a failure here"
fi
exit "$rc"
