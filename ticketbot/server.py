"""Running the API: ``ticketbot serve`` in the foreground, or embedded in a thread."""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
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
    try:
        with open_key_store(settings) as store:
            keys: int | None = store.count_active()
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
    common = {"host": host, "port": port, "log_level": log_level, "access_log": False}
    if workers > 1:
        # Each worker process builds its own app from the environment.
        os.environ["TICKETBOT_DATABASE_URL"] = settings.database_url
        os.environ["TICKETBOT_DEPARTMENT_MODEL"] = str(settings.department_model)
        uvicorn.run(
            "ticketbot.api.app:create_app_from_env", factory=True, workers=workers, **common
        )
    else:
        from ticketbot.api.app import create_app

        uvicorn.run(create_app(settings, classifier), **common)


class EmbeddedServer:
    """The API in a background thread on a free loopback port (the shell's embedded default)."""

    def __init__(self, settings: Any, key_file: Path | None = None) -> None:
        self.settings = settings
        self.key_file = key_file
        self.api_key: str | None = None
        self.url: str | None = None
        self.error: BaseException | None = None
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def bind(self) -> str:
        """Reserve a free loopback port; returns the URL the API will answer on."""
        if self._socket is None:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._socket.bind(("127.0.0.1", 0))
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
                create_app(self.settings, classifier),
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
