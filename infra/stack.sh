#!/usr/bin/env bash
# The local stack: Kafka 3.9 (KRaft, one node) and PostgreSQL 15 + PostGIS 3, state in .stack/.
#
#   infra/stack.sh setup           install what is missing (infra/setup.sh)
#   infra/stack.sh up              setup, start what is not running, wait until healthy
#   infra/stack.sh down            stop app processes (make run's supervisord), then Kafka, then PostgreSQL
#   infra/stack.sh status          one line per service and app process; exit 1 if Kafka or PostgreSQL is down
#   infra/stack.sh createdb NAME   new database owned by grid_owner, with PostGIS (from grid_template)
#   infra/stack.sh dropdb NAME
#   infra/stack.sh clean           down, then delete the data (keeps downloaded jars)
#   infra/stack.sh kafka-passwd U  a new password for broker user U, set on the broker and kept in .stack/secrets.env
set -euo pipefail
LOG_TAG=stack
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="$STACK/kafka"
KAFKA_CONF="$KAFKA_DIR/server.properties"
KAFKA_PID="$RUN_DIR/kafka.pid"
KAFKA_LOG="$LOGS/kafka.log"
KAFKA_TIMEOUT="${GRID_KAFKA_TIMEOUT:-60}"
KAFKA_USERS_STAMP="$KAFKA_DIR/users.done" # the storage holds the users of KAFKA_USERS

# ======================================================================================
# Kafka
# ======================================================================================

kafka_pid() { pid_of "$KAFKA_PID" "kafka.Kafka $KAFKA_CONF"; }

# kafka_tool CLASS ARGS...: run a one-shot Kafka tool with quiet logging.
kafka_tool() {
  java -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j-tools.properties" \
    -cp "$KAFKA_DIR/libs/*" "$@"
}

kafka_render_config() {
  rm -f "$KAFKA_CONF" # made anew, readable by us only: it holds the admin's and the controller's passwords
  (umask 077 && sed -e "s|@PORT@|$GRID_KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$GRID_KAFKA_CONTROLLER_PORT|g" \
    -e "s|@DATA_DIR@|$KAFKA_DIR/data|g" \
    -e "s|@ADMIN_PASSWORD@|$GRID_KAFKA_PASSWORD_ADMIN|g" \
    -e "s|@CONTROLLER_PASSWORD@|$GRID_KAFKA_PASSWORD_CONTROLLER|g" \
    "$ROOT/infra/kafka/server.properties.in" >"$KAFKA_CONF")
}

# KRaft storage must be formatted once with a cluster id; the id is made once and kept. The users are added at the
# first start (kafka_add_users): StorageTool's --add-scram would put their passwords on a command line, which every
# local process can read.
kafka_format() {
  [[ -f $KAFKA_DIR/data/meta.properties ]] && return
  if [[ ! -s $KAFKA_DIR/cluster.id ]]; then
    local id
    id=$(kafka_tool kafka.tools.StorageTool random-uuid | tail -n 1)
    [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid printed '$id'"
    echo "$id" >"$KAFKA_DIR/cluster.id"
  fi
  log "kafka: formatting storage (cluster id $(<"$KAFKA_DIR/cluster.id"))"
  rm -f "$KAFKA_USERS_STAMP"
  kafka_tool kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "$(<"$KAFKA_DIR/cluster.id")" --config "$KAFKA_CONF" >>"$KAFKA_LOG" 2>&1 ||
    { tail_log "$KAFKA_LOG"; die "kafka storage format failed"; }
}

# Storage without the users (new, or formatted before the broker required SASL) gets them through a running
# broker: one start with an extra listener on which admin logs in with SASL/PLAIN (checked against its password in
# the config, not against the storage) adds them, passwords passed in the environment; the caller then starts the
# broker as usual.
kafka_add_users() {
  [[ -f $KAFKA_USERS_STAMP ]] && return
  local port=$((GRID_KAFKA_CONTROLLER_PORT + 1))
  ! port_open "$port" || die "127.0.0.1:$port is taken; the one start that adds the broker's users needs it"
  log "kafka: adding users ${KAFKA_USERS[*]} to the storage (one extra start)"
  cat >>"$KAFKA_CONF" <<EOF
# This start only: admin adds the users (infra/stack.sh kafka_add_users).
listeners=CLIENT://127.0.0.1:$GRID_KAFKA_PORT,CONTROLLER://127.0.0.1:$GRID_KAFKA_CONTROLLER_PORT,USERS://127.0.0.1:$port
advertised.listeners=CLIENT://127.0.0.1:$GRID_KAFKA_PORT,USERS://127.0.0.1:$port
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,USERS:SASL_PLAINTEXT
listener.name.users.sasl.enabled.mechanisms=PLAIN
listener.name.users.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\
  user_admin="$GRID_KAFKA_PASSWORD_ADMIN";
EOF
  kafka_launch
  GRID_KAFKA_MECHANISM=PLAIN kafka_wait "127.0.0.1:$port"
  "$VENV/bin/python" "$ROOT/infra/kafka_users.py" --bootstrap "127.0.0.1:$port" --mechanism PLAIN "${KAFKA_USERS[@]}" ||
    die "could not add the broker's users"
  kafka_down
  touch "$KAFKA_USERS_STAMP"
  kafka_render_config
}

kafka_start() {
  compgen -G "$KAFKA_DIR/libs/kafka_2.13-*.jar" >/dev/null || die "no Kafka jars; run infra/stack.sh setup"
  mkdir -p "$KAFKA_DIR/data" "$LOGS" "$RUN_DIR"
  kafka_render_config
  kafka_format
  kafka_add_users
  kafka_launch
}

kafka_launch() {
  log "kafka: starting on 127.0.0.1:$GRID_KAFKA_PORT (log $KAFKA_LOG)"
  start_bg "$KAFKA_PID" "$KAFKA_LOG" \
    java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
    -cp "$KAFKA_DIR/libs/*" kafka.Kafka "$KAFKA_CONF"
}

# kafka_answers SECONDS [HOST:PORT]: the broker on our port (or that one) answers admin's metadata requests within
# SECONDS.
kafka_answers() {
  GRID_KAFKA_USERNAME=admin GRID_KAFKA_PASSWORD="$GRID_KAFKA_PASSWORD_ADMIN" "$VENV/bin/python" \
    "$ROOT/infra/kafka_ready.py" --bootstrap "${2:-127.0.0.1:$GRID_KAFKA_PORT}" --timeout "$1" 2>/dev/null
}

# kafka_wait [HOST:PORT]: wait for our broker, failing fast if its process dies.
kafka_wait() {
  local address=${1:-127.0.0.1:$GRID_KAFKA_PORT}
  if ! "$VENV/bin/python" -c 'import kafka' 2>/dev/null; then
    die "kafka-python is missing from $VENV; run infra/stack.sh setup"
  fi
  local start=$SECONDS
  until kafka_answers 3 "$address"; do
    if ! kafka_pid >/dev/null; then
      tail_log "$KAFKA_LOG"
      die "kafka exited during start-up (log $KAFKA_LOG)"
    fi
    if ((SECONDS - start >= KAFKA_TIMEOUT)); then
      tail_log "$KAFKA_LOG"
      die "kafka did not answer admin on $address within ${KAFKA_TIMEOUT}s (log $KAFKA_LOG)"
    fi
    sleep 1
  done
  log "kafka: ready on $address ($((SECONDS - start))s)"
}

# Every user's password as in .stack/secrets.env (a user added since, or a password rotated).
kafka_set_passwords() {
  "$VENV/bin/python" "$ROOT/infra/kafka_users.py" --bootstrap "127.0.0.1:$GRID_KAFKA_PORT" "${KAFKA_USERS[@]}" ||
    die "could not set the broker users' passwords"
}

# Start Kafka unless it runs; returns without waiting (see kafka_wait). Sets KAFKA_EXTERNAL
# when a broker this checkout did not start already serves the port (another clone's stack).
KAFKA_EXTERNAL=0
kafka_up_begin() {
  local pid
  if pid=$(kafka_pid) && ! kafka_answers 10; then
    log "kafka: the running broker (pid $pid) refuses admin (started before it required SASL?); restarting it"
    kafka_down
    kafka_start
  elif [[ -n $pid ]]; then
    log "kafka: already running (pid $pid)"
  elif port_open "$GRID_KAFKA_PORT"; then
    kafka_answers 10 ||
      die "127.0.0.1:$GRID_KAFKA_PORT is taken by something that is not a working Kafka accepting this checkout's admin"
    log "kafka: using the broker already on 127.0.0.1:$GRID_KAFKA_PORT (not started by this checkout)"
    KAFKA_EXTERNAL=1
  else
    kafka_start
  fi
}

kafka_down() {
  stop_pidfile "$KAFKA_PID" "kafka.Kafka $KAFKA_CONF" kafka 90
}

# ======================================================================================
# PostgreSQL + PostGIS
# ======================================================================================

# as_pg CMD...: run as the owner of the cluster (postgres when we are root), from / (postgres may not be able to
# enter the checkout).
as_pg() {
  if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
pg_superuser() { if [[ $EUID -eq 0 ]]; then echo postgres; else id -un; fi; }

# pg_pid: pid of our postmaster. Checks the process behind postmaster.pid really is a
# postgres on our data dir (after a hard kill the pid may now belong to anything).
pg_pid() {
  local pid
  [[ -s $PG_DATA/postmaster.pid ]] || return 1
  pid=$(head -n 1 "$PG_DATA/postmaster.pid")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $PG_DATA" || return 1
  echo "$pid"
}
pg_running() { pg_pid >/dev/null; }

# psql_super DB ARGS...: superuser session over our unix socket (peer auth), SQL on stdin.
psql_super() {
  local db=$1
  shift
  PGOPTIONS="-c client_min_messages=warning" as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$GRID_PG_PORT" \
    -U "$(pg_superuser)" -d "$db" "$@"
}

# psql_owner DB ARGS...: session as role grid_owner over TCP, the way migrations connect.
psql_owner() {
  local db=$1
  shift
  PGPASSWORD=$GRID_DATABASE_OWNER_PASSWORD PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" \
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$GRID_PG_PORT" -U grid_owner -d "$db" "$@"
}

# psql_grid DB ARGS...: session as role grid over TCP, the way the application connects.
psql_grid() {
  local db=$1
  shift
  PGPASSWORD=grid PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$GRID_PG_PORT" -U grid -d "$db" "$@"
}

pg_answers() { psql_grid grid -Atc 'select postgis_version()' 2>/dev/null; }

# Data and socket folders belong to postgres; the folders above them must be traversable. Outside the checkout
# (see pg_home in lib.sh), .stack/pg and .stack/logs/postgres.log link to them.
pg_prepare_dirs() {
  mkdir -p "$PG_DATA" "$PG_SOCKET_DIR" "$LOGS"
  chmod a+rx "$PG_DIR" "$LOGS"
  if [[ $PG_DIR == "$PG_LINK" ]]; then
    chmod a+rx "$STACK"
  else
    chmod a+rx "$(dirname "$PG_DIR")"
    [[ -L $PG_LINK || ! -f $PG_DATA/PG_VERSION ]] ||
      log "postgres: $PG_LINK was gone; using the cluster made before for this checkout's path, $PG_DIR"
    ln -sfn "$PG_DIR" "$PG_LINK"
    ln -sfn "$PG_LOG" "$LOGS/postgres.log"
  fi
  chmod 700 "$PG_DATA"
  touch "$PG_LOG"
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$PG_DATA" "$PG_SOCKET_DIR" "$PG_LOG"
    as_pg test -w "$PG_SOCKET_DIR" -a -w "$PG_LOG" -a -w "$PG_DATA" ||
      die "user postgres cannot reach $PG_DIR: make every folder above it traversable (chmod o+x), or remove $PG_LINK (make clean-stack) to have it made where postgres can"
  fi
}

pg_initdb() {
  [[ -f $PG_DATA/PG_VERSION ]] && return
  [[ -z "$(ls -A "$PG_DATA")" ]] || die "$PG_DATA is not empty but holds no cluster; remove it (make clean-stack)"
  log "postgres: initdb $PG_DATA"
  as_pg "$PGBIN/initdb" -D "$PG_DATA" -U "$(pg_superuser)" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
    { tail_log "$PG_LOG"; die "initdb failed"; }
  echo "include = 'grid.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

# Our settings, rewritten on every start so port changes apply. Durability settings
# (fsync, synchronous_commit) stay at their safe defaults.
pg_write_config() {
  as_pg tee "$PG_DATA/grid.conf" >/dev/null <<EOF
# Written by infra/stack.sh on every start: edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $GRID_PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_start() {
  pg_prepare_dirs
  pg_initdb
  pg_write_config
  rm -f "$PG_DATA/postmaster.pid" # not running (checked), so any pid file is stale
  rotate_log "$PG_LOG"
  log "postgres: starting on 127.0.0.1:$GRID_PG_PORT (log $PG_LOG)"
  as_pg "$PGBIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 >/dev/null 9>&- ||
    { tail_log "$PG_LOG"; die "postgres did not start"; }
}

# Roles grid_owner (password GRID_DATABASE_OWNER_PASSWORD, may create databases; owns every database and table,
# runs migrations; may end other sessions, so `DROP DATABASE … WITH (FORCE)` works while the app role is connected) and grid (password grid; the application: owns nothing, has the rights migration 0008 grants);
# database grid_template with PostGIS (a template: tests clone it as grid_owner, no superuser needed) and database
# grid cloned from it. Idempotent; on a stack made before the owner role existed it reassigns what grid owns.
pg_bootstrap() {
  psql_super postgres <<'SQL'
SELECT 'CREATE ROLE grid LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grid') \gexec
ALTER ROLE grid WITH LOGIN NOCREATEDB PASSWORD 'grid';
SELECT 'CREATE ROLE grid_owner LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grid_owner') \gexec
ALTER ROLE grid_owner WITH LOGIN CREATEDB;
GRANT pg_signal_backend TO grid_owner;
SELECT 'CREATE DATABASE grid_template OWNER grid_owner'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'grid_template') \gexec
\c grid_template
CREATE EXTENSION IF NOT EXISTS postgis;
\c postgres
ALTER DATABASE grid_template IS_TEMPLATE true;
SELECT 'CREATE DATABASE grid OWNER grid_owner TEMPLATE grid_template'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'grid') \gexec
\c grid
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
  # On stdin, not the command line, where other users of the machine could read it.
  printf "ALTER ROLE grid_owner PASSWORD '%s';\n" "$GRID_DATABASE_OWNER_PASSWORD" | psql_super postgres
  pg_reassign_from_grid
}

# Until the owner role existed, grid owned every database and table it made, and so could disable the case log's
# append-only trigger or TRUNCATE it. Hand all of it to grid_owner, in each database where grid owns something
# (pg_shdepend lists them; dbid 0 is a database itself). The next gridctl migrate grants grid its rights back.
pg_reassign_from_grid() {
  local db
  for db in $(psql_super postgres -At <<'SQL'
SELECT DISTINCT CASE WHEN s.dbid = 0 THEN 'postgres' ELSE d.datname END
  FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid
 WHERE s.refobjid = 'grid'::regrole AND s.deptype = 'o' AND (s.dbid = 0 OR d.datallowconn);
SQL
  ); do
    log "postgres: database $db: what role grid owns now belongs to grid_owner"
    echo 'REASSIGN OWNED BY grid TO grid_owner;' | psql_super "$db"
  done
}

# Start PostgreSQL unless it runs, then make sure role, databases and PostGIS exist.
pg_up() {
  if pg_running; then
    log "postgres: already running"
  elif port_open "$GRID_PG_PORT"; then
    pg_answers >/dev/null ||
      die "127.0.0.1:$GRID_PG_PORT is taken by something that does not accept grid/grid with PostGIS"
    log "postgres: using the server already on 127.0.0.1:$GRID_PG_PORT (not started by this checkout)"
    return
  else
    pg_start
  fi
  pg_bootstrap || die "could not create role/database grid"
  local version
  version=$(pg_answers) || { tail_log "$PG_LOG"; die "postgres does not answer as grid"; }
  log "postgres: ready on 127.0.0.1:$GRID_PG_PORT (PostGIS ${version%% *})"
}

pg_down() {
  pg_running || return 0
  log "postgres: stopping"
  as_pg "$PGBIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null
}

valid_db_name() {
  [[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "database name must match [a-z_][a-z0-9_]*: '$1'"
  case $1 in
    grid | grid_template | postgres | template0 | template1) die "refusing to touch database '$1'" ;;
  esac
}

cmd_createdb() {
  local name=${1:?usage: stack.sh createdb NAME}
  valid_db_name "$name"
  psql_owner grid -v name="$name" <<'SQL'
SELECT format('CREATE DATABASE %I TEMPLATE grid_template', :'name')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SQL
  log "database $name ready: postgresql://grid:grid@127.0.0.1:$GRID_PG_PORT/$name (owner grid_owner)"
}

cmd_dropdb() {
  local name=${1:?usage: stack.sh dropdb NAME}
  valid_db_name "$name"
  psql_owner grid -v name="$name" <<'SQL'
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'name') \gexec
SQL
  log "database $name dropped"
}

# ======================================================================================
# Commands
# ======================================================================================

cmd_setup() { bash "$ROOT/infra/setup.sh"; }

cmd_up() {
  bash "$ROOT/infra/setup.sh" apt venv kafka
  # Kafka and PostgreSQL do not need the frontend: a failing frontend build is reported,
  # not fatal, here (make setup does fail on it).
  bash "$ROOT/infra/setup.sh" frontend ||
    log "WARNING: frontend setup failed (see above); web/static/dist may be missing or stale"
  kafka_up_begin # the JVM starts while PostgreSQL does
  pg_up
  ((KAFKA_EXTERNAL)) || { kafka_wait && kafka_set_passwords; }
  cmd_status
}

cmd_down() {
  stop_apps
  kafka_down
  pg_down
  log "stack stopped"
}

# status_line NAME STATE DETAIL
status_line() { printf '%-11s %-5s %s\n' "$1" "$2" "$3"; }

# make run's supervisord and each of its programs (informational: does not change the exit status).
apps_status() {
  local pid
  if pid=$(supervisord_pid); then
    status_line supervisord up "pid $pid  (make run; $SUP_CONF)"
    supctl status | sed 's/^/  /' || true # exits 3 when a program is not RUNNING
  elif [[ -e $SUP_PID ]]; then
    status_line supervisord down "(make run)"
  fi
}

cmd_status() {
  local down=0 pid version
  if kafka_answers 5; then
    if pid=$(kafka_pid); then
      status_line kafka up "127.0.0.1:$GRID_KAFKA_PORT  pid $pid"
    else
      status_line kafka up "127.0.0.1:$GRID_KAFKA_PORT  (not started by this checkout)"
    fi
  else
    if pid=$(kafka_pid); then
      status_line kafka down "127.0.0.1:$GRID_KAFKA_PORT  pid $pid runs but does not answer"
    else
      status_line kafka down "127.0.0.1:$GRID_KAFKA_PORT"
    fi
    down=1
  fi
  if version=$(pg_answers); then
    status_line postgres up "127.0.0.1:$GRID_PG_PORT  db grid, PostGIS ${version%% *}$(pg_running || echo '  (not started by this checkout)')"
  else
    status_line postgres down "127.0.0.1:$GRID_PG_PORT"
    down=1
  fi
  apps_status
  return "$down"
}

# kafka-passwd USER: a new random password for a broker user; the broker has it before .stack/secrets.env does, so
# a failure leaves the old one working. Connections already open stay; programs log in anew when restarted.
cmd_kafka_passwd() {
  local user=${1:-} name new
  [[ " ${KAFKA_USERS[*]} " == *" $user "* ]] || die "usage: stack.sh kafka-passwd USER (one of: ${KAFKA_USERS[*]})"
  name="GRID_KAFKA_PASSWORD_${user^^}"
  grep -q "^$name=" "$SECRETS_FILE" || die "$name is set outside $SECRETS_FILE; change it where it is set"
  new=$(random_secret)
  GRID_KAFKA_ADMIN_LOGIN="$GRID_KAFKA_PASSWORD_ADMIN" env "$name=$new" "$VENV/bin/python" "$ROOT/infra/kafka_users.py" \
    --bootstrap "127.0.0.1:$GRID_KAFKA_PORT" "$user" || die "the broker did not take the new password; nothing changed"
  sed -i "s|^$name=.*|$name=$new|" "$SECRETS_FILE"
  [[ $user != admin ]] || kafka_render_config # the broker's own login, read at its next start
  log "kafka: $user has a new password (in $SECRETS_FILE); restart what logs in as $user (make down && make run)"
}

# Delete the data; downloaded jars and setup stamps are kept.
cmd_clean() {
  cmd_down
  log "deleting stack data in $STACK"
  rm -rf "$PG_DIR" "$PG_LINK" "$KAFKA_DIR/data" "$KAFKA_DIR/cluster.id" "$KAFKA_USERS_STAMP" "$KAFKA_CONF" "$LOGS" "$RUN_DIR" "$SUP_DIR"
  [[ $PG_SOCKET_DIR == "$PG_DIR/run" ]] || rm -rf "$PG_SOCKET_DIR"
}

# One setup/up/down at a time (parallel test runs, two terminals). Fd 9 holds the lock;
# daemons are started with it closed, so they do not keep it.
take_lock() {
  mkdir -p "$STACK"
  exec 9>"$STACK/.lock"
  flock -w 900 9 || die "another infra/stack.sh has held $STACK/.lock for 15 minutes"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    setup | up | down | clean | kafka-passwd) take_lock ;;
  esac
  case $cmd in
    setup) cmd_setup ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    createdb) cmd_createdb "$@" ;;
    dropdb) cmd_dropdb "$@" ;;
    clean) cmd_clean ;;
    kafka-passwd) cmd_kafka_passwd "$@" ;;
    *)
      sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
      exit 2
      ;;
  esac
}

main "$@"
