#!/usr/bin/env bash
# What `make test` runs after building: a throwaway stack, the unit tests,
# the integration tests, a crash check of the error log, teardown.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
DIR=$(mktemp -d /tmp/tipzed-test.XXXXXX)
STACK=tests/stack/stack.sh
cleanup() { "$STACK" down "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

"$STACK" up "$DIR" --sandbox || exit 1
# shellcheck disable=SC1091
. "$DIR/env"

rc=0
echo "== unit tests (check)"
make --no-print-directory unit || rc=1
echo "== integration tests (pytest against $TZ_BASE_URL)"
make --no-print-directory integration STACK_DIR="$DIR" || rc=1

echo "== server health after the suite"
if grep -E "Segmentation fault|exit signal|AddressSanitizer|runtime error" "$TZ_ERROR_LOG"; then
  echo "FAILED: a child crashed or a sanitizer fired (see above)"; rc=1
fi
if ls "$TZ_STATE"/logs/asan* "$TZ_STATE"/logs/ubsan* >/dev/null 2>&1; then
  cat "$TZ_STATE"/logs/asan* "$TZ_STATE"/logs/ubsan* 2>/dev/null | head -50
  echo "FAILED: sanitizer reports"; rc=1
fi
[ $rc -eq 0 ] && echo "make test: all passed" || echo "make test: FAILED"
exit $rc
