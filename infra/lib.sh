# Shared settings and helpers for infra/*.sh. Source it; it sets no shell options.
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/.stack"        # all local state; git-ignored
LOGS="$STACK/logs"
RUN_DIR="$STACK/run"        # pid files
STAMPS="$STACK/stamps"      # hashes that let setup skip work already done
VENV="$ROOT/.venv"

# PostgreSQL 15's programs; gridctl backup and restore use its pg_dump and pg_restore too.
PGBIN=/usr/lib/postgresql/15/bin
export GRID_PG_BIN_DIR="${GRID_PG_BIN_DIR:-$PGBIN}"

# PostgreSQL's files: the cluster, its unix socket and its log. The server runs as user postgres when we are root,
# and postgres cannot reach a checkout under a private folder (root's home, mktemp -d: mode 700). So as root they
# live outside the checkout, one folder per checkout in GRID_PG_STACKS_DIR (default /var/lib/gridcmd-stacks) named
# by a hash of the checkout's path, and .stack/pg is a symlink to it: the record every script follows (it stays
# right when the checkout moves), removed with the folder by `make clean-stack`. Not root, the server runs as us
# and they stay in .stack/pg, as does a .stack/pg folder made before this.
PG_LINK="$STACK/pg"
pg_home() {
  if [[ -L $PG_LINK ]]; then
    readlink "$PG_LINK"
  elif [[ -d $PG_LINK || $EUID -ne 0 ]]; then
    echo "$PG_LINK"
  else
    echo "${GRID_PG_STACKS_DIR:-/var/lib/gridcmd-stacks}/$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)"
  fi
}
PG_DIR="$(pg_home)"
PG_DATA="$PG_DIR/data"
# postgres writes its log itself; outside the checkout it is linked from .stack/logs.
if [[ $PG_DIR == "$PG_LINK" ]]; then PG_LOG="$LOGS/postgres.log"; else PG_LOG="$PG_DIR/postgres.log"; fi
# A unix socket path must stay under ~107 bytes; fall back to /tmp for deep checkouts.
PG_SOCKET_DIR="$PG_DIR/run"
if ((${#PG_SOCKET_DIR} > 90)); then
  PG_SOCKET_DIR="/tmp/gridcmd-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
fi

# Ports (overridable). Everything listens on 127.0.0.1 only.
GRID_KAFKA_PORT="${GRID_KAFKA_PORT:-29092}"
GRID_KAFKA_CONTROLLER_PORT="${GRID_KAFKA_CONTROLLER_PORT:-$((GRID_KAFKA_PORT + 1))}"
GRID_PG_PORT="${GRID_PG_PORT:-25432}"
GRID_WEB_PORT="${GRID_WEB_PORT:-8000}"

# Secrets of this installation, made on first use and kept in the ignored stack folder (mode 600). A variable
# already set in the environment wins, so production sets its own. Each line: NAME=value.
SECRETS_FILE="$STACK/secrets.env"
SECRET_NAMES=(
  GRID_JWT_SECRET # signs access tokens (dispatch/access/tokens.py)
  GRID_COMMAND_KEY # signs case commands: the web app and the stream workers only (dispatch/cases/signing.py)
  GRID_KAFKA_PASSWORD_ADMIN # broker super user admin: infra scripts, topics and ACLs, gridctl, tests
  GRID_KAFKA_PASSWORD_CONTROLLER # the broker node's own login to its controller listener (SASL/PLAIN)
  GRID_KAFKA_PASSWORD_WEB # broker user web: the web server's commands, registry notices and live hub
  GRID_KAFKA_PASSWORD_INTAKE # broker user intake: the intake (inside the web server) writes events only
  GRID_KAFKA_PASSWORD_STREAM # broker user stream: the stream workers
  GRID_AUDIT_KEY # seals the case log and its anchors; never stored in the database (dispatch/cases/seal.py)
  GRID_DATABASE_OWNER_PASSWORD # the database role grid_owner, which owns the tables and runs migrations
)

# random_secret: 48 URL-safe characters from the kernel's generator.
random_secret() { head -c 64 /dev/urandom | base64 -w0 | tr -d '/+=' | cut -c1-48; }

# ensure_secrets: add any missing secret to SECRETS_FILE, then export those not already set.
ensure_secrets() {
  local name key value
  mkdir -p "$STACK"
  (umask 077 && touch "$SECRETS_FILE")
  chmod 600 "$SECRETS_FILE"
  for name in "${SECRET_NAMES[@]}"; do
    grep -q "^$name=" "$SECRETS_FILE" || printf '%s=%s\n' "$name" "$(random_secret)" >>"$SECRETS_FILE"
  done
  while IFS='=' read -r key value; do
    [[ $key =~ ^GRID_[A-Z0-9_]+$ && -z ${!key:-} ]] && export "$key=$value"
  done <"$SECRETS_FILE"
  return 0
}
ensure_secrets

# The broker's users (principals), each with its password GRID_KAFKA_PASSWORD_<USER> above; streams/acls.py says
# what each may do.
KAFKA_USERS=(admin web intake stream)

# Who the scripts and the tools started from them are on the broker: admin, unless set (make run gives each
# program its own user, see infra/supervisor_conf.py).
export GRID_KAFKA_USERNAME="${GRID_KAFKA_USERNAME:-admin}"
export GRID_KAFKA_PASSWORD="${GRID_KAFKA_PASSWORD:-$GRID_KAFKA_PASSWORD_ADMIN}"

# What the Python side reads (see dispatch/settings.py). The application connects as grid, which owns nothing;
# migrations (gridctl migrate) and stack.sh createdb connect as grid_owner.
export GRID_KAFKA_BOOTSTRAP="${GRID_KAFKA_BOOTSTRAP:-127.0.0.1:$GRID_KAFKA_PORT}"
export GRID_DATABASE_URL="${GRID_DATABASE_URL:-postgresql://grid:grid@127.0.0.1:$GRID_PG_PORT/grid}"
export GRID_DATABASE_OWNER_URL="${GRID_DATABASE_OWNER_URL:-postgresql://grid_owner:$GRID_DATABASE_OWNER_PASSWORD@127.0.0.1:$GRID_PG_PORT/grid}"
export GRID_WEB_PORT

log() { printf '[%s] %s\n' "${LOG_TAG:-stack}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# sha256 of the given files' contents (one line, no file names).
hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }

# stamp_ok NAME HASH: true if the stamp NAME was written with HASH.
stamp_ok() { [[ -f "$STAMPS/$1" && "$(<"$STAMPS/$1")" == "$2" ]]; }
stamp_write() { mkdir -p "$STAMPS" && printf '%s\n' "$2" >"$STAMPS/$1"; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_of FILE PATTERN: print the pid recorded in FILE if that process is alive and its
# command line contains PATTERN, so a stale pid file (or a recycled pid) is not trusted.
pid_of() {
  local file=$1 pattern=$2 pid
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  echo "$pid"
}

# rotate_log FILE: keep one previous copy once a log passes 50 MB.
rotate_log() {
  local file=$1
  if [[ -f $file && $(stat -c %s "$file") -gt 52428800 ]]; then
    mv -f "$file" "$file.1"
  fi
}

# start_bg PIDFILE LOGFILE CMD...: start CMD detached (own session, so Ctrl-C in the
# terminal does not reach it), output appended to LOGFILE, pid written to PIDFILE.
start_bg() {
  local pidfile=$1 logfile=$2
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  rotate_log "$logfile"
  printf '\n===== %s start: %s\n' "$(date -Is)" "$*" >>"$logfile"
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null 9>&- & # fd 9: stack.sh's lock
  echo $! >"$pidfile"
}

# stop_pidfile PIDFILE PATTERN NAME [TIMEOUT]: SIGTERM the process (and its process
# group), wait for it to exit, SIGKILL after TIMEOUT seconds.
stop_pidfile() {
  local file=$1 pattern=$2 name=$3 timeout=${4:-30} pid i
  if ! pid=$(pid_of "$file" "$pattern"); then
    rm -f "$file"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    if ! pid_of "$file" "$pattern" >/dev/null; then
      rm -f "$file"
      return 0
    fi
    sleep 0.2
  done
  log "$name did not exit within ${timeout}s; sending SIGKILL"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$file"
}

# tail_log FILE: the end of a log, for failure messages.
tail_log() {
  local file=$1
  [[ -f $file ]] || return 0
  log "last lines of $file:"
  tail -n "${2:-40}" "$file" | sed 's/^/    /' >&2
}

# --- app processes: supervisord, started by infra/run.sh --------------------------------

# How many processes make run starts (see infra/supervisor_conf.py, which writes the config from them).
export GRID_STREAM_WORKERS="${GRID_STREAM_WORKERS:-2}" # one consumer group: the partitions are shared
# uvicorn --workers: one per two cores (the broker, PostgreSQL and the stream workers share the machine)
export GRID_WEB_WORKERS="${GRID_WEB_WORKERS:-$(( $(nproc) / 2 > 1 ? $(nproc) / 2 : 1 ))}"
SUP_DIR="$STACK/supervisor" # supervisord.conf, its unix socket and pid file
SUP_CONF="$SUP_DIR/supervisord.conf"
SUP_PID="$SUP_DIR/supervisord.pid"

supervisord_pid() { pid_of "$SUP_PID" "$VENV/bin/supervisord"; }

# supctl ARGS...: supervisorctl on our supervisord (status, restart stream:*, tail -f web, ...).
supctl() { "$VENV/bin/supervisorctl" -c "$SUP_CONF" "$@"; }

# kill_leftovers SID: stop what is left of supervisord's session (its pid: it is the session
# leader) once it is gone. Killed hard, it cannot stop its programs, and they would live on.
kill_leftovers() {
  local sid=$1 pid pids=() i
  for pid in $(ps -o pid= -s "$sid" 2>/dev/null); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
      grep -qF -e "$VENV/bin/" -e "$(readlink -f "$VENV")/bin/" && pids+=("$pid")
  done
  ((${#pids[@]})) || return 0
  log "stopping processes supervisord left behind: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

# Stopping supervisord stops its programs first (simulator, web, then the stream workers).
# The pid files are those of make run before it ran under supervisord.
stop_apps() {
  local app sid=
  [[ -s $SUP_PID ]] && sid=$(<"$SUP_PID")
  stop_pidfile "$SUP_PID" "$VENV/bin/supervisord" supervisord 90
  [[ ! $sid =~ ^[0-9]+$ ]] || kill_leftovers "$sid"
  for app in simulator web worker; do
    stop_pidfile "$RUN_DIR/$app.pid" "$VENV/bin/" "$app" 20
  done
}

# Faust (the stream worker) keeps its local state in a data dir, by default in the current
# folder; keep it under .stack instead. Faust fills in {conf.name}.
export F_DATADIR="${F_DATADIR:-$STACK/faust/{conf.name\}-data}"
