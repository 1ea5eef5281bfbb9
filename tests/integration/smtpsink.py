"""A local SMTP sink for the tests of the module's mail: an aiosmtpd server
on 127.0.0.1 that keeps every message it is given, parsed.

    with SmtpSink() as sink:                 # a free port
        ... point TipzedSMTP at sink.url ...
        got = sink.wait_for(lambda m: "fan@example.com" in m.to, timeout=10)
        got.message["Subject"]                # RFC 2047 words decoded
        got.text()                            # the text/plain body, decoded

SmtpSink(credentials=("user", "password")) requires that login (AUTH PLAIN
or LOGIN, allowed without TLS since the sink has none); without it no login
is asked for.  Run by hand, `python3 tests/integration/smtpsink.py PORT`
prints each message as it arrives."""
import email
import email.policy
import logging
import socket
import sys
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# A login without TLS is what the sink is for (it has no certificate): the
# warnings aiosmtpd gives about it on every connection say nothing here.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
logging.getLogger("mail.log").setLevel(logging.ERROR)


class Received:
    """One message: the envelope as the client gave it, the raw bytes, and
    the parsed message (an email.message.EmailMessage)."""

    def __init__(self, mail_from, rcpt_tos, data, login=None):
        self.mail_from = mail_from
        self.to = list(rcpt_tos)
        self.raw = data
        self.login = login
        # parsed with "\n" line ends, so text compares with text written in Python
        self.message = email.message_from_bytes(data.replace(b"\r\n", b"\n"),
                                                policy=email.policy.default)

    def text(self):
        """The text/plain body, transfer encoding and charset undone."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else None

    def attachments(self):
        """(filename, content type, bytes) of each attachment."""
        return [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True))
                for a in self.message.iter_attachments()]

    def __repr__(self):
        return f"<Received from={self.mail_from} to={self.to} subject={self.message['Subject']!r}>"


def free_port():
    """A port nothing listens on now (aiosmtpd's controller cannot start on
    port 0: it connects to its own port to know it is up)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        login = getattr(session.auth_data, "login", None)
        if isinstance(login, (bytes, bytearray)):
            login = login.decode("utf-8", "replace")
        self.sink._add(Received(envelope.mail_from, envelope.rcpt_tos, envelope.content, login))
        return "250 OK queued"


class SmtpSink:
    def __init__(self, port=None, credentials=None, on_message=None):
        self.port = port or free_port()
        self.credentials = credentials
        self.on_message = on_message
        self._messages = []
        self._cond = threading.Condition()
        self._controller = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self):
        with self._cond:
            return list(self._messages)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              (auth_data.login.decode(), auth_data.password.decode()) == tuple(self.credentials))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def start(self):
        kwargs = {}
        if self.credentials:
            kwargs = dict(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=False)
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                      ready_timeout=10, **kwargs)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _add(self, received):
        with self._cond:
            self._messages.append(received)
            self._cond.notify_all()
        if self.on_message:
            self.on_message(received)

    def clear(self):
        with self._cond:
            self._messages.clear()

    def wait_for(self, predicate=None, timeout=10.0):
        """The first message (in arrival order) predicate accepts, waiting up
        to timeout seconds for it; AssertionError naming what came instead."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self._messages:
                    if predicate is None or predicate(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such message within {timeout} s; got {self._messages}")
                self._cond.wait(left)


def _print(m):
    print(f"--- from {m.mail_from} to {', '.join(m.to)}"
          + (f" (login {m.login})" if m.login else ""), flush=True)
    print(m.raw.decode("utf-8", "replace"), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: smtpsink.py PORT")
    sink = SmtpSink(port=int(sys.argv[1]), on_message=_print).start()
    print(f"listening on {sink.url}; Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
