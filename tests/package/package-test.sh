#!/usr/bin/env bash
# make package-test: the built libapache2-mod-tipzed on this Debian machine.
# Checks the .deb's contents, installs it with apt-get (dependencies
# resolved), enables it with a2enmod in a private copy of /etc/apache2,
# migrates a throwaway PostgreSQL cluster with the packaged tipzedctl and
# SQL, starts Apache from that copy on a free 127.0.0.1 port (never the
# system's apache2 service), runs a sandbox tip end to end, then purges the
# package and the packages it pulled in, and checks nothing of it is left.
# Root only (it installs a package); not part of make test.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKG=libapache2-mod-tipzed
PGBIN=/usr/lib/postgresql/15/bin
die() { printf 'package-test: %s\n' "$*" >&2; exit 1; }
say() { printf 'package-test: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null && sudo -n true 2>/dev/null && exec sudo "$0" "$@"
  die "installs and purges a package on this machine: run it as root (sudo make package-test)"
fi
deb=$(ls "$REPO"/build/deb/${PKG}_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "no package in build/deb: make deb"
[ "$(dpkg-query -W -f='${db:Status-Status}' $PKG 2>/dev/null || true)" = not-installed ] ||
  [ -z "$(dpkg-query -W -f='${db:Status-Status}' $PKG 2>/dev/null || true)" ] ||
  die "$PKG is already on this machine: it would be purged; remove it first"
version=$(dpkg-deb -f "$deb" Version)

W=$(mktemp -d /tmp/tipzed-pkgtest.XXXXXX)
chmod 755 "$W"
installed() { dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" {print $2}' | sort; }
installed > "$W/before"
# apache2's module state (a2enmod/a2dismod and the maintainer scripts keep
# it): whatever of ours is there before the test may stay, nothing new.
state() { ls -d /var/lib/apache2/*/*/tipzed 2>/dev/null || true; }
state > "$W/state.before"
apt() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q "$@" >>"$W/apt.log" 2>&1 ||
          { tail -n 30 "$W/apt.log" >&2; return 1; }; }
export APACHE_CONFDIR=$W/apache2 APACHE_STATE_DIRECTORY=$W/state

# --------------------------------------------------------------- teardown
cleanup() {
  local rc=$? left added
  set +e
  [ -f "$W/run/apache2.pid" ] && apache2ctl stop >/dev/null 2>&1
  for _ in $(seq 50); do [ -f "$W/run/apache2.pid" ] || break; sleep 0.2; done
  [ -f "$W/pg/PG_VERSION" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg" -m fast -w stop >/dev/null 2>&1
  if [ "$(dpkg-query -W -f='${db:Status-Status}' $PKG 2>/dev/null)" != not-installed ]; then
    apt purge $PKG && say "purged $PKG"
  fi
  added=$(installed | comm -13 "$W/before" - | grep -vx "$PKG")
  if [ -n "$added" ]; then
    # shellcheck disable=SC2086
    apt purge $added && say "purged what it pulled in: $(echo $added)"
  fi
  left=$(ls -d /etc/apache2/mods-*/tipzed.* /usr/lib/apache2/modules/mod_tipzed.so /usr/share/tipzed \
           /usr/bin/tipzedctl /usr/share/man/man1/tipzedctl.1.gz /etc/tipzed /usr/share/doc/$PKG 2>/dev/null
         state | comm -13 "$W/state.before" -)
  if [ -n "$left" ]; then echo "package-test: left behind: $left" >&2; rc=1; fi
  if [ -n "$(installed | comm -3 "$W/before" -)" ]; then
    echo "package-test: the installed packages differ from before: $(installed | comm -3 "$W/before" - | tr '\n' ' ')" >&2
    rc=1
  fi
  if [ $rc -eq 0 ]; then rm -rf "$W"; say "PASS (the machine is as it was)"; else
    echo "package-test: FAILED (logs kept in $W)" >&2; fi
  exit $rc
}
trap cleanup EXIT

# --------------------------------------------------------------- contents
say "contents of $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$W/contents"
for f in /usr/lib/apache2/modules/mod_tipzed.so /etc/apache2/mods-available/tipzed.load \
         /etc/apache2/mods-available/tipzed.conf /usr/bin/tipzedctl /usr/share/man/man1/tipzedctl.1.gz \
         /usr/share/tipzed/dashboard/index.html /usr/share/doc/$PKG/copyright /usr/share/doc/$PKG/changelog.gz \
         $(cd "$REPO" && printf '/usr/share/tipzed/%s\n' sql/schema/*.sql sql/functions/*.sql dashboard/*) \
         $(cd "$REPO/conf" && printf '/usr/share/tipzed/%s\n' mail/*.txt); do
  grep -qx -- "$f" "$W/contents" || die "$f is not in the package"
done
grep -q "^/usr/share/doc/$PKG/README.md" "$W/contents" || die "README.md is not in /usr/share/doc/$PKG"
deps=$(dpkg-deb -f "$deb" Depends)
for d in apache2-api- libaprutil1-dbd-pgsql fonts-dejavu-core libjs-chart.js libpq5 libjansson4; do
  case "$deps" in *"$d"*) ;; *) die "Depends lacks $d: $deps" ;; esac
done

# --------------------------------------------------------------- install
say "apt-get install $(basename "$deb")"
apt install "$deb"
conf=/etc/apache2/mods-available/tipzed.conf
grep -q '^# Alias /dashboard/ /usr/share/tipzed/dashboard/' $conf || die "$conf does not name /usr/share/tipzed"
[ "$(tipzedctl --version)" = "tipzedctl $version" ] || die "tipzedctl --version: $(tipzedctl --version) (package $version)"
[ ! -e /etc/apache2/mods-enabled/tipzed.load ] || die "installing enabled the module (the operator's step)"

# A private copy of /etc/apache2 whose mods-available is the packaged one,
# with its own envvars (run, lock and log directories under $W), a test
# port, and no site of the system's.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp -a /etc/apache2 "$APACHE_CONFDIR"
rm -rf "$APACHE_CONFDIR/mods-available" "$APACHE_CONFDIR"/sites-enabled/*
ln -s /etc/apache2/mods-available "$APACHE_CONFDIR/mods-available"
mkdir -p "$W/run" "$W/lock" "$W/logs" "$W/state" "$W/secrets"
cat > "$APACHE_CONFDIR/envvars" <<ENV
export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data
export APACHE_PID_FILE=$W/run/apache2.pid APACHE_RUN_DIR=$W/run
export APACHE_LOCK_DIR=$W/lock APACHE_LOG_DIR=$W/logs LANG=C
ENV
echo "Listen 127.0.0.1:$PORT" > "$APACHE_CONFDIR/ports.conf"
say "a2enmod tipzed (in $APACHE_CONFDIR)"
a2enmod -q tipzed >/dev/null
for m in tipzed dbd; do [ -L "$APACHE_CONFDIR/mods-enabled/$m.load" ] || die "a2enmod did not enable $m"; done
a2enmod -q headers >/dev/null   # the dashboard's headers (tipzed.conf)
apache2ctl configtest >/dev/null 2>&1 || { apache2ctl configtest; die "enabled without keys, the configuration does not load"; }

# --------------------------------------------------------------- PostgreSQL
say "PostgreSQL cluster in $W/pg"
mkdir -p "$W/pg" "$W/sock" && chown postgres: "$W/pg" "$W/sock" && chmod 700 "$W/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$W/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N >"$W/logs/initdb.log" 2>&1 ||
  { cat "$W/logs/initdb.log" >&2; die "initdb failed"; }
printf "listen_addresses = ''\nunix_socket_directories = '%s'\n" "$W/sock" >> "$W/pg/postgresql.conf"
touch "$W/logs/postgresql.log" && chown postgres: "$W/logs/postgresql.log"
(cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg" -l "$W/logs/postgresql.log" -w start >/dev/null) ||
  die "PostgreSQL did not start ($W/logs/postgresql.log)"
psql -X -q -v ON_ERROR_STOP=1 -h "$W/sock" -U postgres -d postgres \
  -c "CREATE ROLE tipzed LOGIN" -c "CREATE ROLE tipzed_app LOGIN" -c "CREATE DATABASE tipzed OWNER tipzed" >/dev/null
say "tipzedctl migrate (the packaged SQL)"
tipzedctl -d "host=$W/sock dbname=tipzed user=tipzed" migrate --runtime-role tipzed_app | sed 's/^/  /'

# --------------------------------------------------------------- Apache
(umask 077 && head -c 48 /dev/urandom | base64 -w0 > "$W/secrets/jwt.key" &&
 od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' > "$W/secrets/enc.key")
{
  cat <<CONF
ServerName 127.0.0.1
DBDriver pgsql
DBDParams "host=$W/sock dbname=tipzed user=tipzed_app connect_timeout=3"
TipzedJWTSecretFile $W/secrets/jwt.key
TipzedEncryptionKeyFile $W/secrets/enc.key
TipzedPublicURL http://127.0.0.1:$PORT
TipzedSandbox On
<Location "/api/v1">
    SetHandler tipzed
</Location>
CONF
  # the dashboard's lines of the packaged tipzed.conf, uncommented
  sed -n '/^# Alias \/dashboard\/vendor/,$ s/^# //p' $conf
} > "$APACHE_CONFDIR/sites-enabled/tipzed-test.conf"
say "Apache on 127.0.0.1:$PORT ($APACHE_CONFDIR)"
apache2ctl start || die "Apache did not start ($W/logs/error.log)"
B=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -fs "$B/api/v1/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$B/api/v1/health/detailed" | grep -q '"ok"' || die "health/detailed: $(curl -s "$B/api/v1/health/detailed")"
grep -q "tipzed $version: serving" "$W/logs/error.log" || die "the module did not announce version $version"
for u in /dashboard/ /dashboard/app.js /dashboard/vendor/chart.js; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$B$u")" = 200 ] || die "GET $u did not answer 200"
done
python3 "$REPO/tests/package/tip.py" "$B/api/v1" | sed 's/^/  /'
