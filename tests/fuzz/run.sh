#!/usr/bin/env bash
# Runs each fuzz target for a set time, one after the other:
#   tests/fuzz/run.sh SECONDS TARGET...
# New inputs go to a scratch corpus build/fuzz/corpus/<t>/ (kept between
# runs, git-ignored); the committed tests/fuzz/corpus/<t>/ is read only.
# Crashes land in build/fuzz/artifacts/<t>/.  One summary line per target;
# exits non-zero if any target crashed.
set -uo pipefail
secs=$1; shift
dir=${FUZZ_DIR:-build/fuzz}
rc=0
summary=()
for t in "$@"; do
  bin=$dir/fuzz_$t scratch=$dir/corpus/$t art=$dir/artifacts/$t log=$dir/logs/$t.log
  mkdir -p "$scratch" "$art" "$(dirname "$log")"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  echo "== fuzz $t (${secs}s)"
  "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=5 -print_final_stats=1 \
    -artifact_prefix="$art/" "${dict[@]}" "$scratch" "tests/fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 | cut -d' ' -f2)
  if [ $status -eq 0 ]; then
    result=ok
  else
    rc=1
    crash=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
    result="FAILED (exit $status${crash:+, input $crash}; log $log)"
    grep -E 'ERROR: |invariant failed|runtime error' "$log" | head -n 3
  fi
  line=$(printf 'fuzz %-15s %4ss  execs %-10s corpus %-12s %s' "$t" "$secs" "${execs:-?}" "${corp:-?}" "$result")
  echo "$line"
  summary+=("$line")
done
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
exit $rc
