#!/usr/bin/env bash
# Install whatever is missing for the local stack. Idempotent and quick when nothing changed:
#   apt packages (PostgreSQL 15 + PostGIS 3, Chromium and a CJK font for the browser tests, and
#   Java/Maven/Node if absent),
#   the Python venv .venv (pip install -e '.[dev]'), the Kafka jars (Maven Central),
#   and the web frontend build (web/frontend -> web/static/dist).
set -euo pipefail
LOG_TAG=setup
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON="${PYTHON:-python3}"
KAFKA_LIBS="$STACK/kafka/libs"
FRONTEND="$ROOT/web/frontend"

# --- apt ------------------------------------------------------------------------------

installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }

# Packages to install: the fixed list plus tool packages for commands that are absent.
missing_apt_packages() {
  local p
  for p in postgresql-15-postgis-3 chromium fonts-wqy-microhei; do
    installed "$p" || echo "$p"
  done
  command -v java >/dev/null || echo openjdk-17-jre-headless
  command -v mvn >/dev/null || echo maven
  if [[ -f $FRONTEND/package.json ]] && ! command -v npm >/dev/null; then
    echo nodejs
    echo npm
  fi
}

setup_apt() {
  local missing
  mapfile -t missing < <(missing_apt_packages)
  if ((${#missing[@]} == 0)); then
    log "apt: all packages present"
    return
  fi
  log "apt: installing ${missing[*]}"
  local sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo)
  # Wait for a concurrent apt/dpkg run instead of failing on its lock.
  local lock=(-o DPkg::Lock::Timeout=900)
  "${sudo[@]}" apt-get "${lock[@]}" update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${lock[@]}" install -y -q \
    --no-install-recommends "${missing[@]}"
}

# --- Python venv ----------------------------------------------------------------------

# The stamp lives inside .venv, so deleting the venv also forgets it.
setup_venv() {
  local stamp="$VENV/.grid-pyproject.sha256" want
  want=$(hash_files "$ROOT/pyproject.toml")
  if [[ -x $VENV/bin/python && -f $stamp && "$(<"$stamp")" == "$want" ]]; then
    log "venv: up to date"
    return
  fi
  if [[ ! -x $VENV/bin/python ]]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
      die "$PYTHON is not Python 3.11 (set PYTHON=/path/to/python3.11)"
    log "venv: creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  log "venv: pip install -e '.[dev]'"
  (cd "$ROOT" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]') ||
    die "pip install -e '.[dev]' failed (see above)"
  echo "$want" >"$stamp"
}

# --- Kafka jars -----------------------------------------------------------------------

# Download into a temporary folder and swap it in, so an interrupted download never
# leaves a half-filled libs folder that looks complete.
setup_kafka_libs() {
  local pom="$ROOT/infra/kafka/pom.xml" want
  want=$(hash_files "$pom")
  if stamp_ok kafka-libs "$want" && compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null; then
    log "kafka: jars up to date ($(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars)"
    return
  fi
  log "kafka: fetching jars from Maven Central"
  local tmp="$KAFKA_LIBS.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local mvn_log="$STACK/kafka/mvn.log"
  if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    tail_log "$mvn_log"
    die "mvn could not fetch the Kafka jars"
  fi
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  stamp_write kafka-libs "$want"
  log "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
  if pid_of "$RUN_DIR/kafka.pid" kafka.Kafka >/dev/null; then
    log "kafka: NOTE the running broker still uses the old jars: make down && make up"
  fi
}

# run_logged LOG CMD...: run CMD with its output in LOG; on failure show the start of the
# log (where npm puts the cause) and its end.
run_logged() {
  local file=$1
  shift
  if "$@" >"$file" 2>&1; then return 0; fi
  log "'$*' failed"
  show_log "$file"
  return 1
}

show_log() {
  log "from $1:"
  { head -n 12 "$1"; echo "..."; tail -n 8 "$1"; } | sed 's/^/    /' >&2
}

# --- web frontend ---------------------------------------------------------------------

# Hash of the frontend sources (everything but node_modules), to rebuild only on change.
frontend_sources_hash() {
  (cd "$FRONTEND" && find . -path ./node_modules -prune -o -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# npm ci: exactly the committed lock file (which lists every platform's optional packages, such as
# @rollup/rollup-*, so it installs on any machine; refresh it with `npm install --package-lock-only`).
frontend_install() {
  local npm_log="$STACK/frontend.log" npm_args=(--prefix "$FRONTEND" --no-audit --no-fund)
  [[ -f $FRONTEND/package-lock.json ]] || die "web/frontend/package-lock.json is missing (npm ci installs from it)"
  log "frontend: npm ci"
  run_logged "$npm_log" npm ci "${npm_args[@]}" || die "npm ci failed in web/frontend"
}

setup_frontend() {
  if [[ ! -f $FRONTEND/package.json ]]; then
    log "frontend: no web/frontend/package.json, skipped"
    return
  fi
  local lock_hash src_hash dist="$ROOT/web/static/dist" manifests=("$FRONTEND/package.json")
  [[ -f $FRONTEND/package-lock.json ]] && manifests+=("$FRONTEND/package-lock.json")
  lock_hash=$(hash_files "${manifests[@]}")
  if stamp_ok frontend-deps "$lock_hash" && [[ -d $FRONTEND/node_modules ]]; then
    log "frontend: node_modules up to date"
  elif [[ -L $FRONTEND/node_modules ]]; then
    # Another checkout's (a git worktree sharing main's): npm ci would empty that folder through the link.
    log "frontend: WARNING node_modules links to $(readlink "$FRONTEND/node_modules"); not installing into it"
  else
    frontend_install
    stamp_write frontend-deps "$lock_hash"
  fi
  src_hash=$(frontend_sources_hash)
  if stamp_ok frontend-build "$src_hash" && [[ -n "$(ls -A "$dist" 2>/dev/null)" ]]; then
    log "frontend: build up to date"
    return
  fi
  log "frontend: npm run build"
  run_logged "$STACK/frontend.log" npm --prefix "$FRONTEND" run build ||
    die "frontend build failed (web/frontend)"
  stamp_write frontend-build "$src_hash"
}

# setup.sh [STEP...]: the given steps (apt venv kafka frontend), all by default.
main() {
  local steps=("$@") step
  ((${#steps[@]})) || steps=(apt venv kafka frontend)
  mkdir -p "$STACK" "$STAMPS"
  for step in "${steps[@]}"; do
    local start=$SECONDS
    case $step in
      apt) setup_apt ;;
      venv) setup_venv ;;
      kafka) setup_kafka_libs ;;
      frontend) setup_frontend ;;
      *) die "unknown step '$step' (apt venv kafka frontend)" ;;
    esac
    ((SECONDS - start < 2)) || log "$step: done in $((SECONDS - start))s"
  done
}

main "$@"
