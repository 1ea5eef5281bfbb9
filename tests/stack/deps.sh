#!/usr/bin/env bash
# Installs the Debian packages mod_tipzed needs (as root), or prints the
# command that would (as an ordinary user).  Quiet when all are present.
set -euo pipefail

pkgs=(make gcc apache2 apache2-dev libaprutil1-dbd-pgsql postgresql-15 libpq-dev
      libjwt-dev libjansson-dev libssl-dev libcurl4-openssl-dev check pkg-config
      python3 python3-pytest curl openssl)

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
