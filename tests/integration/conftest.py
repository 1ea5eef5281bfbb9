"""Fixtures for the integration tests: the running stack (tests/stack)
and HTTP clients bound to fresh loopback source addresses."""
import os
import shlex
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from tzclient import Client, login, next_source_ip, register  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACK = os.path.join(REPO, "tests", "stack", "stack.sh")


def _read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = shlex.split(v)[0] if v else ""
    return env


class Stack:
    def __init__(self, directory):
        self.dir = directory
        self.env = _read_env(os.path.join(directory, "env"))
        self.base_url = self.env["TZ_BASE_URL"]
        self.api_url = self.base_url + "/api/v1"
        self.secrets = self.env["TZ_SECRETS"]
        self.error_log = self.env["TZ_ERROR_LOG"]
        self.conninfo = self.env["TZ_CONNINFO"]

    def _run(self, *args, input=None, check=False):
        return subprocess.run(list(args), input=input, capture_output=True, text=True,
                              check=check, timeout=120)

    def psql(self, sql, db="tipzed", check=True, user="tipzed"):
        """Rows of a query as tuples of strings (psql -At, tab separated)."""
        r = self._run(STACK, "psql", self.dir, "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1",
                      "-qAt", "-F", "\t", "-c", sql)
        if check and r.returncode != 0:
            raise AssertionError(f"psql failed: {r.stderr}")
        if not check:
            return r
        return [tuple(line.split("\t")) for line in r.stdout.splitlines() if line]

    def psql_script(self, sql, db="tipzed"):
        """Runs a multi-statement script; returns the CompletedProcess."""
        return self._run(STACK, "psql", self.dir, "-d", db, "-v", "ON_ERROR_STOP=1", "-q",
                         input=sql)

    def restart_pg(self, mode="fast"):
        return self._run(STACK, "restart-pg", self.dir, mode, check=True)

    def apachectl(self, *args):
        return self._run(STACK, "apachectl", self.dir, *args)

    def tipzedctl(self, *args, input=None, conninfo=None):
        return self._run(os.path.join(self.env["TZ_BUILD"], "tipzedctl"), "-d",
                         conninfo or self.conninfo, *args, input=input)

    def error_log_text(self):
        with open(self.error_log, errors="replace") as f:
            return f.read()

    def secret(self, name):
        with open(os.path.join(self.secrets, name), "rb") as f:
            data = f.read()
        return data[:-1] if data.endswith(b"\n") else data

    def jwt_key(self):
        return self.secret("jwt.key")

    def scratch_db(self, name):
        """A fresh database with every migration applied; its conninfo."""
        self.psql(f"DROP DATABASE IF EXISTS {name}", db="postgres", user="postgres")
        self.psql(f"CREATE DATABASE {name} OWNER tipzed", db="postgres", user="postgres")
        conninfo = self.conninfo.replace("dbname=tipzed", f"dbname={name}")
        r = self.tipzedctl("migrate", os.path.join(REPO, "sql"), conninfo=conninfo)
        assert r.returncode == 0, r.stderr
        return conninfo


@pytest.fixture(scope="session")
def stack():
    d = os.environ.get("TZ_STACK_DIR")
    if not d:
        pytest.exit("TZ_STACK_DIR is not set: run the suite with `make test`", returncode=2)
    return Stack(d)


@pytest.fixture
def api(stack):
    """A client whose requests come from a loopback address of its own."""
    return Client(stack.api_url, source_ip=next_source_ip())


@pytest.fixture
def new_client(stack):
    return lambda: Client(stack.api_url, source_ip=next_source_ip())


@pytest.fixture(scope="session")
def admin(stack):
    email = f"admin-{os.getpid()}@example.com"
    password = "admin password 123"
    r = stack.tipzedctl("create-admin", "--email", email, "--name", "Admin", input=password + "\n")
    assert r.returncode == 0, r.stderr
    api = Client(stack.api_url, source_ip=next_source_ip())
    resp = login(api, email, password)
    assert resp.status == 200, resp
    return {"email": email, "password": password, "access_token": resp.json["access_token"],
            "user": resp.json["user"]}


@pytest.fixture
def creator(api):
    return register(api, role="creator", full_name="Chanda Mulenga")


@pytest.fixture
def fan(api):
    return register(api, role="fan", full_name="Bwalya Fan")
