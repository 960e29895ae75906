"""Running the API: ``ticketbot serve`` in the foreground, or embedded in a thread."""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger("ticketbot")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ServeError(Exception):
    """The server cannot start; the message says why and what to do."""


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`ServeError` if ``host:port`` cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ServeError(
                    f"port {port} on {host} is already in use; choose another with --port"
                ) from None
            raise ServeError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def preflight(settings: Any, host: str) -> tuple[str, Any, int | None]:
    """Check what the server needs before starting it.

    Returns (database description, the loaded department classifier, number of active API
    keys or None if the database cannot be reached yet). Raises :class:`ServeError` (bad
    database URL, missing driver, refused model, non-loopback address without any key) so
    that the command line prints one clear sentence instead of a worker's traceback.
    """
    import peewee

    from ticketbot.api.classifier import DepartmentClassifier
    from ticketbot.api.db import DatabaseConfigError, connect_database, describe, redacted
    from ticketbot.api.keys import open_key_store
    from ticketbot.ml.store import ModelError

    try:
        classifier = DepartmentClassifier.from_settings(settings)
        where = describe(connect_database(settings))
    except (ModelError, DatabaseConfigError) as error:
        raise ServeError(str(error)) from None
    from ticketbot.api.migrations import SchemaTooNew

    try:
        with open_key_store(settings) as store:
            keys: int | None = store.count_active()
    except SchemaTooNew as error:
        raise ServeError(str(error)) from None
    except peewee.PeeweeException as error:
        if not is_loopback(host):
            raise ServeError(
                f"cannot check the API keys of {where} ({error}); refusing to "
                f"listen on {host} without knowing that keys exist"
            ) from None
        keys = None
    if keys == 0 and not is_loopback(host):
        raise ServeError(
            f"refusing to listen on {host} (reachable from other machines) while no API key "
            "exists: create one first with `ticketbot keys create --name NAME --role admin "
            f"--database-url {redacted(settings.database_url)}`"
        )
    return where, classifier, keys


def serve(settings: Any, host: str, port: int, workers: int, log_level: str = "info") -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    _, classifier, keys = preflight(settings, host)
    check_port_free(host, port)
    # Where the tickets are and which model routes them: each app says it once it starts
    # (once per worker), so it is not said here too.
    if keys == 0:
        log.warning(
            "no API key yet: every request but /health gets 401. Create one with "
            "`ticketbot keys create --name NAME --role admin`"
        )
    elif keys is None:
        log.warning("the database is not reachable yet; requests get 503 until it is")
    log.info("API on http://%s:%s (docs at /docs)", host if ":" not in host else f"[{host}]", port)
    common = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "http": GUARDED_PROTOCOL,
    }
    if workers > 1:
        import shutil
        import tempfile

        # Each worker process builds its own app from the environment, and writes its
        # metrics where /metrics (answered by any worker) adds them all up.
        os.environ["TICKETBOT_DATABASE_URL"] = settings.database_url
        os.environ["TICKETBOT_DEPARTMENT_MODEL"] = str(settings.department_model)
        metrics_dir = tempfile.mkdtemp(prefix="ticketbot-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            uvicorn.run(
                "ticketbot.api.app:create_app_from_env", factory=True, workers=workers, **common
            )
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    else:
        from ticketbot.api.app import create_app

        uvicorn.run(create_app(settings, classifier), **common)


class EmbeddedServer:
    """The API in a background thread on a free loopback port (the shell's embedded default)."""

    def __init__(self, settings: Any, key_file: Path | None = None, plugins: Any = None) -> None:
        self.settings = settings
        self.key_file = key_file
        self.plugins = plugins  # for ticket_event listeners; None: the installed plugins
        self.api_key: str | None = None
        self.url: str | None = None
        self.error: BaseException | None = None
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def bind(self, port: int = 0) -> str:
        """Reserve a loopback port (``0``: a free one); returns the URL the API will answer
        on. :class:`ServeError` when the port is taken."""
        if self._socket is None:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self._socket.bind(("127.0.0.1", port))
            except OSError as error:
                self._socket.close()
                self._socket = None
                raise ServeError(
                    f"port {port} on 127.0.0.1 is taken ({error.strerror}); choose another "
                    "with --port, or leave it out for a free one"
                ) from None
            self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        return self.url

    def start(self) -> None:
        """Start serving in the background (binding first if needed); :meth:`wait_ready`
        tells when the API answers."""
        self.bind()
        self._thread = threading.Thread(target=self._run, name="ticketbot-api", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            import uvicorn

            from ticketbot.api.app import create_app
            from ticketbot.api.classifier import DepartmentClassifier

            # Loaded here rather than in the lifespan: uvicorn would only log a failure,
            # while this lets the shell say why the API could not start (a refused model).
            classifier = DepartmentClassifier.from_settings(self.settings)
            if self.key_file is not None:
                self.api_key = self._local_key()
            sock = self._socket
            config = uvicorn.Config(
                create_app(self.settings, classifier, self.plugins),
                http=GUARDED_PROTOCOL,
                log_level="warning",
                access_log=False,
                lifespan="on",
            )
            self._server = uvicorn.Server(config)
            watcher = threading.Thread(target=self._watch_started, daemon=True)
            watcher.start()
            self._server.run(sockets=[sock])
        except BaseException as error:  # noqa: BLE001 - reported to the shell, not raised here
            self.error = error
        finally:
            self._ready.set()

    def _local_key(self) -> str:
        from ticketbot.api.keys import ensure_local_key, open_key_store

        with open_key_store(self.settings) as store:
            return ensure_local_key(store, self.key_file)

    def _watch_started(self) -> None:
        while not self._ready.is_set():
            if self._server is not None and self._server.started:
                self._ready.set()
                return
            time.sleep(0.005)

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Wait until the API answers; False if it failed (see :attr:`error`) or timed out."""
        self._ready.wait(timeout)
        return self._server is not None and self._server.started and self.error is None

    def stop(self) -> None:
        """Ask the server to finish and wait for it."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)


# -- HTTP limits -----------------------------------------------------------------------------

GUARDED_PROTOCOL = "ticketbot.server:GuardedHttpProtocol"
"""What uvicorn speaks HTTP with (an import string, so every worker process loads it)."""


@lru_cache(maxsize=1)
def _http_limits() -> tuple[int, float, int]:
    from ticketbot.api.settings import Settings

    settings = Settings()
    return settings.max_header_bytes, settings.request_timeout, settings.max_connections


def _problem(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json response that closes the connection."""
    import json

    body = json.dumps(
        {
            "type": f"/problems/{reason.lower().replace(' ', '-')}",
            "title": reason,
            "status": status,
            "detail": detail,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _guarded_protocol_class() -> type:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with the limits a front proxy would give:

        - request line and headers of at most ``max_header_bytes`` (431, then the connection
          is closed: an unterminated 20 MB header is never held in memory);
        - a whole request received within ``request_timeout`` seconds of its first byte, or
          of the connection (a client that never finishes is dropped);
        - at most ``max_connections`` open connections per process (503).
        Every refusal is a problem+json document.
        """

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_bytes = self._head_seen = 0
            self._in_head = True
            self._deadline: Any = None
            max_header, timeout, max_connections = _http_limits()
            if len(self.connections) > max_connections:
                self._refuse(503, "Service Unavailable", "Too many connections; retry shortly.")
                return
            self._arm(timeout)

        def _arm(self, timeout: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self._refuse(408, "Request Timeout", "The request took too long to arrive.")

        def _refuse(self, status: int, reason: str, detail: str) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(_problem(status, reason, detail))
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            idle = self.cycle is None or self.cycle.response_complete
            if idle and self._deadline is None:
                self._arm(_http_limits()[1])  # a new request starts on this connection
            super().data_received(data)
            if self._in_head and not self.transport.is_closing():
                # Headers not finished yet: the parser holds them, so count the raw bytes.
                self._head_bytes += len(data)
                if self._head_bytes > _http_limits()[0]:
                    self._head_too_large()

        def _head_too_large(self) -> None:
            limit = _http_limits()[0]
            self._refuse(
                431,
                "Request Header Fields Too Large",
                f"The request line and headers are limited to {limit} bytes.",
            )

        def send_400_response(self, msg: str) -> None:
            if not self.transport.is_closing():  # not after our own refusal
                super().send_400_response(msg)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head, self._head_bytes, self._head_seen = True, 0, 0

        def on_url(self, url: bytes) -> None:
            self._head_seen += len(url)
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            # Whole headers that came in one piece are counted here.
            self._head_seen += len(name) + len(value) + 4
            if self._head_seen > _http_limits()[0]:
                self._head_too_large()
                raise ValueError("request headers too large")  # stops the parser
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedHttpProtocol


def __getattr__(name: str) -> Any:
    # Built on first use: importing uvicorn's protocol is not needed to run the CLI.
    if name == "GuardedHttpProtocol":
        globals()[name] = _guarded_protocol_class()
        return globals()[name]
    raise AttributeError(name)
