"""The review page's local web server (standard library ``http.server``).

Security, since the page shows faces and lets the user write files:

- bound to ``127.0.0.1`` only, on a free port the system picks; never another interface;
- every request must start with ``/<token>/`` (a random 32-byte token, compared in constant time), else 403;
- the ``Host`` header must name this server (no DNS rebinding), cross-site fetches (``Sec-Fetch-Site``) and
  foreign ``Origin`` headers are refused, and state-changing requests must be JSON POSTs (a cross-site form
  cannot send them without a CORS preflight, which is never granted);
- responses say ``Cache-Control: no-store`` (frames, thumbnails and the sound of speech tracks must not land in
  the browser's disk cache),
  ``Referrer-Policy: no-referrer`` and a Content-Security-Policy allowing only this server's own files;
- the page, its script and its style sheet are package files; nothing is fetched from anywhere else;
- request logs go to :mod:`logging` at debug level with the token masked; the library prints nothing;
- serving on the main thread, SIGTERM and SIGHUP (if nobody else handles them) raise :class:`Stopped`, so the
  session is closed and its uploads removed on the way out, as for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import hmac
import importlib.resources
import json
import logging
import re
import secrets
import signal
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, quote, urlsplit

from ..errors import RedactError
from .session import NotFound, ReviewError, ReviewSession, error_message

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_JSON_BYTES = 64 << 10
STATIC = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8",
          "icon.svg": "image/svg+xml"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
"""``media-src 'self'``: the sound of a speech track, played on demand from this server (``api/audio/ID.wav``)."""
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
"""The HTML report is self-contained (inline CSS and SVG, no scripts)."""
DOWNLOADS = {"video": None, "report_html": "text/html; charset=utf-8", "report_json": "application/json"}


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP while :meth:`ReviewServer.serve_forever` ran on the main thread (``signum`` says which)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, frame: Any) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def _signals_stop() -> Iterator[None]:
    """On the main thread: SIGTERM and SIGHUP, where still at their defaults, raise :class:`Stopped` (restored
    after). A handler that only raises: the cleanup runs in ``finally`` blocks and :mod:`atexit`, not in it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, _raise_stopped)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _asset(name: str) -> bytes:
    return importlib.resources.files(__package__).joinpath(name).read_bytes()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, review: "ReviewServer") -> None:
        self.review = review
        super().__init__((HOST, 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "redact-review"
    sys_version = ""

    # -- plumbing ----------------------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        token = self.server.review.token
        log.debug("review: %s", (format % args).replace(token, "<token>"))

    def _headers(self, status: int, ctype: str, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Content-Security-Policy", (extra or {}).pop("csp", CSP))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self._headers(status, ctype, len(body), extra)
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message}, status)

    def _allowed(self) -> str | None:
        """The path after ``/<token>`` if this request may be served, else None (a 403 has been sent)."""
        review = self.server.review
        port = self.server.server_address[1]
        host_ok = self.headers.get("Host", "") in (f"{HOST}:{port}", f"localhost:{port}")
        origin = self.headers.get("Origin")
        origin_ok = origin is None or origin in (f"http://{HOST}:{port}", f"http://localhost:{port}")
        site_ok = self.headers.get("Sec-Fetch-Site", "none") in ("none", "same-origin")
        path = urlsplit(self.path).path
        prefix, _, rest = path[1:].partition("/")
        token_ok = hmac.compare_digest(prefix.encode(), review.token.encode())
        if not (host_ok and origin_ok and site_ok and token_ok):
            self._error(403, "forbidden")
            return None
        if path == f"/{review.token}":
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", f"/{review.token}/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return "/" + rest

    def _body_json(self) -> Any:
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise ReviewError("expected a JSON request")
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= MAX_JSON_BYTES:
            raise ReviewError("request too large")
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise ReviewError("the request is not valid JSON") from None

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except NotFound as e:
            self._error(404, str(e))
        except RedactError as e:  # ReviewError, InputError, OutputError, PlanMismatchError: one clear line
            self._error(400, str(e))
        except (BrokenPipeError, ConnectionResetError):
            log.debug("review: the browser closed the connection")
        except Exception as e:  # the page gets the type only (a message could quote recognised text)
            log.debug("review: request failed", exc_info=True)
            self._error(500, error_message(e))

    # -- GET -----------------------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        rest = self._allowed()
        if rest is not None:
            self._guard(lambda: self._get(rest))

    do_HEAD = do_GET

    def _get(self, rest: str) -> None:
        session = self.server.review.session
        if rest == "/":
            self._send(200, _asset("page.html"), "text/html; charset=utf-8")
        elif rest[1:] in STATIC:
            self._send(200, _asset(rest[1:]), STATIC[rest[1:]])
        elif rest == "/api/status":
            self._json(session.status())
        elif rest == "/api/plan":
            self._json(session.view())
        elif m := re.fullmatch(r"/frame/(\d{1,9})\.jpg", rest):
            self._send(200, session.frame_jpeg(int(m[1])), "image/jpeg")
        elif m := re.fullmatch(r"/thumb/(\d{1,9})\.jpg", rest):
            self._send(200, session.thumbnail_jpeg(int(m[1])), "image/jpeg")
        elif m := re.fullmatch(r"/api/audio/(\d{1,9})\.wav", rest):
            self._send(200, session.audio_wav(int(m[1])), "audio/wav")
        elif (m := re.fullmatch(r"/download/(\w+)", rest)) and m[1] in DOWNLOADS:
            self._download(m[1])
        else:
            raise NotFound("not found")

    def _download(self, what: str) -> None:
        path = self.server.review.session.download(what)
        ctype = DOWNLOADS[what] or ("image/" + path.suffix.lower().lstrip(".").replace("jpg", "jpeg")
                                    if self.server.review.session.kind == "image" else "video/mp4")
        extra = {"Content-Disposition": f"{'inline' if what == 'report_html' else 'attachment'}; "
                                        f"filename*=UTF-8''{quote(path.name)}"}
        if what == "report_html":
            extra["csp"] = REPORT_CSP
        size = path.stat().st_size
        with open(path, "rb") as f:
            self._headers(200, ctype, size, extra)
            if self.command == "HEAD":
                return
            while chunk := f.read(1 << 20):
                self.wfile.write(chunk)

    # -- POST ----------------------------------------------------------------------------------------------------
    def do_POST(self) -> None:  # noqa: N802
        rest = self._allowed()
        if rest is not None:
            self._guard(lambda: self._post(rest))

    def _post(self, rest: str) -> None:
        review = self.server.review
        session = review.session
        if rest == "/api/upload":
            # the file's bytes as the body (not JSON): an upload from this page's own file picker
            if self.headers.get("Content-Type", "") != "application/octet-stream":
                raise ReviewError("expected the file's bytes")
            name = parse_qs(urlsplit(self.path).query).get("name", ["clip"])[0]
            session.open_upload(name, self.rfile, int(self.headers.get("Content-Length") or 0))
            self._json(session.status())
            return
        body = self._body_json()
        if not isinstance(body, dict):
            raise ReviewError("expected a JSON object")
        if rest == "/api/open":
            if not isinstance(body.get("path"), str) or not body["path"].strip():
                raise ReviewError("type the full path of a video or photo on this computer")
            session.open(body["path"].strip())
            self._json(session.status())
        elif m := re.fullmatch(r"/api/track/(\d{1,9})", rest):
            session.set_action(int(m[1]), body.get("action"))
            self._json(session.view())
        elif m := re.fullmatch(r"/api/track/(\d{1,9})/remove", rest):
            session.remove_manual(int(m[1]))
            self._json(session.view())
        elif rest == "/api/manual":
            tid = session.add_manual(body.get("kind"), body.get("box"), body.get("first"), body.get("last"))
            self._json(dict(session.view(), added=tid))
        elif rest == "/api/export":
            session.export()
            self._json(session.status())
        elif rest == "/api/quit":
            self._json({"state": "closed"})
            review.stop_later()
        else:
            raise NotFound("not found")


class ReviewServer:
    """The review page for ``session`` at :attr:`url` (``http://127.0.0.1:PORT/TOKEN/``)."""

    def __init__(self, session: ReviewSession, token: str | None = None) -> None:
        self.session = session
        self.token = token or secrets.token_urlsafe(32)
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,}", self.token):
            raise ValueError("the token must be at least 16 URL-safe characters")
        self.httpd = _Server(self)
        self._thread: threading.Thread | None = None
        self.stopped = threading.Event()
        self._serving = threading.Event()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/{self.token}/"

    def serve_forever(self) -> None:
        """Serve until :meth:`stop`, the page's "Close" button or a signal (:class:`Stopped`, KeyboardInterrupt);
        then close the session."""
        self._serving.set()
        with _signals_stop():
            try:
                self.httpd.serve_forever(poll_interval=0.2)
            finally:
                self.httpd.server_close()
                self.session.close()
                self.stopped.set()

    def start(self) -> "ReviewServer":
        """Serve in a background thread (tests, embedding)."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="redact-review-http")
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._serving.is_set():  # never served: shutdown() would wait for a loop that never runs
            self.httpd.server_close()
            self.session.close()
            self.stopped.set()
            return
        self.httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def stop_later(self) -> None:
        threading.Thread(target=self.httpd.shutdown, daemon=True).start()

    def __enter__(self) -> "ReviewServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
