# shellcheck shell=bash
# Sourced by test.sh and stress.sh: the end of a throwaway stack.
# keep_logs DIR NAME [FILE...]: copies DIR's logs (and the files) to
# tests/results/NAME-<time>/ and says where.  teardown DIR: stops the stack
# and removes DIR, or leaves it running when TZ_KEEP=1.
keep_logs() {
  local dir=$1 keep
  keep=tests/results/$2$(date +%Y%m%d-%H%M%S)
  shift 2
  mkdir -p "$keep"
  cp -rL "$dir/logs/." "$keep/" 2>/dev/null || true
  if [ $# -gt 0 ]; then cp "$@" "$keep/" 2>/dev/null || true; fi
  echo "logs kept in $keep/"
}

teardown() {
  if [ "${TZ_KEEP:-}" = 1 ]; then
    echo "stack left running: $STACK down $1"
  else
    "$STACK" down "$1" >/dev/null 2>&1 || "$STACK" down "$1" || true
    rm -rf "$1"
  fi
}
