#!/usr/bin/env bash
# make run: the whole product on this machine.
#   stack up -> topics -> migrations -> demo data -> supervisord running GRID_STREAM_WORKERS stream
#   workers (default 2), the web server (GRID_WEB_WORKERS uvicorn processes, default one per two cores), the delivery
#   process and the local delivery sink, then the simulator
# supervisord (config written by infra/supervisor_conf.py into .stack/supervisor) restarts a process
# that exits. Stays in the foreground tailing the app logs; Ctrl-C stops supervisord and its programs
# (the stack keeps running: `make down` stops everything). SIMULATOR=0 leaves the simulator out.
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
  log "pointing deliveries at the local sink http://127.0.0.1:$GRID_SINK_PORT/"
  "$VENV/bin/gridctl" delivery demo-webhooks "http://127.0.0.1:$GRID_SINK_PORT/webhook" --by make-run >/dev/null
}

# The delivery process sends SMS to the local sink unless another gateway is set.
export GRID_SMS_URL="${GRID_SMS_URL:-http://127.0.0.1:$GRID_SINK_PORT/sms}"
export GRID_SMS_API_KEY="${GRID_SMS_API_KEY:-sink-demo-key}"

start_apps() {
  stop_apps # leftovers of an earlier make run
  if port_open "$GRID_WEB_PORT"; then
    die "127.0.0.1:$GRID_WEB_PORT is already in use (set GRID_WEB_PORT to use another port)"
  fi
  "$PY" "$ROOT/infra/supervisor_conf.py" >/dev/null
  log "starting supervisord: $GRID_STREAM_WORKERS stream worker(s), web server with $GRID_WEB_WORKERS process(es) (config $SUP_CONF)"
  # It daemonizes into a session of its own, so Ctrl-C in this terminal does not reach it or its programs. Its
  # programs inherit its environment: the broker passwords stay out of it (each program's is in the config).
  local name unset=(-u GRID_KAFKA_USERNAME -u GRID_KAFKA_PASSWORD)
  for name in $(compgen -e); do [[ $name != GRID_KAFKA_PASSWORD_* ]] || unset+=(-u "$name"); done
  env "${unset[@]}" "$VENV/bin/supervisord" -c "$SUP_CONF" </dev/null 9>&- ||
    die "supervisord did not start (log $LOGS/supervisord.log)"
}

# The program logs make run shows.
app_logs() {
  local i
  echo "$LOGS/supervisord.log"
  echo "$LOGS/web.log"
  echo "$LOGS/delivery.log"
  for ((i = 1; i <= GRID_STREAM_WORKERS; i++)); do echo "$LOGS/stream-$i.log"; done
  [[ ${SIMULATOR:-1} == 0 ]] || echo "$LOGS/simulator.log"
}

# Programs that should run by now but do not (the simulator is started later), one per line.
not_running() {
  { supctl status 2>&1 || true; } | awk '$1 != "simulator" && $2 != "RUNNING" { print $1 " " $2 }'
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
  local file
  while read -r file; do tail_log "$file" 30; done < <(app_logs)
  supctl status >&2 || true
  stop_apps
  die "$1"
}

wait_healthy() {
  local start=$SECONDS fatal
  until http_ok "$WEB_URL/healthz" && [[ -z $(not_running) ]]; do
    if ! supervisord_pid >/dev/null && ((SECONDS - start > 5)); then
      fail_start "supervisord exited during start-up"
    fi
    fatal=$(not_running | awk '$2 == "FATAL" { print $1 }')
    [[ -z $fatal ]] || fail_start "supervisord gave up starting: $fatal"
    ((SECONDS - start < HEALTH_TIMEOUT)) || fail_start "$WEB_URL/healthz did not answer 200 within ${HEALTH_TIMEOUT}s"
    sleep 1
  done
  log "all processes running, web server healthy after $((SECONDS - start))s"
}

start_simulator() {
  if [[ ${SIMULATOR:-1} == 0 ]]; then
    log "SIMULATOR=0: no simulator"
    return
  fi
  log "starting simulator (log $LOGS/simulator.log)"
  supctl start simulator >/dev/null || fail_start "the simulator did not start"
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
  │   delivery sink    http://127.0.0.1:$GRID_SINK_PORT/  (the SMS and group-robot calls that would go out)
  │
  │   Kafka            $GRID_KAFKA_BOOTSTRAP
  │   PostgreSQL       $GRID_DATABASE_URL
  │   processes        $GRID_STREAM_WORKERS stream workers + web ×$GRID_WEB_WORKERS under supervisord (make status)
  │   logs             $LOGS/{supervisord,web,stream-N,simulator}.log
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

# Tail the logs until Ctrl-C; leave when supervisord is gone (`make down` stopped it, or it died).
# A program that exits is supervisord's to restart; its log says so.
follow() {
  local logs
  mapfile -t logs < <(app_logs)
  tail -n 0 -F "${logs[@]}" &
  TAIL_PID=$!
  while sleep 2; do
    supervisord_pid >/dev/null && continue
    kill "$TAIL_PID" 2>/dev/null || true
    if [[ -e $SUP_PID ]]; then
      tail_log "$LOGS/supervisord.log" 30
      stop_apps
      die "supervisord exited unexpectedly"
    fi
    log "app processes were stopped (make down)"
    exit 0
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
