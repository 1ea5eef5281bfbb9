#!/usr/bin/env bash
# make deb: builds libapache2-mod-tipzed with debhelper in a copy of the
# working tree (build/deb/src), so no build product lands in the source
# tree, then checks the .deb with lintian.  The .deb (and its -dbgsym) end
# up in build/deb/; their names are printed.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$REPO/build/deb
SRC=$OUT/src

"$REPO/tests/stack/deps.sh" --package

rm -rf "$OUT"
mkdir -p "$SRC"
# The working tree as it is (uncommitted changes included), without the
# build output, the make run state and version control.
tar -C "$REPO" --exclude=./build --exclude=./.git --exclude=./.run \
  --exclude=./tests/results --exclude=__pycache__ -cf - . | tar -C "$SRC" -xf -

echo "deb: building in $SRC (log: $OUT/build.log)"
if ! (cd "$SRC" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1; then
  tail -n 40 "$OUT/build.log" >&2
  echo "deb: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
  exit 1
fi
version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb=$OUT/libapache2-mod-tipzed_${version}_${arch}.deb
[ -f "$deb" ] || { echo "deb: $deb was not built" >&2; exit 1; }

# Errors fail the build; the warnings and informational tags that remain
# are listed and explained in docs/packaging.md.
echo "deb: lintian $(basename "$deb")"
lintian --fail-on error --display-info "$deb" 2>&1 | grep -v 'running with root privileges' |
  tee "$OUT/lintian.log" || true
if grep -q '^E: ' "$OUT/lintian.log"; then
  echo "deb: lintian found errors (above)" >&2
  exit 1
fi
echo "deb: $deb"
