"""Fixtures for the integration tests: the running stack (tests/stack) and
HTTP clients, each bound to a loopback source address of its own.

The stack is described by $TZ_STACK_DIR/env (written by `stack.sh up`);
`make test` starts one, `make integration STACK_DIR=DIR` reuses one."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from tzclient import Client, login, next_source_ip, register, unique_email  # noqa: E402
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
def admin(stack):
    """An admin created with tipzedctl (registration never grants admin),
    logged in: {email, password, access_token, refresh_token, user}."""
    email = unique_email("admin")
    password = "admin password 123"
    r = stack.tipzedctl("create-admin", "--email", email, "--name", "Admin", input=password + "\n")
    assert r.returncode == 0, f"create-admin failed: {r.stdout}{r.stderr}"
    resp = login(Client(stack.api_url, source_ip=next_source_ip()), email, password)
    assert resp.status == 200, resp
    return {"email": email, "password": password, "access_token": resp.json["access_token"],
            "refresh_token": resp.json.get("refresh_token"), "user": resp.json["user"]}


@pytest.fixture
def creator(api):
    return register(api, role="creator", full_name="Chanda Mulenga")


@pytest.fixture
def fan(api):
    return register(api, role="fan", full_name="Bwalya Fan")
