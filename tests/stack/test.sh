#!/usr/bin/env bash
# What `make test` runs after building: a throwaway stack (sandbox on) in a
# temporary directory, the check unit tests, the pytest integration tests,
# a crash and sanitizer check of the logs, teardown.  Exits non-zero on any
# failure and ends with one line "N passed, N failed".
#
# Environment: SANITIZE (build/san, sanitizer runtimes in Apache),
# PYTEST_ARGS (extra pytest arguments, e.g. "-k payments -x"),
# TZ_TEST_TIMEOUT (seconds for the integration run, default 1800: a hang is
# cut, never a slow but moving run),
# TZ_STRESS_DURATION (seconds of the short stress run, default 45),
# TZ_KEEP=1 (leave the stack running and its directory in place).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
STACK=tests/stack/stack.sh
# shellcheck source=tests/stack/throwaway.sh
. tests/stack/throwaway.sh
DIR=$(mktemp -d /tmp/tipzed-test.XXXXXX)
OUT=$(mktemp -d /tmp/tipzed-out.XXXXXX)
rc=0
stack_ok=0

# On failure the logs are kept in tests/results/<time>/ (git-ignored).
# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$rc" -eq 0 ]; then rc=$status; fi
  if [ "$rc" -ne 0 ]; then keep_logs "$DIR" "" "$DIR/httpd.conf" "$OUT"/*.out; fi
  teardown "$DIR"
  rm -rf "$OUT"
  exit "$rc"
}
trap cleanup EXIT
trap 'rc=130; exit 130' INT TERM

section() { printf '\n== %s\n' "$*"; }

# The providers point at local stand-ins of their APIs, which the tests run
# on these ports (tests/integration/fakeproviders.py, fakemomo.py): the
# mobile_money gateway, Flutterwave, Stripe and MTN MoMo; mail goes to the
# tests' SMTP sink (smtpsink.py).  Webhook receivers are the tests' own, on
# 127.0.0.1, retried within seconds.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
TZ_FLW_PORT=$(free_port)
TZ_STRIPE_PORT=$(free_port)
TZ_MM_PORT=$(free_port)
TZ_MOMO_PORT=$(free_port)
TZ_SMTP_PORT=$(free_port)
# One mail template replaced by the operator's own (TipzedMailTemplates);
# the others stay the shipped ones.
TZ_MAIL_DIR="$OUT/mail"
mkdir -p "$TZ_MAIL_DIR"
chmod 755 "$OUT" "$TZ_MAIL_DIR"
printf 'Subject: Membership over: {{creator_name}}\n\nHello {{recipient_name}},\nyour membership %s\n' \
  '{{id}} with {{creator_name}} has ended.' > "$TZ_MAIL_DIR/subscription_canceled.txt"
chmod 644 "$TZ_MAIL_DIR/subscription_canceled.txt"
TZ_MM_URL=http://127.0.0.1:$TZ_MM_PORT/mm-checkout
export TZ_FLW_PORT TZ_STRIPE_PORT TZ_MM_PORT TZ_MOMO_PORT TZ_SMTP_PORT TZ_MAIL_DIR TZ_MM_URL
# shellcheck disable=SC2089,SC2090  # the quotes are meant for httpd.conf
TZ_EXTRA_CONF="TipzedProvider flutterwave http://127.0.0.1:$TZ_FLW_PORT
TipzedProviderSecretFile flutterwave \"$DIR/secrets/provider_flutterwave\"
TipzedWebhookSecretFile flutterwave \"$DIR/secrets/webhook_flutterwave\"
TipzedProvider stripe http://127.0.0.1:$TZ_STRIPE_PORT
TipzedProviderSecretFile stripe \"$DIR/secrets/provider_stripe\"
TipzedWebhookSecretFile stripe \"$DIR/secrets/webhook_stripe\"
TipzedProvider momo http://127.0.0.1:$TZ_MOMO_PORT
TipzedMoMoUserFile \"$DIR/secrets/momo_user\"
TipzedMoMoSubscriptionKeyFile \"$DIR/secrets/momo_subscription_key\"
TipzedMoMoEnvironment sandbox
TipzedProviderTimeout 2s
TipzedStatusPoll 1s
TipzedCashback 1% 500
TipzedReferralBonus 500
TipzedTax VAT 16% inclusive
TipzedWebhookAllowPrivate On
TipzedWebhookRetry 8 1s
TipzedWebhookTimeout 3s
TipzedSMTP smtp://127.0.0.1:$TZ_SMTP_PORT \"Tipzed <no-reply@tipzed.test>\"
TipzedMailTemplates \"$TZ_MAIL_DIR\"
${TZ_EXTRA_CONF:-}"
# shellcheck disable=SC2090
export TZ_EXTRA_CONF

section "stack ($DIR)"
if "$STACK" up "$DIR" --sandbox 2>&1 | tee "$OUT/stack.out"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  stack_ok=1
  # shellcheck disable=SC1091
  . "$DIR/env"
else
  # every test that needed the stack counts as not run, and says so
  not_run=$(/usr/bin/python3 -m pytest -q --collect-only -p no:cacheprovider tests/integration 2>/dev/null |
            sed -nE 's/^([0-9]+) tests? collected.*/\1/p' | tail -n 1)
  not_run=$(( ${not_run:-0} + 1 ))   # and the stress run
  echo "FAILED: the stack did not start (its output: $OUT/stack.out, kept with the logs);"
  echo "        $not_run tests that need it were not run"
  rc=1
fi

section "unit tests (check)"
if ! make --no-print-directory unit 2>&1 | tee "$OUT/unit.out"; then rc=1; fi

if [ $stack_ok -eq 1 ]; then
  section "integration tests (pytest against $TZ_BASE_URL)"
  if ! timeout --kill-after=30 "${TZ_TEST_TIMEOUT:-1800}" \
       make --no-print-directory integration STACK_DIR="$DIR" 2>&1 | tee "$OUT/pytest.out"; then
    rc=1
  fi

  section "stress: the bank invariant under faults (${TZ_STRESS_DURATION:-45} s)"
  if /usr/bin/python3 tests/stress/stress.py "$DIR" --duration "${TZ_STRESS_DURATION:-45}" \
       --gateway-port "$TZ_MM_PORT" \
       2>&1 | tee "$OUT/stress.out"; then
    stress_ok=1
  else
    stress_ok=0
    rc=1
  fi

  section "server health after the suite"
  # The stress run SIGKILLs children on purpose (and checks those itself).
  if grep -E "Segmentation fault|exit signal|AddressSanitizer|runtime error:" "$TZ_ERROR_LOG" |
     grep -v "exit signal Killed (9)"; then
    echo "FAILED: an Apache child crashed or a sanitizer fired (lines above, from $TZ_ERROR_LOG)"
    rc=1
  fi
  logs=$(dirname "$TZ_ERROR_LOG")
  shopt -s nullglob
  san=("$logs"/asan.* "$logs"/ubsan.*)
  shopt -u nullglob
  if [ ${#san[@]} -gt 0 ]; then
    head -n 60 "${san[@]}"
    echo "FAILED: sanitizer reports: ${san[*]}"
    rc=1
  fi
  [ $rc -ne 0 ] || echo "no crash, no sanitizer report"
fi

# The totals: check's "NN%: Checks: N, Failures: F, Errors: E" per binary
# (a binary that died before its summary counts as one failure) and
# pytest's final "N passed, N failed, N errors" line.
passed=0 failed=0
while read -r checks fails errors; do
  passed=$((passed + checks - fails - errors)); failed=$((failed + fails + errors))
done < <(sed -nE 's/^[0-9]+%: Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/p' "$OUT/unit.out")
bins=$(grep -c '^== ' "$OUT/unit.out" || true)
sums=$(grep -cE '^[0-9]+%: Checks: ' "$OUT/unit.out" || true)
if [ "$bins" -gt "$sums" ]; then failed=$((failed + bins - sums)); fi
if [ -f "$OUT/pytest.out" ]; then
  summary=$(grep -E '[0-9]+ (passed|failed|errors?)' "$OUT/pytest.out" | tail -n 1 || true)
  p=$(grep -oE '[0-9]+ passed' <<< "$summary" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '[0-9]+ failed' <<< "$summary" | grep -oE '[0-9]+' || echo 0)
  e=$(grep -oE '[0-9]+ errors?' <<< "$summary" | grep -oE '[0-9]+' || echo 0)
  passed=$((passed + p)); failed=$((failed + f + e))
fi
case "${stress_ok:-}" in 1) passed=$((passed + 1)) ;; 0) failed=$((failed + 1)) ;; esac
failed=$((failed + ${not_run:-0}))
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi   # a failure outside any test

section "summary"
if [ $rc -eq 0 ]; then echo "make test: all passed"; else echo "make test: FAILED"; fi
echo "$passed passed, $failed failed"
exit $rc
