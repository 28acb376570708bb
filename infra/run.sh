#!/usr/bin/env bash
# make run: the whole product on this machine.
#   stack up -> topics -> migrations -> demo data -> stream worker + web server (+ simulator)
# Stays in the foreground tailing the app logs; Ctrl-C stops the app processes (the stack
# keeps running: `make down` stops everything). SIMULATOR=0 leaves the simulator out.
set -euo pipefail
LOG_TAG=run
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

PY="$VENV/bin/python"
WEB_URL="http://127.0.0.1:$GRID_WEB_PORT"
HEALTH_TIMEOUT=90
TAIL_PID=

prepare() {
  bash "$ROOT/infra/stack.sh" up
  log "creating topics"
  "$PY" -m streams.topics
  log "applying migrations"
  "$VENV/bin/gridctl" migrate
  log "loading demo data"
  "$VENV/bin/gridctl" demo load
}

start_apps() {
  stop_apps # leftovers of an earlier make run
  if port_open "$GRID_WEB_PORT"; then
    die "127.0.0.1:$GRID_WEB_PORT is already in use (set GRID_WEB_PORT to use another port)"
  fi
  mkdir -p "$STACK/faust" # F_DATADIR's parent (see lib.sh)
  log "starting stream worker (log $LOGS/worker.log)"
  # --without-web: faust would otherwise serve its own web page on 0.0.0.0:6066.
  start_bg "$RUN_DIR/worker.pid" "$LOGS/worker.log" "$PY" -m streams worker --without-web
  log "starting web server (log $LOGS/web.log)"
  start_bg "$RUN_DIR/web.pid" "$LOGS/web.log" "$VENV/bin/uvicorn" web.app:create_app --factory \
    --host 127.0.0.1 --port "$GRID_WEB_PORT"
}

# http_ok URL: true if URL answers 200 within 2 s.
http_ok() {
  "$PY" - "$1" <<'PY' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
}

fail_start() {
  local app
  for app in web worker; do tail_log "$LOGS/$app.log" 30; done
  stop_apps
  die "$1"
}

wait_healthy() {
  local start=$SECONDS
  until http_ok "$WEB_URL/healthz"; do
    app_pid web >/dev/null || fail_start "the web server exited during start-up"
    app_pid worker >/dev/null || fail_start "the stream worker exited during start-up"
    ((SECONDS - start < HEALTH_TIMEOUT)) || fail_start "$WEB_URL/healthz did not answer 200 within ${HEALTH_TIMEOUT}s"
    sleep 1
  done
  log "web server healthy after $((SECONDS - start))s"
}

start_simulator() {
  if [[ ${SIMULATOR:-1} == 0 ]]; then
    log "SIMULATOR=0: no simulator"
    return
  fi
  log "starting simulator (log $LOGS/simulator.log)"
  start_bg "$RUN_DIR/simulator.pid" "$LOGS/simulator.log" "$PY" -m ingest.simulator --url "$WEB_URL"
}

banner() {
  cat <<EOF

  ┌──────────────────────────────────────────────────────────────────────
  │ 网格化管理指挥平台 / grid command centre is running
  │
  │   command centre   $WEB_URL/
  │   grid worker      $WEB_URL/m/worker   (phone)
  │   officer          $WEB_URL/m/officer  (phone)
  │   API docs         $WEB_URL/docs
  │   health           $WEB_URL/healthz
  │
  │   Kafka            $GRID_KAFKA_BOOTSTRAP
  │   PostgreSQL       $GRID_DATABASE_URL
  │   logs             $LOGS/{web,worker,simulator}.log
  │
  │   Ctrl-C stops the app processes; \`make down\` stops them and the stack.
  │   Sign in with a demo account below (one per role; \`gridctl users --help\`).
  └──────────────────────────────────────────────────────────────────────
EOF
  "$VENV/bin/gridctl" users demo 2>&1 || true
  echo
}

on_interrupt() {
  trap - INT TERM
  echo
  [[ -z $TAIL_PID ]] || kill "$TAIL_PID" 2>/dev/null || true
  stop_apps
  log "app processes stopped; the stack is still up (make down stops it)"
  exit 130
}

# Tail the logs until Ctrl-C; leave if web or worker dies, or `make down` stopped them.
follow() {
  local logs=("$LOGS/web.log" "$LOGS/worker.log") app
  [[ -e $RUN_DIR/simulator.pid ]] && logs+=("$LOGS/simulator.log")
  tail -n 0 -F "${logs[@]}" &
  TAIL_PID=$!
  while sleep 2; do
    for app in web worker; do
      if [[ ! -e $RUN_DIR/$app.pid ]]; then
        kill "$TAIL_PID" 2>/dev/null || true
        log "app processes were stopped (make down)"
        exit 0
      fi
      if ! app_pid "$app" >/dev/null; then
        kill "$TAIL_PID" 2>/dev/null || true
        tail_log "$LOGS/$app.log" 30
        stop_apps
        die "$app exited unexpectedly"
      fi
    done
  done
}

main() {
  prepare
  trap on_interrupt INT TERM
  start_apps
  wait_healthy
  start_simulator
  banner
  follow
}

main "$@"
