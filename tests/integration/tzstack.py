"""The running stack (tests/stack/stack.sh) as the tests and tools see it:
its URLs, paths, and the commands to poke at it.  Standard library only."""
import os
import re
import shlex
import subprocess
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACK = os.path.join(REPO, "tests", "stack", "stack.sh")
SQL_DIR = os.path.join(REPO, "sql")


def read_env(path):
    """KEY=VALUE lines of a stack's env file (values may be shell-quoted)."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, _, v = line.partition("=")
            words = shlex.split(v)
            env[k] = words[0] if words else ""
    return env


class Stack:
    """The stack under test: its URLs, paths and the tools to poke at it."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.env = read_env(os.path.join(self.dir, "env"))
        self.base_url = self.env["TZ_BASE_URL"]
        self.api_url = self.base_url + "/api/v1"
        self.port = int(self.env["TZ_PORT"])
        self.secrets = self.env["TZ_SECRETS"]
        self.error_log = self.env["TZ_ERROR_LOG"]
        self.httpd_conf = self.env["TZ_HTTPD_CONF"]
        self.conninfo = self.env["TZ_CONNINFO"]
        self.build = self.env["TZ_BUILD"]
        self.pghost = self.env["TZ_PGHOST"]
        self.pguser_os = self.env.get("TZ_PGUSER_OS", "")
        # The runtime role (DBDParams): it may only execute tz_api_* functions.
        self.app_role = self.env.get("TZ_APP_ROLE", "tipzed_app")

    @staticmethod
    def _run(*args, input=None, check=False, timeout=120):
        return subprocess.run([str(a) for a in args], input=input, capture_output=True,
                              text=True, check=check, timeout=timeout)

    # -- database ---------------------------------------------------------
    def psql(self, sql, db="tipzed", check=True, user="tipzed"):
        """Rows of a query as tuples of strings (psql -At, tab separated),
        run as the OS user that owns the cluster.  With check=False the
        CompletedProcess is returned instead, whatever the outcome."""
        r = self._run(STACK, "psql", self.dir, "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1",
                      "-qAt", "-F", "\t", "-c", sql)
        if not check:
            return r
        if r.returncode != 0:
            raise AssertionError(f"psql failed ({r.returncode}): {r.stderr.strip()}\n  SQL: {sql}")
        return [tuple(line.split("\t")) for line in r.stdout.splitlines() if line]

    def psql_script(self, sql, db="tipzed", user="tipzed"):
        """Runs a multi-statement script from stdin; the CompletedProcess."""
        return self._run(STACK, "psql", self.dir, "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1",
                         "-q", input=sql)

    def empty_db(self, name):
        """A fresh, empty database `name` owned by tipzed; its conninfo."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name) or name in ("tipzed", "postgres"):
            raise ValueError(f"bad scratch database name {name!r}")
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", db="postgres", user="postgres")
        self.psql(f"CREATE DATABASE {name} OWNER tipzed", db="postgres", user="postgres")
        return re.sub(r"\bdbname=\S+", f"dbname={name}", self.conninfo)

    def drop_db(self, name):
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", db="postgres", user="postgres")

    def scratch_db(self, name):
        """A fresh database `name` with every migration applied, for tests
        that corrupt data; returns its conninfo."""
        conninfo = self.empty_db(name)
        r = self.tipzedctl("migrate", "--runtime-role", self.app_role, SQL_DIR, conninfo=conninfo)
        assert r.returncode == 0, f"migrating {name} failed: {r.stdout}{r.stderr}"
        return conninfo

    def restart_pg(self, mode="fast"):
        """Restarts PostgreSQL (fast, immediate or smart) and waits for it."""
        return self._run(STACK, "restart-pg", self.dir, mode, check=True)

    # -- Apache and tools -------------------------------------------------
    def apachectl(self, *args):
        """apache2 -f <the stack's httpd.conf> ARGS (e.g. "-t", "-k", "graceful")."""
        return self._run(STACK, "apachectl", self.dir, *args)

    def tipzedctl(self, *args, input=None, conninfo=None):
        """tipzedctl -d <conninfo> ARGS, with optional stdin."""
        return self._run(os.path.join(self.build, "tipzedctl"), "-d", conninfo or self.conninfo,
                         *args, input=input)

    def error_log_text(self):
        with open(self.error_log, errors="replace") as f:
            return f.read()

    def secret(self, name):
        """A secret file's content as bytes, less one trailing newline (as
        the module reads it)."""
        with open(os.path.join(self.secrets, name), "rb") as f:
            data = f.read()
        return data[:-1] if data.endswith(b"\n") else data

    def jwt_key(self):
        return self.secret("jwt.key")

    def healthy(self, timeout=2):
        try:
            with urllib.request.urlopen(self.api_url + "/health", timeout=timeout) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_healthy(self, seconds=20):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.healthy():
                return True
            time.sleep(0.2)
        return False
