"""The server survives a PostgreSQL restart and rejects bad configuration."""
import os
import subprocess
import time
import uuid

from tzclient import login, register


def test_postgres_restart_recovers(api, stack):
    s = register(api)
    # warm several pooled connections in both children
    for _ in range(20):
        assert api.get("/auth/me", token=s["access_token"]).status == 200
    stack.restart_pg("fast")
    # until the first success (503 meanwhile, never a crash or a 500); the
    # bound is generous because a loaded machine restarts slowly
    deadline = time.time() + 60
    while True:
        r = login(api, s["email"], s["password"])
        if r.status == 200:
            break
        assert r.status == 503, r
        assert time.time() < deadline, "login did not recover after the PostgreSQL restart"
        time.sleep(0.2)
    # then every pooled connection works again: no stale one is left failing
    for _ in range(19):
        assert login(api, s["email"], s["password"]).status == 200
    for _ in range(20):
        assert api.get("/auth/me", token=s["access_token"]).status == 200
    log = stack.error_log_text()
    assert "Segmentation fault" not in log and "exit signal" not in log


def _configtest(stack, extra=None, edit=None):
    """apache2 -t on the stack's httpd.conf with one line replaced by extra,
    or the whole text passed through edit."""
    conf = stack.env["TZ_HTTPD_CONF"]
    with open(conf) as f:
        text = f.read()
    bad = conf + ".bad"
    with open(bad, "w") as f:
        f.write(edit(text) if edit else text.replace("TipzedLoginRateLimit 5 1m", extra))
    try:
        env = dict(os.environ)
        env.update(kv.split("=", 1) for kv in stack.env.get("TZ_APACHE_ENV", "").split())
        return subprocess.run(["apache2", "-f", bad, "-t"], capture_output=True, text=True,
                              timeout=30, env=env)
    finally:
        os.unlink(bad)


def test_startup_notice_names_what_an_operator_checks_first(stack):
    """One line per server at start: version, providers, sandbox, schema."""
    lines = [x for x in stack.error_log_text().splitlines() if "AH10504" in x]
    assert lines, "no startup notice"
    last = lines[-1]
    assert "[tipzed:notice]" in last and "providers mobile_money, flutterwave, stripe, momo, sandbox" in last
    assert "sandbox on (mixed)" in last and "needs schema " in last, last


def test_configtest_refuses_what_would_only_fail_later(stack):
    """Cross-directive mistakes are found by configtest (the check_config
    hook), not by a server that starts and then cannot work."""
    def drop(prefix):
        return lambda t: "\n".join(x for x in t.splitlines() if not x.startswith(prefix))
    cases = [
        (lambda t: t.replace("TipzedSandbox On mixed", "TipzedSandbox On"),
         "TipzedSandbox On mixed"),
        (drop("TipzedPublicURL "), "TipzedPublicURL is required"),
        (drop("TipzedWebhookSecretFile stripe "), "no TipzedWebhookSecretFile stripe"),
        (lambda t: t.replace("TipzedSandbox On mixed", "TipzedDefaultProvider sandbox"),
         "TipzedDefaultProvider sandbox is not enabled"),
        (drop("TipzedEncryptionKeyFile "), "TipzedEncryptionKeyFile is required"),
        (drop("TipzedProviderSecretFile stripe "), "no TipzedProviderSecretFile stripe"),
        (drop("TipzedMoMoUserFile "), "TipzedProvider momo needs TipzedMoMoUserFile"),
        (lambda t: t.replace("TipzedLoginRateLimit 5 1m", "TipzedCurrencies USD"),
         "TipzedDefaultCurrency is not one of TipzedCurrencies"),
        (lambda t: t.replace("TipzedLoginRateLimit 5 1m", "TipzedCurrencies ZMW JPY"),
         "JPY does not have two decimals"),
        (lambda t: t.replace("TipzedLoginRateLimit 5 1m",
                             "TipzedMinPayment 5000\nTipzedMaxPayment 4000"),
         "TipzedMinPayment is larger than TipzedMaxPayment"),
        # in a virtual host, the message names it and where it is defined
        (lambda t: t + "\n<VirtualHost 127.0.0.1:9>\nServerName shop.example\n"
                       "TipzedMinPayment 5000\nTipzedMaxPayment 4000\n</VirtualHost>\n",
         "virtual host shop.example, "),
    ]
    assert "TipzedSandbox On mixed" in open(stack.env["TZ_HTTPD_CONF"]).read()
    for edit, message in cases:
        r = _configtest(stack, edit=edit)
        assert r.returncode != 0 and message in r.stderr, (message, r.stderr)
        assert "Syntax OK" not in r.stdout + r.stderr
    ok = _configtest(stack, edit=lambda t: t)
    assert ok.returncode == 0, ok.stderr


def test_configtest_names_bad_directive(stack):
    cases = {
        "TipzedPlatformFee 101%": "TipzedPlatformFee",
        "TipzedAccessTokenTTL 10x": "TipzedAccessTokenTTL",
        "TipzedMaxBodySize -1": "TipzedMaxBodySize",
        "TipzedDefaultCurrency zmw": "TipzedDefaultCurrency",
        "TipzedLoginRateLimit five 1m": "TipzedLoginRateLimit",
        "TipzedCORSOrigin ftp://x": "TipzedCORSOrigin",
        "TipzedProvider paypal https://x": "TipzedProvider",
        "TipzedJWTSecretFile /nonexistent/key": "TipzedJWTSecretFile",
        "TipzedPasswordHashConcurrency 0": "TipzedPasswordHashConcurrency",
        "TipzedCreatorCache nosuchcache 2s": "TipzedCreatorCache",
        "TipzedCreatorCache shmcb 2x": "TipzedCreatorCache",
        "<VirtualHost 127.0.0.1:9>\nTipzedCreatorCache shmcb\n</VirtualHost>": "TipzedCreatorCache",
        "<VirtualHost 127.0.0.1:9>\nTipzedPasswordHashConcurrency 2\n</VirtualHost>":
            "TipzedPasswordHashConcurrency",
        "TipzedSandbox On sometimes": "TipzedSandbox",
        "TipzedSandbox Off mixed": "TipzedSandbox",
        "TipzedProvider sandbox http://x": "TipzedProvider",
        "TipzedPublicURL ftp://x": "TipzedPublicURL",
        "TipzedPublicURL https://x/a?b": "TipzedPublicURL",
        "TipzedCheckoutReturnURL https://x/back#top": "TipzedCheckoutReturnURL",
        "TipzedCheckoutReturnURL /relative": "TipzedCheckoutReturnURL",
        "TipzedTransfers everyone": "TipzedTransfers",
        "TipzedTransferLimit 0 1d": "TipzedTransferLimit",
        "TipzedTransferLimit 1000 soon": "TipzedTransferLimit",
        "TipzedTransferLimit 1000": "TipzedTransferLimit",
        "TipzedReferralBonus -5": "TipzedReferralBonus",
        "TipzedReferralBonus 5.00": "TipzedReferralBonus",
        "TipzedReferralBonus On": "TipzedReferralBonus",
        "TipzedReferralBonus 99999999999999999999": "TipzedReferralBonus",
        "TipzedOutboxRetention 12h": "TipzedOutboxRetention",
        "TipzedOutboxRetention forever": "TipzedOutboxRetention",
    }
    for line, name in cases.items():
        r = _configtest(stack, line)
        assert r.returncode != 0, line
        assert name in r.stderr and "line" in r.stderr, (line, r.stderr)
    # a secret file that cannot be read says why
    r = _configtest(stack, "TipzedJWTSecretFile /nonexistent/key")
    assert "No such file or directory" in r.stderr, r.stderr
    for line in ("TipzedPlatformFee 2.5%", "TipzedPasswordHashConcurrency 4",
                 "TipzedCreatorCache none", "TipzedCheckoutReturnURL https://app.example/back?x=1",
                 "TipzedTransfers none", "TipzedTransfers any", "TipzedTransferLimit 100000 12h",
                 "TipzedReferralBonus 500", "TipzedReferralBonus Off", "TipzedReferralBonus 0",
                 "TipzedOutboxRetention 90d", "TipzedOutboxRetention Off"):
        ok = _configtest(stack, line)
        assert ok.returncode == 0, ok.stderr


def test_a_privilege_mistake_says_what_to_do(api, stack):
    """Migrations run as another role, or grants lost: the error log names
    the role Apache connects as and the command that grants it again."""
    fn = "tz_api_creator_public(uuid, text)"
    stack.psql(f"REVOKE EXECUTE ON FUNCTION {fn} FROM {stack.app_role}")
    try:
        r = api.get(f"/creators/{uuid.uuid4()}")
        assert r.status == 503, r
    finally:
        stack.psql(f"GRANT EXECUTE ON FUNCTION {fn} TO {stack.app_role}")
    assert f"tipzedctl migrate --runtime-role {stack.app_role}" in stack.error_log_text()
    assert api.get(f"/creators/{uuid.uuid4()}").status == 404
