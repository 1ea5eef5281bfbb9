#!/usr/bin/env bash
# Installs the Debian 12 packages mod_tipzed needs to build, run and test
# (as root), or prints the command that would (as an ordinary user).
# Quiet when everything is present.
#
#   deps.sh             what make run / make test need
#   deps.sh --package   what make deb needs besides (debhelper, lintian, the
#                       -dev packages of debian/control's Build-Depends)
set -euo pipefail

pkgs=(
  make gcc libc6-dev pkg-config                     # toolchain
  apache2 apache2-dev libaprutil1-dbd-pgsql         # httpd, apxs, mod_dbd's pgsql driver
  postgresql-15 libpq-dev                           # database
  libjwt-dev libjansson-dev libssl-dev libcurl4-openssl-dev
  libhpdf-dev fonts-dejavu-core                     # invoices as PDF: libharu, the embedded fonts
  check poppler-utils                               # unit tests (pdftotext reads the invoices back)
  python3 python3-pytest python3-aiosmtpd curl wrk  # integration tests (aiosmtpd: a local mail sink), load
  redis-server                                      # make cluster, make stress NODES=3: the nodes' shared cache
  passwd                                            # useradd, for the stack's service user
  libjs-chart.js                                    # the dashboard's charts (served by Apache)
  chromium chromium-driver                          # the dashboard's end-to-end tests (headless)
)

# Build-time tools of the Debian package only: make test never installs them.
package_pkgs() {
  pkgs=(
    make gcc libc6-dev pkg-config dpkg-dev debhelper fakeroot lintian
    apache2-dev libaprutil1-dev libpq-dev libjwt-dev libjansson-dev libssl-dev
    libcurl4-openssl-dev libhpdf-dev
  )
}
if [ "${1:-}" = --package ]; then package_pkgs; fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages. Install them with:" >&2
  echo "sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/tipzed-apt.XXXXXX)
apt_get() { apt-get -o DPkg::Lock::Timeout=300 -y -q "$@" >>"$log" 2>&1; }
if ! apt_get update || ! apt_get install --no-install-recommends "${missing[@]}"; then
  tail -n 40 "$log" >&2
  echo "deps: apt-get failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
