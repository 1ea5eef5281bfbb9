"""A second Apache instance of the stack's configuration on the same
PostgreSQL: what the several-node tests run beside the stack."""
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid

from tzclient import Client, next_source_ip


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A second Apache instance of the stack's configuration: its own port,
    run and log directories, application_name in its connections, and
    extra directives after the stack's."""

    def __init__(self, stack, name, extra=""):
        self.stack, self.dir = stack, os.path.join(stack.dir, name)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "httpd.conf")
        self.error_log = os.path.join(self.dir, "logs", "error_log")
        self.pidfile = os.path.join(self.dir, "run", "httpd.pid")
        self.app = f"tipzed-{name}"
        shutil.rmtree(self.dir, ignore_errors=True)
        for sub in ("run", "logs"):
            os.makedirs(os.path.join(self.dir, sub))
        with open(stack.httpd_conf) as f:
            text = f.read()
        run_dir = os.path.dirname(stack.env["TZ_PIDFILE"])
        logs = os.path.dirname(stack.error_log)
        text = re.sub(r"(?m)^Listen .*$", f"Listen 127.0.0.1:{self.port}", text)
        text = text.replace(run_dir, os.path.join(self.dir, "run"))
        text = text.replace(logs, os.path.join(self.dir, "logs"))
        text = text.replace("connect_timeout=3", f"connect_timeout=3 application_name={self.app}")
        text += f"\n# this node's own settings\n{extra}\n"
        with open(self.conf, "w") as f:
            f.write(text)
        self.env = dict(os.environ)
        for kv in shlex.split(stack.env.get("TZ_APACHE_ENV", "")):
            k, _, v = kv.partition("=")
            self.env[k] = v
        self.api = Client(f"http://127.0.0.1:{self.port}/api/v1", source_ip=next_source_ip())

    def start(self):
        r = subprocess.run(["apache2", "-f", self.conf, "-k", "start"], env=self.env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health",
                                            timeout=2) as h:
                    if h.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the second node did not come up: " + self.log())

    def pids(self):
        """The parent and its children."""
        with open(self.pidfile) as f:
            parent = int(f.read().strip())
        kids = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
        return [parent] + [int(p) for p in kids.stdout.split()]

    def kill(self):
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.unlink(self.pidfile)

    def stop(self):
        subprocess.run(["apache2", "-f", self.conf, "-k", "stop"], env=self.env,
                       capture_output=True, timeout=60)

    def log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


@contextlib.contextmanager
def started_nodes(stack, prefix, extra, count=2):
    """count Nodes named prefix-1.., each with extra, started; stopped at the end."""
    tag = uuid.uuid4().hex[:6]
    nodes = [Node(stack, f"{prefix}-{i}-{tag}", extra) for i in range(1, count + 1)]
    try:
        for n in nodes:
            n.start()
        yield nodes
    finally:
        # a node that started but never answered is stopped too: left
        # running, it would serve the stack's database with its own config
        for n in nodes:
            n.stop()


def redis_ping(port, seconds=10):
    """True once a Redis on 127.0.0.1:port answers PING (within seconds)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.1)
    return False
