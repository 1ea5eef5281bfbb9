#!/usr/bin/env bash
# Runs each check binary (optionally under valgrind) and fails if any fails.
set -u
vg=""
if [ "${1:-}" = "--valgrind" ]; then
  shift
  vg="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
  export CK_FORK=no
fi
rc=0
for bin in "$@"; do
  echo "== ${bin##*/}"
  if ! $vg "$bin"; then rc=1; echo "FAILED: ${bin##*/}"; fi
done
exit $rc
