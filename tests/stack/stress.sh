#!/usr/bin/env bash
# What `make stress` runs: a throwaway stack (sandbox on) in a temporary
# directory, tests/stress/stress.py against it for DURATION seconds (default
# 600) with faults injected, teardown.  The figures are printed and written
# to tests/results/stress.json; on failure the logs are kept in
# tests/results/stress-<time>/.  Exits non-zero on any invariant violation.
#
# NODES=3 (or more than 1): the stack is a cluster (tests/stack/cluster.py:
# three nodes, Redis, a balancer in front), the load goes through the front
# and the faults kill whole nodes, restart Redis and PostgreSQL.
#
# Environment: DURATION, NODES, STRESS_ARGS (e.g. "--clients 32 --fault-every 10"),
# SANITIZE (build/san, sanitizer runtimes in Apache), TZ_KEEP=1.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
STACK=tests/stack/stack.sh
# shellcheck source=tests/stack/throwaway.sh
. tests/stack/throwaway.sh
DIR=$(mktemp -d /tmp/tipzed-stress.XXXXXX)
rc=0

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$rc" -eq 0 ]; then rc=$status; fi
  if [ "$rc" -ne 0 ]; then keep_logs "$DIR" stress-; fi
  if [ "${NODES:-1}" -gt 1 ] && [ "${TZ_KEEP:-}" != 1 ]; then
    /usr/bin/python3 tests/stack/cluster.py down "$DIR" >/dev/null 2>&1 || true
  fi
  teardown "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'rc=130; exit 130' INT TERM

# The mobile_money gateway is a stand-in run by stress.py on this port: it
# answers the module's refund and status calls.
TZ_MM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export TZ_MM_URL=http://127.0.0.1:$TZ_MM_PORT/gateway
# As in make test's stack: outbound calls (the biller's included) give up
# after 2 s, the watchdog asks providers and billers about undecided
# payments after 1 s, and a fan's cashback is capped at 5.00 a month, so a
# run of minutes reaches the cap and the watchdog's decisions.  Every event
# goes to an admin's webhook endpoint on a local receiver (stress.py),
# retried within 2 s, an attempt given 2 s.  A rolling reserve holds 10%
# of each creator credit for 2 days of the billing clock (which the run
# moves a day at a time), so holds are made, drawn by refunds and
# disputes, and released by the watchdogs while it runs.
export TZ_EXTRA_CONF="TipzedProviderTimeout 2s
TipzedStatusPoll 1s
TipzedCashback 1% 500
TipzedReserve 10% 2
TipzedWebhookAllowPrivate On
TipzedWebhookRetry 40 2s
TipzedWebhookTimeout 2s
${TZ_EXTRA_CONF:-}"
if [ "${NODES:-1}" -gt 1 ]; then
  /usr/bin/python3 tests/stack/cluster.py up "$DIR"
else
  "$STACK" up "$DIR" --sandbox
fi
# shellcheck disable=SC2086  # STRESS_ARGS is a list of words
/usr/bin/python3 tests/stress/stress.py "$DIR" --duration "${DURATION:-600}" \
  --gateway-port "$TZ_MM_PORT" --nodes "${NODES:-1}" ${STRESS_ARGS:-} || rc=$?
