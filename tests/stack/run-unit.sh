#!/usr/bin/env bash
# Runs each check binary (optionally under valgrind) and fails if any fails.
set -u
vg=""
if [ "${1:-}" = "--valgrind" ]; then
  shift
  vg="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
  export CK_FORK=no
fi
rc=0 passed=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for bin in "$@"; do
  echo "== ${bin##*/}"
  bad=0
  if $vg "$bin" 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -ne 0 ]; then
    rc=1 bad=1; echo "FAILED: ${bin##*/}"
  fi
  # check's "NN%: Checks: N, Failures: F, Errors: E"; a binary that failed
  # without a failing check (a crash, a leak valgrind found) counts as one
  read -r n f e < <(sed -nE 's/^[0-9]+%: Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/p' "$out" | tail -n 1)
  n=${n:-0} f=${f:-0} e=${e:-0}
  if [ $bad -eq 1 ] && [ $((f + e)) -eq 0 ]; then f=1; n=$((n + 1)); fi
  passed=$((passed + n - f - e)) failed=$((failed + f + e))
done
echo "unit: $passed passed, $failed failed"
exit $rc
