"""A loopback HTTP reverse proxy in front of the moto server that fails requests on command.

`proxy.inject(Fault.SLOW_DOWN, "PUT", times=2, when=lambda r: r.key.endswith(".parquet"))`
answers the next two matching requests with S3's 503 SlowDown instead of forwarding them; every
other request reaches moto unchanged. Every request is recorded with the status it was answered
(`DROPPED` for a connection closed without an answer), so a test can see a fault and its retry.
`proxy.interrupt(...)` instead calls an action (the crash trials' SIGKILL of the client) at one
chosen request, before or after moto performed it; the client never hears the answer.
"""

from __future__ import annotations

import base64
import http.client
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DROPPED = 0
# hop-by-hop headers, and those the proxy sets itself after re-framing the body
_NOT_FORWARDED = frozenset(
    {"connection", "keep-alive", "expect", "transfer-encoding", "content-length", "host"}
)


class Fault(Enum):
    """(status, S3 error code, message); DROP closes the connection after reading the request."""

    SLOW_DOWN = (503, "SlowDown", "Please reduce your request rate.")
    INTERNAL_ERROR = (500, "InternalError", "We encountered an internal error. Please try again.")
    DROP = (DROPPED, "", "")
    ACCESS_DENIED = (403, "AccessDenied", "Access Denied")
    NO_SUCH_BUCKET = (404, "NoSuchBucket", "The specified bucket does not exist")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def code(self) -> str:
        return self.value[1]

    @property
    def message(self) -> str:
        return self.value[2]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # /bucket/key, unquoted
    query: str
    body: bytes = field(repr=False)  # tells apart two DeleteObjects of one bucket

    @property
    def key(self) -> str:
        return self.path.lstrip("/").partition("/")[2]

    @property
    def params(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))


@dataclass(frozen=True)
class Exchange:
    request: Request
    status: int  # DROPPED when the connection was closed without an answer
    fault: Fault | None  # None: moto answered


Predicate = Callable[[Request], bool]


@dataclass
class _Rule:
    fault: Fault
    method: str
    when: Predicate
    remaining: int


@dataclass
class _Interruption:
    method: str
    when: Predicate
    countdown: int  # matching requests to let through before this one
    action: Callable[[], object]
    performed: bool  # moto performs the request before the action


class S3FaultProxy:
    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._interruptions: list[_Interruption] = []
        self._log: list[Exchange] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(
        self, fault: Fault, method: str, times: int = 1, when: Predicate = lambda _: True
    ) -> None:
        """Answer the next `times` requests of `method` for which `when` holds with `fault`."""
        with self._lock:
            self._rules.append(_Rule(fault, method, when, times))

    def interrupt(
        self,
        method: str,
        nth: int,
        action: Callable[[], object],
        when: Predicate = lambda _: True,
        performed: bool = True,
    ) -> None:
        """At the `nth` request of `method` for which `when` holds, call `action` after moto
        performed the request (`performed`) or instead of forwarding it, and close the
        connection without an answer."""
        with self._lock:
            self._interruptions.append(_Interruption(method, when, nth - 1, action, performed))

    def clear(self) -> None:
        """No faults or interruptions to come, and an empty log."""
        with self._lock:
            self._rules.clear()
            self._interruptions.clear()
            self._log.clear()

    @property
    def log(self) -> list[Exchange]:
        with self._lock:
            return list(self._log)

    def fault_for(self, request: Request) -> Fault | None:
        """The fault to answer `request` with (it counts against its rule), if any."""
        with self._lock:
            for rule in self._rules:
                if rule.remaining and rule.method == request.method and rule.when(request):
                    rule.remaining -= 1
                    return rule.fault
        return None

    def interruption_for(self, request: Request) -> _Interruption | None:
        """The interruption `request` is the chosen request of, if any (it is then used up)."""
        with self._lock:
            for interruption in self._interruptions:
                if interruption.method == request.method and interruption.when(request):
                    if interruption.countdown == 0:
                        self._interruptions.remove(interruption)
                        return interruption
                    interruption.countdown -= 1
        return None

    def record(self, request: Request, status: int, fault: Fault | None) -> None:
        with self._lock:
            self._log.append(Exchange(request, status, fault))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: S3FaultProxy) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.proxy = proxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and `Expect: 100-continue` answered
    disable_nagle_algorithm = True
    server: _Server

    def _relay(self) -> None:
        body = self._body()
        parsed = urllib.parse.urlsplit(self.path)
        request = Request(self.command, urllib.parse.unquote(parsed.path), parsed.query, body)
        proxy = self.server.proxy
        if interruption := proxy.interruption_for(request):
            status = self._forward(body)[0] if interruption.performed else DROPPED
            interruption.action()
            self.close_connection = True
            proxy.record(request, status, None)
            return
        fault = proxy.fault_for(request)
        if fault is Fault.DROP:
            self.close_connection = True
            proxy.record(request, DROPPED, fault)
            return
        status, headers, content = self._forward(body) if fault is None else _error(fault, request)
        proxy.record(request, status, fault)
        self._answer(status, headers, content)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _relay  # noqa: N815 (http.server's names)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._chunked_body()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _chunked_body(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # HTTP trailers (boto3's checksum trailers are inside an aws-chunked body)
        return b"".join(chunks)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.server.proxy.upstream, timeout=60)
        try:
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in _NOT_FORWARDED
            }
            headers["Host"] = self.headers.get("Host", "")
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body, headers)
            response = connection.getresponse()
            content = response.read()
            kept = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in _NOT_FORWARDED
                # a HEAD answer's Content-Length is the object's size
                or (self.command == "HEAD" and name.lower() == "content-length")
            ]
            return response.status, kept, content
        finally:
            connection.close()

    def _answer(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the proxy's own log is what tests read."""


def _error(fault: Fault, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    """S3's answer for `fault`: its XML error document, as long as S3's (with a 76-character
    HostId), which matters to clients that read a small object into a buffer of its size. A
    HEAD answer has the status alone."""
    request_id = secrets.token_hex(8).upper()
    host_id = base64.b64encode(secrets.token_bytes(57)).decode()
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
        f"<Resource>{request.path}</Resource><RequestId>{request_id}</RequestId>"
        f"<HostId>{host_id}</HostId></Error>"
    ).encode()
    headers = [
        ("Content-Type", "application/xml"),
        ("x-amz-request-id", request_id),
        ("x-amz-id-2", host_id),
    ]
    if request.method == "HEAD":
        headers.append(("Content-Length", "0"))
        content = b""
    return fault.status, headers, content
