"""Fixtures for the integration tests: the running stack (tests/stack) and
HTTP clients, each bound to a loopback source address of its own.

The stack is described by $TZ_STACK_DIR/env (written by `stack.sh up`);
`make test` starts one, `make integration STACK_DIR=DIR` reuses one."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import tzclient  # noqa: E402
from tzclient import (Client, create_admin, login_totp, next_source_ip, register,  # noqa: E402
                      unique_email)
from tzstack import REPO, SQL_DIR, STACK, Stack, read_env  # noqa: E402,F401


@pytest.fixture(scope="session")
def stack():
    d = os.environ.get("TZ_STACK_DIR")
    if not d:
        pytest.exit("TZ_STACK_DIR is not set: run the suite with `make test` "
                    "or `make integration STACK_DIR=DIR`", returncode=2)
    if not os.path.isfile(os.path.join(d, "env")):
        pytest.exit(f"no stack in {d}: start one with tests/stack/stack.sh up {d}", returncode=2)
    s = Stack(d)
    if not s.wait_healthy(10):
        pytest.exit(f"the stack in {d} does not answer {s.api_url}/health", returncode=2)
    return s


def _port(name):
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set: run the suite with `make test`")
    return int(os.environ[name])


@pytest.fixture(scope="session")
def flw(stack):
    """The local stand-in of Flutterwave's API the stack points at."""
    from fakeproviders import StandIn, flutterwave_routes
    s = StandIn(_port("TZ_FLW_PORT"), stack.secret("provider_flutterwave").decode(),
                flutterwave_routes)
    yield s
    s.close()


@pytest.fixture(scope="session")
def stripe(stack):
    """The local stand-in of Stripe's API the stack points at."""
    from fakeproviders import StandIn, stripe_routes
    s = StandIn(_port("TZ_STRIPE_PORT"), stack.secret("provider_stripe").decode(), stripe_routes)
    yield s
    s.close()


@pytest.fixture(scope="session", autouse=True)
def gateway(stack):
    """The mobile_money gateway's stand-in (refunds and status calls, signed
    with the shared webhook secret).  Always up while the suite runs: the
    watchdog asks it about every pending mobile_money payment."""
    if not os.environ.get("TZ_MM_PORT"):
        yield None
        return
    from fakeproviders import StandIn, generic_routes
    s = StandIn(int(os.environ["TZ_MM_PORT"]), stack.secret("webhook_mobile_money").decode(),
                generic_routes)
    yield s
    s.close()


@pytest.fixture(scope="session", autouse=True)
def smtp(stack):
    """The SMTP sink TipzedSMTP points at (smtpsink.py).  Always up while the
    suite runs: any test's payment or payout may send mail."""
    if not os.environ.get("TZ_SMTP_PORT"):
        tzclient.VERIFY_BY_SQL = lambda uid: stack.psql(
            f"UPDATE users SET email_verified_at = now() WHERE id = '{uid}'")
        yield None
        return
    from smtpsink import SmtpSink
    with SmtpSink(port=int(os.environ["TZ_SMTP_PORT"])) as sink:
        tzclient.SMTP = sink
        yield sink
        tzclient.SMTP = None


@pytest.fixture(scope="session")
def momo(stack):
    """The local stand-in of MTN MoMo's Collections API."""
    from fakemomo import MoMoStandIn
    user, key = stack.secret("momo_user").decode().split(":", 1)
    s = MoMoStandIn(_port("TZ_MOMO_PORT"), user, key,
                    stack.secret("momo_subscription_key").decode(), environment="sandbox")
    yield s
    s.close()


@pytest.fixture
def api(stack):
    """A client whose requests come from a loopback address of its own, so
    per-IP rate limits of one test do not touch another."""
    return Client(stack.api_url, source_ip=next_source_ip())


@pytest.fixture
def new_client(stack):
    """A factory of further clients, each with its own source address."""
    return lambda: Client(stack.api_url, source_ip=next_source_ip())


@pytest.fixture(scope="session")
def admin_account(stack):
    """An admin created with tipzedctl (registration never grants admin),
    enrolled in two-factor (TipzedAdminTOTP On): {email, password,
    totp_secret, ...}."""
    a = create_admin(stack, unique_email("admin"), "admin password 123")
    a.update(session=None, at=0.0)
    return a


def admin_session(stack, a):
    """The admin of admin_account, logged in with both steps: {email,
    password, totp_secret, access_token, refresh_token, user}.  Logged in again when the session
    is older than 10 minutes, so a slow run never hands a test an expired
    access token (15 minutes)."""
    if a["session"] is None or time.time() - a["at"] > 600:
        resp = login_totp(Client(stack.api_url, source_ip=next_source_ip()), a["email"],
                          a["password"], a["totp_secret"])
        assert resp.status == 200, resp
        a["session"] = {"email": a["email"], "password": a["password"],
                        "totp_secret": a["totp_secret"],
                        "access_token": resp.json["access_token"],
                        "refresh_token": resp.json.get("refresh_token"), "user": resp.json["user"]}
        a["at"] = time.time()
    return a["session"]


@pytest.fixture
def admin(stack, admin_account):
    return admin_session(stack, admin_account)


@pytest.fixture
def creator(api):
    return register(api, role="creator", full_name="Chanda Mulenga")


@pytest.fixture
def fan(api):
    return register(api, role="fan", full_name="Bwalya Fan")
