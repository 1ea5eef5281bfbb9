#!/usr/bin/env bash
# `make test-as-user`: the two commands as an ordinary Debian user would run
# them -- an unprivileged account, Debian's default PATH (no /usr/sbin), a
# fresh clone of the committed tree -- first `make run` (then `make stop`),
# then `make test`.  Run as root (it creates the account); CI runs as root,
# so this is how the unprivileged path is proven.
#
# Environment: TZ_CHECK_USER (default tipzed-check).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
USER_NAME=${TZ_CHECK_USER:-tipzed-check}
[ "$(id -u)" -eq 0 ] || { echo "as-user: run as root (it creates the account $USER_NAME)" >&2; exit 2; }
PATH=$PATH:/usr/sbin:/sbin
id "$USER_NAME" >/dev/null 2>&1 ||
  useradd --create-home --shell /bin/bash "$USER_NAME"
HOME_DIR=$(getent passwd "$USER_NAME" | cut -d: -f6)
WORK=$HOME_DIR/mod_tipzed
rm -rf "$WORK"
git clone -q "$REPO" "$WORK"
chown -R "$USER_NAME:" "$WORK"
as_user() {
  (cd "$WORK" && runuser -u "$USER_NAME" -- env -i HOME="$HOME_DIR" LANG=C.UTF-8 \
     PATH=/usr/local/bin:/usr/bin:/bin "$@")
}
echo "== make run, as $USER_NAME with PATH=/usr/local/bin:/usr/bin:/bin"
as_user make run | tail -n 5
as_user make stop
echo "== make test, as $USER_NAME"
as_user make test
