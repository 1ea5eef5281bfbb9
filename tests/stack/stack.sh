#!/usr/bin/env bash
# A private mod_tipzed stack: a PostgreSQL 15 cluster reachable only through
# a unix socket, and an Apache instance on 127.0.0.1 serving the API with
# mod_dbd and mod_tipzed.
#
#   stack.sh up DIR [--sandbox]        create on first use, migrate, start (idempotent)
#   stack.sh down DIR                  stop Apache and PostgreSQL (safe if nothing runs)
#   stack.sh status DIR                what runs; exit status 0 when both run
#   stack.sh env DIR                   print DIR/env (shell-sourcable)
#   stack.sh restart-pg DIR [fast|immediate|smart]
#   stack.sh apachectl DIR ARGS...     apache2 with the stack's config, e.g. -t, -k graceful
#   stack.sh psql DIR [PSQL ARGS...]   psql on database tipzed as role tipzed (-U/-d override)
#   stack.sh walkthrough DIR           the base URL and a curl walkthrough of the API
#
# Two database roles: tipzed owns every table and function and runs the
# migrations (tipzedctl, the tests' ledger-level checks); tipzed_app is the
# runtime role in DBDParams, which may only execute the tz_api_* functions
# (docs/database.md).
#
# Layout: DIR/pg (cluster), DIR/sock (its socket), DIR/logs (error_log,
# access_log, postgresql.log, sanitizer logs), DIR/run (pid file, mutexes),
# DIR/secrets (development secrets, generated once), DIR/httpd.conf, DIR/env.
#
# As root, PostgreSQL and the Apache children run as the system user
# "tipzed" (created on demand; PostgreSQL refuses to run as root).  When that
# user cannot reach DIR (say, a checkout under /root), or DIR is too deep for
# a unix socket path, pg, sock, logs and run live in /tmp/tipzed-run-<hash>
# instead; DIR/env records the real paths and DIR/logs points there.
#
# Environment: SANITIZE (use build/san and preload the ASan/UBSan runtimes
# into Apache), TZ_EXTRA_CONF (lines appended to httpd.conf).
set -euo pipefail

PGBIN=${TZ_PGBIN:-/usr/lib/postgresql/15/bin}
# Debian puts apache2 and useradd in /usr/sbin, which an ordinary user's PATH lacks.
PATH=$PATH:/usr/sbin:/sbin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OSUSER=tipzed
APP_ROLE=tipzed_app
APACHE_MODS=/usr/lib/apache2/modules
HEALTH_TIMEOUT=20

die() { printf 'stack: %s\n' "$*" >&2; exit 1; }
say() { printf 'stack: %s\n' "$*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }

usage() { sed -n '6,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# Runs a command as the OS user that owns the cluster: "tipzed" when root,
# else the caller.  From / so that an unreadable working directory is no
# concern of the service user.
as_db() {
  if is_root; then
    (cd / && runuser -u "$OSUSER" -- "$@")
  else
    "$@"
  fi
}

ensure_os_user() {
  is_root || return 0
  id "$OSUSER" >/dev/null 2>&1 && return 0
  command -v useradd >/dev/null || die "useradd is missing (Debian package passwd)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$OSUSER" || die "could not create the system user $OSUSER"
}

# Owner of the service directories: the service user when root.
own() { if is_root; then chown "$OSUSER:" "$@"; fi; }   # the user and its login group

# Values written into env and httpd.conf are quoted by the writers, but
# libpq conninfo and DBDParams are not: keep paths to plain characters.
check_path() {
  case "$1" in
    *[!A-Za-z0-9._/+@:-]*) die "unsupported characters in path '$1' (use letters, digits, . _ - + @ :)" ;;
  esac
}

# ---------------------------------------------------------------- layout

# Sets RT (where pg, sock, logs and run live) for the stack directory D.
choose_runtime_dir() {
  local d=$1 alt
  alt=/tmp/tipzed-run-$(printf '%s' "$d" | sha256sum | cut -c1-12)
  RT=$d
  # A unix socket path holds at most 107 bytes: ".../sock/.s.PGSQL.5432".
  if [ $(( ${#d} + 19 )) -gt 100 ]; then
    RT=$alt
  elif is_root && ! runuser -u "$OSUSER" -- test -x "$d" 2>/dev/null; then
    RT=$alt
  fi
  if [ "$RT" = "$alt" ]; then
    if [ -L "$RT" ] || { [ -e "$RT" ] && [ "$(stat -c %u "$RT")" != "$(id -u)" ]; }; then
      die "$RT exists but is not a directory owned by $(id -un): remove it"
    fi
    mkdir -p "$RT"
    chmod 755 "$RT"
  fi
}

# Sets every path of the stack rooted at D (absolute) with runtime dir RT.
set_paths() {
  D=$1 RT=$2
  PGDATA=$RT/pg SOCK=$RT/sock LOGS=$RT/logs RUN=$RT/run
  SECRETS=$D/secrets CONF=$D/httpd.conf ENVF=$D/env
  PIDFILE=$RUN/httpd.pid ERROR_LOG=$LOGS/error_log
  CONNINFO="host=$SOCK dbname=tipzed user=tipzed"
  APP_CONNINFO="host=$SOCK dbname=tipzed user=$APP_ROLE"
  BUILD=build/std
  if [ -n "${SANITIZE:-}" ]; then BUILD=build/san; fi
  BUILD_ABS=$REPO/$BUILD
}

# Loads DIR/env of an existing stack and sets the paths from it.
load_env() {
  local d=$1
  [ -f "$d/env" ] || die "no stack in $d (start one with: stack.sh up $d)"
  # shellcheck disable=SC1091
  . "$d/env"
  D=$TZ_DIR PGDATA=$TZ_PGDATA SOCK=$TZ_PGHOST CONF=$TZ_HTTPD_CONF ERROR_LOG=$TZ_ERROR_LOG
  SECRETS=$TZ_SECRETS CONNINFO=$TZ_CONNINFO BUILD_ABS=$TZ_BUILD ENVF=$d/env
  APP_CONNINFO=${TZ_APP_CONNINFO:-"host=$SOCK dbname=tipzed user=$APP_ROLE"}
  LOGS=$(dirname "$ERROR_LOG")
  PIDFILE=$(sed -n 's/^PidFile "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$CONF" 2>/dev/null | head -1)
  PIDFILE=${PIDFILE:-${TZ_STATE:-$D}/run/httpd.pid}
}

# ---------------------------------------------------------------- secrets

# Writes a secret once (atomically, mode 600); an empty file is replaced.
put_secret() {
  local f=$SECRETS/$1 value=$2
  [ -s "$f" ] && return 0
  (umask 077 && printf '%s\n' "$value" > "$f.tmp") && mv -f "$f.tmp" "$f"
}

rand_hex() { od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'; }

gen_secrets() {
  local p
  mkdir -p "$SECRETS"
  chmod 700 "$SECRETS"
  put_secret jwt.key "$(head -c 48 /dev/urandom | base64 -w0)"   # HS256 key, 64 bytes
  put_secret enc.key "$(rand_hex 32)"                            # AES-256 key, 64 hex
  for p in mobile_money flutterwave stripe; do
    put_secret "webhook_$p" "whsec_$(rand_hex 24)"
    put_secret "provider_$p" "sk_test_$(rand_hex 24)"
  done
  # MTN MoMo: "<API user (a UUID)>:<API key>" and the subscription key
  put_secret momo_user "$(python3 -c 'import uuid; print(uuid.uuid4())'):$(rand_hex 16)"
  put_secret momo_subscription_key "$(rand_hex 16)"
  # signs the requests made to billers (bill payments)
  put_secret biller "bsec_$(rand_hex 24)"
  chmod 600 "$SECRETS"/*
  # Readable by the user Apache's children run as.
  own "$SECRETS" "$SECRETS"/*
}

# ---------------------------------------------------------------- PostgreSQL

pg_running() { [ -f "$PGDATA/PG_VERSION" ] && as_db "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

pg_settings() {
  cat <<CONF
# Written by tests/stack/stack.sh on every start: a private development cluster.
listen_addresses = ''                 # unix socket only
unix_socket_directories = '$SOCK'
unix_socket_permissions = 0700
max_connections = 200                 # >= Apache ServerLimit x DBDMax (4 x 25) + tools
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

pg_up() {
  local owner
  mkdir -p "$PGDATA" "$SOCK"
  owner=$(stat -c %U "$PGDATA")
  if is_root; then
    [ "$owner" = "$OSUSER" ] || [ "$owner" = root ] ||
      die "$PGDATA belongs to $owner; this stack was made by another user"
  else
    [ "$owner" = "$(id -un)" ] ||
      die "$PGDATA belongs to $owner; this stack was made by another user (stop it as that user, or use another DIR)"
  fi
  own "$PGDATA" "$SOCK"
  chmod 700 "$PGDATA" "$SOCK"
  touch "$LOGS/postgresql.log"
  own "$LOGS/postgresql.log"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    as_db "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N \
      >"$LOGS/initdb.log" 2>&1 || { cat "$LOGS/initdb.log" >&2; die "initdb failed"; }
    echo "include 'tipzed.conf'" | as_db tee -a "$PGDATA/postgresql.conf" >/dev/null
  fi
  pg_settings | as_db tee "$PGDATA/tipzed.conf" >/dev/null
  if ! pg_running; then
    as_db "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOGS/postgresql.log" -w -t 60 start >/dev/null ||
      { tail -n 20 "$LOGS/postgresql.log" >&2; die "PostgreSQL did not start (log: $LOGS/postgresql.log)"; }
  fi
  local q=(psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -U postgres -d postgres)
  # The owner of the schema, and the runtime role that owns nothing.
  if [ -z "$(as_db "${q[@]}" -At -c "SELECT 1 FROM pg_roles WHERE rolname = 'tipzed'")" ]; then
    as_db "${q[@]}" -c "CREATE ROLE tipzed LOGIN" >/dev/null
  fi
  if [ -z "$(as_db "${q[@]}" -At -c "SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE'")" ]; then
    as_db "${q[@]}" -c "CREATE ROLE $APP_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" >/dev/null
  fi
  if [ -z "$(as_db "${q[@]}" -At -c "SELECT 1 FROM pg_database WHERE datname = 'tipzed'")" ]; then
    as_db "${q[@]}" -c "CREATE DATABASE tipzed OWNER tipzed" >/dev/null
  fi
}

pg_down() {
  [ -f "$PGDATA/PG_VERSION" ] || return 0
  pg_running || return 0
  as_db "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null ||
    die "PostgreSQL in $PGDATA did not stop"
}

migrate() {
  local out
  [ -x "$BUILD_ABS/tipzedctl" ] || die "$BUILD_ABS/tipzedctl is missing: build it first (make)"
  out=$("$BUILD_ABS/tipzedctl" -d "$CONNINFO" migrate --runtime-role "$APP_ROLE" "$REPO/sql" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "migrations failed"; }
}

# ---------------------------------------------------------------- Apache

port_free() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
PY
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# KEY=VALUE words for env(1): the sanitizer runtimes, when SANITIZE is set.
SAN_ENV=()
set_san_env() {
  SAN_ENV=()
  [ -n "${SANITIZE:-}" ] || return 0
  local asan ubsan
  asan=$(gcc -print-file-name=libasan.so) ubsan=$(gcc -print-file-name=libubsan.so)
  if [ ! -e "$asan" ] || [ ! -e "$ubsan" ]; then
    die "SANITIZE is set but gcc has no libasan/libubsan"
  fi
  SAN_ENV=("LD_PRELOAD=$asan:$ubsan"
           "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:log_path=$LOGS/asan"
           "UBSAN_OPTIONS=print_stacktrace=1:log_path=$LOGS/ubsan")
}

# mod_tipzed's directives.  Add new ones here; tests add theirs through
# TZ_EXTRA_CONF.
tipzed_directives() {
  local port=$1 sandbox=$2
  cat <<CONF
TipzedJWTSecretFile "$SECRETS/jwt.key"
TipzedEncryptionKeyFile "$SECRETS/enc.key"
TipzedLoginRateLimit 5 1m
TipzedCORSOrigin https://app.tipzed.test
# Public profiles from shared memory (mod_socache_shmcb), at most 2 s old.
TipzedCreatorCache shmcb 2s
# The only source of the absolute URLs sent to providers and payers.
TipzedPublicURL http://127.0.0.1:$port
# The mobile_money gateway's checkout base URL (a placeholder on this host,
# unless TZ_MM_URL names a stand-in of the gateway).
TipzedProvider mobile_money ${TZ_MM_URL:-http://127.0.0.1:$port/mm-checkout}
TipzedWebhookSecretFile mobile_money "$SECRETS/webhook_mobile_money"
# Signs the requests made to billers (bill payments).
TipzedBillerSecretFile "$SECRETS/biller"
CONF
  # Beside a live provider the sandbox must be allowed explicitly; a
  # sandbox stack shows fans' rewards too: 1% cashback, at most 500.00 a
  # month per fan, and 5.00 to a referrer.
  if [ "$sandbox" = On ]; then
    echo "TipzedSandbox On mixed"
    echo "TipzedCashback 1% 50000"
    echo "TipzedReferralBonus 500"
  fi
}

# The operator's dashboard (docs/dashboard.md): static files served by
# Apache beside the API, same origin, Chart.js from Debian's libjs-chart.js.
# The same lines as conf/tipzed.conf's snippet, with this checkout's files.
dashboard_conf() {
  local dir=$1
  cat <<CONF
Alias /dashboard/vendor/chart.js /usr/share/javascript/chart.js/chart.min.js
Alias /dashboard/ "$dir/"
RedirectMatch 301 ^/dashboard\$ /dashboard/
<Directory "$dir">
  Options None
  AllowOverride None
  DirectoryIndex index.html
  AddDefaultCharset UTF-8
  Require all granted
</Directory>
<Directory /usr/share/javascript/chart.js>
  Options None
  AllowOverride None
  Require all granted
</Directory>
<Location "/dashboard/">
  Header always set Content-Security-Policy "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
  Header always set X-Content-Type-Options nosniff
  Header always set Referrer-Policy no-referrer
  Header always set Cache-Control no-cache
</Location>
CONF
}

write_conf() {
  local port=$1 sandbox=$2 user_lines=""
  if is_root; then user_lines="User $OSUSER"$'\n'"Group $(id -gn "$OSUSER")"; fi
  cat > "$CONF.tmp" <<CONF
# Generated by tests/stack/stack.sh: a private mod_tipzed instance.
ServerRoot "$D"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$PIDFILE"
DefaultRuntimeDir "$RUN"
Mutex file:$RUN default
ErrorLog "$ERROR_LOG"
LogLevel warn tipzed:info
LogFormat "%h %t \"%r\" %>s %b %D" tipzed
CustomLog "$LOGS/access_log" tipzed
$user_lines

LoadModule mpm_event_module $APACHE_MODS/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
LoadModule dbd_module $APACHE_MODS/mod_dbd.so
LoadModule socache_shmcb_module $APACHE_MODS/mod_socache_shmcb.so
# The dashboard's static files: Alias, their media types, the index, headers.
LoadModule alias_module $APACHE_MODS/mod_alias.so
LoadModule mime_module $APACHE_MODS/mod_mime.so
LoadModule dir_module $APACHE_MODS/mod_dir.so
LoadModule headers_module $APACHE_MODS/mod_headers.so
TypesConfig /etc/mime.types
LoadModule tipzed_module "$BUILD_ABS/mod_tipzed.so"

# Two children of 25 threads; ServerLimit leaves room for the children of
# the previous generation during a graceful restart.
StartServers 2
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 50
MinSpareThreads 25
MaxSpareThreads 75
Timeout 30
KeepAliveTimeout 5
GracefulShutdownTimeout 10

# mod_dbd's pool.  Sizing rule: every child holds up to DBDMax connections,
# so ServerLimit x DBDMax (4 x 25 = 100) must stay below PostgreSQL's
# max_connections (200) with room for psql and tipzedctl; DBDMax should not
# exceed ThreadsPerChild.  connect_timeout bounds a wait for a dead server.
# The module connects as the runtime role, which may only call tz_api_*.
DBDriver pgsql
DBDParams "$APP_CONNINFO connect_timeout=3"
DBDMin 1
DBDKeep 8
DBDMax 25
DBDExptime 60

# mod_tipzed
$(tipzed_directives "$port" "$sandbox")

<Location "/api/v1">
  SetHandler tipzed
</Location>

$(dashboard_conf "$REPO/dashboard")
CONF
  if [ -n "${TZ_EXTRA_CONF:-}" ]; then
    printf '\n# TZ_EXTRA_CONF\n%s\n' "$TZ_EXTRA_CONF" >> "$CONF.tmp"
  fi
  mv -f "$CONF.tmp" "$CONF"
}

# One KEY=VALUE line, single-quoted when the value needs it.
env_line() {
  case "$2" in
    *[!A-Za-z0-9_./:@%+,=-]*|'') printf "%s='%s'\n" "$1" "${2//\'/\'\\\'\'}" ;;
    *) printf '%s=%s\n' "$1" "$2" ;;
  esac
}

write_env() {
  local port=$1 sandbox=$2 pguser=""
  if is_root; then pguser=$OSUSER; fi
  {
    env_line TZ_BASE_URL "http://127.0.0.1:$port"
    env_line TZ_PORT "$port"
    env_line TZ_DIR "$D"
    env_line TZ_STATE "$RT"
    env_line TZ_PGHOST "$SOCK"
    env_line TZ_PGDATA "$PGDATA"
    env_line TZ_PGUSER_OS "$pguser"
    env_line TZ_CONNINFO "$CONNINFO"
    env_line TZ_APP_CONNINFO "$APP_CONNINFO"
    env_line TZ_APP_ROLE "$APP_ROLE"
    env_line TZ_BUILD "$BUILD_ABS"
    env_line TZ_SECRETS "$SECRETS"
    env_line TZ_ERROR_LOG "$ERROR_LOG"
    env_line TZ_HTTPD_CONF "$CONF"
    env_line TZ_PIDFILE "$PIDFILE"
    env_line TZ_SANDBOX "$sandbox"
    env_line TZ_APACHE_ENV "${SAN_ENV[*]}"
  } > "$ENVF.tmp"
  chmod 644 "$ENVF.tmp"
  mv -f "$ENVF.tmp" "$ENVF"
}

# The pid of the running Apache of this stack, or nothing.
apache_pid() {
  local pid
  [ -n "${PIDFILE:-}" ] && [ -f "$PIDFILE" ] || return 0
  pid=$(tr -dc 0-9 < "$PIDFILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  # A recycled pid belonging to something else does not count.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF" && echo "$pid"
  return 0
}

run_apache() { env "${SAN_ENV[@]}" apache2 -f "$CONF" "$@"; }

error_log_tail() {
  if [ -f "$ERROR_LOG" ]; then
    echo "--- last lines of $ERROR_LOG" >&2
    tail -n "${1:-30}" "$ERROR_LOG" >&2
  fi
}

# Waits for GET /api/v1/health; 0 when it answers 200, 1 when Apache died
# or the time ran out.
wait_health() {
  local port=$1 i
  for ((i = 0; i < HEALTH_TIMEOUT * 5; i++)); do
    if curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/api/v1/health" 2>/dev/null; then
      return 0
    fi
    if [ "$i" -gt 10 ] && [ -z "$(apache_pid)" ]; then return 1; fi
    sleep 0.2
  done
  return 1
}

apache_start() {
  local port=$1 sandbox=$2 attempt out before
  for attempt in 1 2 3; do
    before=$(stat -c %s "$ERROR_LOG" 2>/dev/null || echo 0)
    if ! out=$(run_apache -k start 2>&1); then
      printf '%s\n' "$out" >&2
      error_log_tail 20
      die "Apache did not start"
    fi
    wait_health "$port" && return 0
    # Another process may have taken the port between choosing and binding it.
    if [ -z "$(apache_pid)" ] && [ "$attempt" -lt 3 ] &&
       tail -c +"$((before + 1))" "$ERROR_LOG" 2>/dev/null | grep -q "Address already in use"; then
      port=$(free_port)
      write_conf "$port" "$sandbox"
      write_env "$port" "$sandbox"
      continue
    fi
    break
  done
  error_log_tail 30
  die "Apache did not answer GET /api/v1/health within ${HEALTH_TIMEOUT}s"
}

apache_stop() {
  local pid i
  pid=$(apache_pid)
  [ -n "$pid" ] || return 0
  kill -WINCH "$pid" 2>/dev/null || true          # graceful-stop
  for ((i = 0; i < 100; i++)); do                  # GracefulShutdownTimeout is 10 s
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  say "Apache (pid $pid) had to be killed"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  local dir=$1 sandbox=Off port="" pid demo_biller=""
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --sandbox) sandbox=On ;;
      --demo-biller) demo_biller=1 ;;
      *) die "up: unknown option $1" ;;
    esac
    shift
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  check_path "$dir"
  check_path "$REPO"
  command -v apache2 >/dev/null ||
    die "apache2 is not installed (Debian package apache2: sudo apt-get install -y apache2, or make deps)"
  [ -x "$PGBIN/initdb" ] ||
    die "PostgreSQL 15 is not installed in $PGBIN (Debian package postgresql-15: sudo apt-get install -y postgresql-15, or make deps)"
  ensure_os_user
  chmod 755 "$dir"
  choose_runtime_dir "$dir"
  set_paths "$dir" "$RT"
  [ -f "$BUILD_ABS/mod_tipzed.so" ] || die "$BUILD/mod_tipzed.so is missing: build it first (make)"
  [ -x "$BUILD_ABS/tipzedctl" ] || die "$BUILD/tipzedctl is missing: build it first (make)"
  set_san_env

  mkdir -p "$LOGS" "$RUN"
  chmod 755 "$LOGS" "$RUN"
  own "$LOGS"   # PostgreSQL's log and the children's sanitizer logs
  if [ "$RT" != "$D" ] && { [ -L "$D/logs" ] || [ ! -e "$D/logs" ]; }; then
    ln -sfn "$LOGS" "$D/logs"
  fi
  gen_secrets

  # Keep the port of a previous run when it is still ours or still free.
  pid=$(apache_pid)
  if [ -f "$ENVF" ]; then
    port=$(sed -n 's/^TZ_PORT=//p' "$ENVF")
    if [ -z "$pid" ] && [ -n "$port" ] && ! port_free "$port"; then port=""; fi
  fi
  [ -n "$port" ] || port=$(free_port)
  write_conf "$port" "$sandbox"
  write_env "$port" "$sandbox"

  pg_up
  migrate

  if [ -n "$pid" ]; then
    # Already running: reload the (possibly rebuilt) module and config.
    run_apache -t >/dev/null 2>&1 || { run_apache -t || true; die "the new httpd.conf does not pass configtest"; }
    run_apache -k graceful
    sleep 0.5
    wait_health "$port" || { error_log_tail 30; die "Apache did not come back after a graceful restart"; }
    say "already running; reloaded: http://127.0.0.1:$port/api/v1 ($D)"
  else
    apache_start "$port" "$sandbox"
    port=$(sed -n 's/^TZ_PORT=//p' "$ENVF")
    say "up: http://127.0.0.1:$port/api/v1 ($D)"
  fi
  if [ -n "$demo_biller" ]; then demo_biller_start; fi
}

# make run's biller: the tests' stand-in of the biller protocol
# (docs/bills.md) as a process on a port of its own, recorded in the env
# file; a running one is kept.
demo_biller_start() {
  local bport pidf=$RUN/demo-biller.pid
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then return 0; fi
  bport=$(free_port)
  nohup python3 "$REPO/tests/integration/fakebiller.py" "$bport" "$SECRETS/biller" \
    >"$LOGS/demo-biller.log" 2>&1 &
  echo $! > "$pidf"
  sed -i '/^TZ_DEMO_BILLER_URL=/d' "$ENVF"
  echo "TZ_DEMO_BILLER_URL=http://127.0.0.1:$bport/biller" >> "$ENVF"
  say "demo biller: http://127.0.0.1:$bport/biller"
}

demo_biller_stop() {
  local pidf=${TZ_STATE:-$D}/run/demo-biller.pid
  if [ -f "$pidf" ]; then kill "$(cat "$pidf")" 2>/dev/null || true; rm -f "$pidf"; fi
}

cmd_down() {
  local dir=$1
  [ -f "$dir/env" ] || { say "nothing to stop in $dir"; return 0; }
  load_env "$dir"
  demo_biller_stop
  apache_stop
  pg_down
  say "stopped ($D)"
}

cmd_status() {
  local rc=0 pid
  load_env "$1"
  pid=$(apache_pid)
  if [ -n "$pid" ]; then echo "apache: running (pid $pid) at $TZ_BASE_URL/api/v1"; else echo "apache: stopped"; rc=1; fi
  if pg_running; then echo "postgresql: running (socket $SOCK)"; else echo "postgresql: stopped"; rc=1; fi
  return $rc
}

cmd_restart_pg() {
  local mode=${2:-fast}
  case "$mode" in fast|immediate|smart) ;; *) die "restart-pg: mode is fast, immediate or smart" ;; esac
  load_env "$1"
  as_db "$PGBIN/pg_ctl" -D "$PGDATA" -m "$mode" -w -t 60 -l "$LOGS/postgresql.log" restart >/dev/null ||
    { tail -n 20 "$LOGS/postgresql.log" >&2; die "PostgreSQL did not restart"; }
}

cmd_apachectl() {
  load_env "$1"
  shift
  read -r -a SAN_ENV <<< "${TZ_APACHE_ENV:-}"
  run_apache "$@"
}

cmd_psql() {
  load_env "$1"
  shift
  as_db env PGHOST="$SOCK" PGUSER=tipzed PGDATABASE=tipzed psql -X "$@"
}

cmd_walkthrough() {
  load_env "$1"
  local b=$TZ_BASE_URL/api/v1
  cat <<TXT

mod_tipzed is running at $b
  dashboard: $TZ_BASE_URL/dashboard/ (admins)
  error log: $ERROR_LOG
  database:  tests/stack/stack.sh psql $D
  stop it:   make stop
  biller:    ${TZ_DEMO_BILLER_URL:-none} (make run's stand-in: customer 04123456 pays, 04999999 is refused)

Try it (bash; python3 extracts fields from the JSON answers):

  B=$b
  N=\$(date +%s%N)   # new accounts each time this is pasted
  j() { python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k]
print(v)' "\$1"; }
  curl -s \$B/health; echo

  # what the sandbox checkout page's Approve button does, from the shell
  approve() { curl -s "\$1" | python3 -c 'import json, re, sys, urllib.request as u
d = json.loads(re.search(r"id=\"tipzed-sandbox\">(.*?)</script>", sys.stdin.read()).group(1))
a = d["approve"]
print(u.urlopen(u.Request(d["webhook"], a["body"].encode(), {"Content-Type": "application/json",
      "X-Tipzed-Signature": a["signature"]})).read().decode())'; }

  # a creator, and a fan who registers with the creator's referral code
  ANA=\$(curl -s -X POST \$B/auth/register -H 'Content-Type: application/json' \\
    -d '{"email":"ana-'\$N'@example.com","password":"correct horse battery","full_name":"Ana Phiri","role":"creator"}')
  CREATOR_ID=\$(echo "\$ANA" | j user.id); CODE=\$(echo "\$ANA" | j user.referral_code)
  curl -s -X POST \$B/auth/register -H 'Content-Type: application/json' \\
    -d '{"email":"ben-'\$N'@example.com","password":"correct horse battery","full_name":"Ben Zulu","role":"fan","referral_code":"'\$CODE'"}'; echo

  # log in (an access token for 15 minutes) and ask who we are
  FAN=\$(curl -s -X POST \$B/auth/login -H 'Content-Type: application/json' \\
    -d '{"email":"ben-'\$N'@example.com","password":"correct horse battery"}' | j access_token)
  curl -s \$B/auth/me -H "Authorization: Bearer \$FAN"; echo

  # the fan tips the creator K25.00 through the sandbox provider
  URL=\$(curl -s -X POST \$B/payments/initiate -H "Authorization: Bearer \$FAN" \\
    -H 'Content-Type: application/json' -H "X-Idempotency-Key: tip-\$(date +%s%N)" \\
    -d '{"creator_id":"'\$CREATOR_ID'","amount":2500,"currency":"ZMW","message":"Great show","provider":"sandbox"}' | j payment_url)
  echo "\$URL"      # open it in a browser and press Approve, or approve from the shell:
  approve "\$URL"

  # the creator's wallet: 2125 ngwee (K25.00 less the 15% platform fee), and
  # 500 of cashback: the referral bonus of its fan's first payment
  CREATOR=\$(curl -s -X POST \$B/auth/login -H 'Content-Type: application/json' \\
    -d '{"email":"ana-'\$N'@example.com","password":"correct horse battery"}' | j access_token)
  curl -s \$B/wallets/me -H "Authorization: Bearer \$CREATOR"; echo

  # the fan tops up its wallet with K100.00, asks what a K10.00 tip from the
  # wallet would post, and tips from the wallet at once
  approve "\$(curl -s -X POST \$B/wallets/me/topup -H "Authorization: Bearer \$FAN" \\
    -H 'Content-Type: application/json' -H "X-Idempotency-Key: top-\$(date +%s%N)" \\
    -d '{"amount":10000,"provider":"sandbox"}' | j payment_url)"
  curl -s "\$B/payments/quote?amount=1000&creator_id=\$CREATOR_ID&source=wallet" -H "Authorization: Bearer \$FAN"; echo
  curl -s -X POST \$B/payments/initiate -H "Authorization: Bearer \$FAN" \\
    -H 'Content-Type: application/json' -H "X-Idempotency-Key: tip-\$(date +%s%N)" \\
    -d '{"creator_id":"'\$CREATOR_ID'","amount":1000,"currency":"ZMW","source":"wallet"}'; echo

  # the fan's wallet: the K10.00 tip spent the 25 of cashback its first tip
  # earned (1%) before the main balance, so 9025 ngwee and 10 of new cashback
  curl -s \$B/wallets/me -H "Authorization: Bearer \$FAN"; echo

  # memberships: the creator sells a K10.00 monthly plan with a 7-day trial
  # and the fan subscribes, to be paid from its wallet
  PLAN=\$(curl -s -X POST \$B/creators/me/plans -H "Authorization: Bearer \$CREATOR" \\
    -H 'Content-Type: application/json' -H "X-Idempotency-Key: plan-\$(date +%s%N)" \\
    -d '{"name":"Backstage","amount":1000,"currency":"ZMW","interval":"month","trial_days":7}' | j id)
  SUB=\$(curl -s -X POST \$B/subscriptions -H "Authorization: Bearer \$FAN" \\
    -H 'Content-Type: application/json' -H "X-Idempotency-Key: sub-\$(date +%s%N)" \\
    -d '{"plan_id":"'\$PLAN'","source":"wallet"}' | j id)

  # a sandbox admin moves the billing clock past the trial and runs the
  # billing engine at once (its watchdog runs it every 5 seconds anyway):
  # the wallet pays the first month, and the subscription is active
  # (an admin logs in with its password, then a code of the authenticator
  # app enrolled with the secret create-admin printed: computed here)
  SECRET=\$(printf 'sandbox admin 123\n' | $BUILD_ABS/tipzedctl -d "$CONNINFO" create-admin \\
    --email admin-\$N@example.com --name "Sandbox Admin" --key-file "$SECRETS/enc.key" \\
    | sed -n 's/^totp_secret: //p')
  totp() { python3 -c 'import base64, hmac, struct, sys, time
m = hmac.new(base64.b32decode(sys.argv[1]), struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
o = m[-1] & 15
print("%06d" % ((struct.unpack(">I", m[o:o + 4])[0] & 0x7fffffff) % 1000000))' "\$1"; }
  MFA=\$(curl -s -X POST \$B/auth/login -H 'Content-Type: application/json' \\
    -d '{"email":"admin-'\$N'@example.com","password":"sandbox admin 123"}' | j mfa_token)
  ADMIN=\$(curl -s -X POST \$B/auth/login/totp -H 'Content-Type: application/json' \\
    -d '{"mfa_token":"'\$MFA'","code":"'\$(totp \$SECRET)'"}' | j access_token)
  tick() { curl -s -X POST \$B/sandbox/clock -H "Authorization: Bearer \$ADMIN" \\
      -H 'Content-Type: application/json' -d '{"advance":"'\$1'"}'; echo
    curl -s -X POST \$B/sandbox/billing/run -H "Authorization: Bearer \$ADMIN"; echo; }
  tick 7d
  curl -s \$B/subscriptions/\$SUB -H "Authorization: Bearer \$FAN"; echo

  # an installment plan: K5.00 a week, three times, the first one now;
  # two weeks later it is completed
  SCHED=\$(curl -s -X POST \$B/schedules -H "Authorization: Bearer \$FAN" \\
    -H 'Content-Type: application/json' -H "X-Idempotency-Key: sched-\$(date +%s%N)" \\
    -d '{"creator_id":"'\$CREATOR_ID'","amount":500,"currency":"ZMW","interval":"week","count":3}' | j id)
  tick 7d; tick 7d
  curl -s \$B/schedules/\$SCHED -H "Authorization: Bearer \$FAN"; echo

  # the operator's dashboard: open $TZ_BASE_URL/dashboard/ in a browser and log
  # in as the admin made above (admin-\$N@example.com, "sandbox admin 123",
  # then the code \`totp \$SECRET\` prints, or add the secret to an
  # authenticator app); fans and creators are turned away
  echo "dashboard: $TZ_BASE_URL/dashboard/  (admin-\$N@example.com, TOTP secret \$SECRET)"
  # the creator's last week by day (UTC), the fan's statement of it as CSV
  # and its balance now
  D0=\$(date -u -d '6 days ago' +%F); D1=\$(date -u -d tomorrow +%F)
  curl -s "\$B/creators/me/analytics?from=\$D0&to=\$D1&interval=day" -H "Authorization: Bearer \$CREATOR"; echo
  curl -s "\$B/wallets/me/statement?from=\$D0&to=\$D1&format=csv" -H "Authorization: Bearer \$FAN"
  curl -s "\$B/wallets/me/balance?at=\$(date -u +%FT%TZ)" -H "Authorization: Bearer \$FAN"; echo

The OpenAPI document: $b/openapi.json
Stop the stack with: make stop
TXT
}

main() {
  local cmd=${1:-}
  if [ $# -gt 0 ]; then shift; fi
  case "$cmd" in
    up|down|status|env|restart-pg|apachectl|psql|walkthrough)
      if [ $# -eq 0 ] || [ -z "$1" ]; then die "usage: stack.sh $cmd DIR ..."; fi ;;
    *) usage ;;
  esac
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$1" ;;
    status) cmd_status "$1" ;;
    env) [ -f "$1/env" ] || die "no stack in $1"; cat "$1/env" ;;
    restart-pg) cmd_restart_pg "$@" ;;
    apachectl) cmd_apachectl "$@" ;;
    psql) cmd_psql "$@" ;;
    walkthrough) cmd_walkthrough "$1" ;;
  esac
}

main "$@"
