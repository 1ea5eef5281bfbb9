"""A small W3C WebDriver client over the standard library (urllib, json):
chromedriver started on a free port, one headless Chromium session, and the
commands the dashboard tests use.

    with Browser.start() as b:
        b.get(url)
        b.find("#login-email").send_keys("a@b.c")
        b.wait_for("#overview-tiles")
        b.script("return document.title")
"""
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def chromium_paths():
    """(chromium, chromedriver), either None when missing."""
    return shutil.which("chromium"), shutil.which("chromedriver")


class WebDriverError(Exception):
    def __init__(self, status, value):
        self.status, self.value = status, value
        self.error = value.get("error") if isinstance(value, dict) else None
        super().__init__(f"{status} {value}")


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Element:
    def __init__(self, browser, ref):
        self.b, self.ref = browser, ref

    def _cmd(self, method, path, body=None):
        return self.b.cmd(method, f"/element/{self.ref}{path}", body)

    def click(self):
        self._cmd("POST", "/click", {})
        return self

    def clear(self):
        self._cmd("POST", "/clear", {})
        return self

    def send_keys(self, text):
        self._cmd("POST", "/value", {"text": text})
        return self

    @property
    def text(self):
        return self._cmd("GET", "/text")

    def attr(self, name):
        return self._cmd("GET", f"/attribute/{name}")

    def prop(self, name):
        return self._cmd("GET", f"/property/{name}")

    def find(self, css):
        return Element(self.b, self._cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT])


class Browser:
    """One chromedriver process and one session of headless Chromium."""

    def __init__(self, driver_proc, port, profile, timeout):
        self.proc, self.base, self.profile, self.timeout = driver_proc, f"http://127.0.0.1:{port}", profile, timeout
        self.session = None

    @classmethod
    def start(cls, timeout=30, window=(1400, 1000)):
        chromium, driver = chromium_paths()
        if not (chromium and driver):
            raise RuntimeError("chromium and chromedriver are needed (Debian: chromium chromium-driver)")
        port = _free_port()
        log = tempfile.NamedTemporaryFile(prefix="chromedriver-", suffix=".log", delete=False)
        proc = subprocess.Popen([driver, f"--port={port}"], stdout=log, stderr=subprocess.STDOUT)
        profile = tempfile.mkdtemp(prefix="tz-chromium-")
        b = cls(proc, port, profile, timeout)
        try:
            b._wait_ready()
            b._new_session(chromium, window)
        except Exception:
            b.quit()
            raise
        return b

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()

    # ------------------------------------------------------------ protocol

    def _http(self, method, path, body=None, timeout=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout + 30) as resp:
                return json.loads(resp.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            try:
                value = json.loads(e.read()).get("value")
            except ValueError:
                value = None
            raise WebDriverError(e.code, value) from None

    def cmd(self, method, path, body=None):
        return self._http(method, f"/session/{self.session}{path}", body)

    def _wait_ready(self):
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._http("GET", "/status", timeout=2).get("ready"):
                    return
            except (OSError, WebDriverError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)

    def _new_session(self, chromium, window):
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={self.profile}", f"--window-size={window[0]},{window[1]}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": self.timeout * 1000, "script": self.timeout * 1000},
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"}}}}
        value = self._http("POST", "/session", caps, timeout=90)
        self.session = value["sessionId"]

    def quit(self):
        try:
            if self.session:
                self._http("DELETE", f"/session/{self.session}", timeout=20)
        except (OSError, WebDriverError):
            pass
        self.session = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    # ------------------------------------------------------------ commands

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    @property
    def url(self):
        return self.cmd("GET", "/url")

    def find(self, css):
        return Element(self, self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT])

    def find_all(self, css):
        return [Element(self, e[ELEMENT])
                for e in self.cmd("POST", "/elements", {"using": "css selector", "value": css})]

    @staticmethod
    def _args(args):
        """Script arguments; an Element goes as the protocol's reference."""
        return [{ELEMENT: a.ref} if isinstance(a, Element) else a for a in args]

    def script(self, source, *args):
        return self.cmd("POST", "/execute/sync", {"script": source, "args": self._args(args)})

    def async_script(self, source, *args):
        """source ends by calling arguments[arguments.length - 1](value)."""
        return self.cmd("POST", "/execute/async", {"script": source, "args": self._args(args)})

    def accept_alert(self, text=None):
        if text is not None:
            self.cmd("POST", "/alert/text", {"text": text})
        self.cmd("POST", "/alert/accept", {})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def log(self, kind="browser"):
        """Chromium's console and page errors since the last call (a
        chromedriver extension of the protocol)."""
        return self.cmd("POST", "/se/log", {"type": kind})

    def wait(self, predicate, what, timeout=None):
        """Polls predicate() until it returns something true; bounded."""
        deadline = time.monotonic() + (timeout or self.timeout)
        last = None
        while time.monotonic() < deadline:
            try:
                value = predicate()
                if value:
                    return value
            except WebDriverError as e:
                last = e
            time.sleep(0.1)
        raise TimeoutError(f"waited {timeout or self.timeout}s for {what}" + (f" (last: {last})" if last else ""))

    def wait_for(self, css, timeout=None, visible=True):
        """The first element matching css, once it exists (and is displayed)."""
        def found():
            els = self.find_all(css)
            if els and (not visible or self.cmd("GET", f"/element/{els[0].ref}/displayed")):
                return els[0]
            return None
        return self.wait(found, f"element {css}", timeout)
