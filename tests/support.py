"""Helpers for tests: database resets, free ports, server processes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent


def postgres_admin_url(url: str) -> str:
    """The same server's ``postgres`` maintenance database, to create test databases."""
    return url.rsplit("/", 1)[0] + "/postgres"


def reset_postgres_tables(url: str) -> None:
    """Drop ticketbot's tables so the next app starts on an empty database."""
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS ticket, api_key, health_check, comment, ticket_event, "
            "audit_entry, schema_version, correction, model_version, model_activation, "
            "ticket_count CASCADE"
        )
    connection.close()


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ticketbot_command(*args: str) -> list[str]:
    """The installed ``ticketbot`` command line (the console script of this environment)."""
    script = Path(sys.executable).with_name("ticketbot")
    return [str(script), *args]


def ticketbot_db(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """`ticketbot db ARGS --database-url URL`, its output captured."""
    return subprocess.run(
        ticketbot_command("db", *args, "--database-url", url),
        capture_output=True,
        text=True,
        timeout=120,
    )


def upgrade_at_once(url: str, processes: int = 4) -> tuple[list[int], list[str]]:
    """`ticketbot db upgrade` from several processes started together: their return codes,
    and what each said ("upgraded" or "nothing"), sorted."""
    started = [
        subprocess.Popen(
            ticketbot_command("db", "upgrade", "--database-url", url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [process.communicate(timeout=120) for process in started]
    said = sorted("upgraded" if "upgraded from" in out else "nothing" for out, _ in outputs)
    return [process.returncode for process in started], said


class ServerProcess:
    """A real ``ticketbot serve`` process on a free port."""

    def __init__(self, database_url: str, *extra: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.extra = extra
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.key: str | None = None

    def create_key(self, role: str = "admin", name: str | None = None) -> str:
        """Create a key with `ticketbot keys create` on this server's database."""
        import uuid

        result = subprocess.run(
            ticketbot_command(
                "keys",
                "create",
                "--name",
                name or f"{role}-{uuid.uuid4().hex[:8]}",
                "--role",
                role,
                "--database-url",
                self.database_url,
            ),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    def session(self, key: str | None = None) -> requests.Session:
        """A requests session sending ``key`` (default: the admin key made at start)."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key or self.key}"
        return session

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start it (with an admin key in :attr:`key`) and wait until /health answers."""
        if self.key is None:
            self.key = self.create_key("admin")
        self.process = subprocess.Popen(
            ticketbot_command(
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                "--log-level",
                "warning",
                *self.extra,
            ),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else ""
                raise RuntimeError(
                    f"ticketbot serve exited with {self.process.returncode}:\n{output}"
                )
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"ticketbot serve did not answer within {timeout} s")

    def stop(self) -> str:
        """Stop it (SIGTERM, then SIGKILL) and return what it printed."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        output = self.process.stdout.read() if self.process.stdout else ""
        self.process = None
        return output

    def kill(self) -> None:
        """``kill -9``: no chance to clean up."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def install_fake_plugin(
    directory: Path,
    module_name: str,
    source: str,
    *,
    entry_name: str | None = None,
    distribution: str = "ticketbot-fake",
    version: str = "1.0",
) -> None:
    """Make ``directory`` hold an installed distribution exposing one ``ticketbot`` plugin.

    Put ``directory`` on ``sys.path`` (``monkeypatch.syspath_prepend``) to "install" it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module_name}.py").write_text(source, encoding="utf-8")
    info = directory / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    with open(info / "entry_points.txt", "a", encoding="utf-8") as handle:
        handle.write(f"[ticketbot]\n{entry_name or module_name} = {module_name}\n")


FAKE_INTENT_PLUGIN = """
from ticketbot import hookimpl
from ticketbot.intents import Intent

def answer(turn):
    turn.say(fr="Il fait beau au bureau.", en="The office weather is fine.")

@hookimpl
def register_intents(register):
    register(Intent(
        name={name!r},
        description={{"fr": "la météo du bureau", "en": "the office weather"}},
        examples={{
            "fr": ["quel temps au bureau", "météo du bureau", "il fait chaud au bureau ?",
                   "la clim du bureau est réglée sur combien", "température du bureau"],
            "en": ["office weather", "how warm is the office", "office temperature",
                   "is it cold in the office", "weather in the building"],
        }},
        handler=answer,
    ))
"""


class TcpProxy:
    """A TCP proxy to a real server, to cut a service off and bring it back (fault tests)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        import threading

        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        """Accept connections on :attr:`port` and relay them to the target."""
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Refuse new connections and cut every open one (the service is "down")."""
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would not.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def post_concurrently(
    urls: list[str],
    key: str,
    clients: int,
    per_client: int,
    stop: object | None = None,
    created: list[int] | None = None,
) -> tuple[list[int], list[int]]:
    """``clients`` threads each posting ``per_client`` tickets (round-robin over ``urls``).

    Returns (ids of tickets that got 201, status codes of every other answer). A client
    stops at its first connection error, or when the ``stop`` event is set. Pass ``created``
    to watch the acknowledged ids grow while the load runs.
    """
    import threading

    created = [] if created is None else created
    failures: list[int] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        base = urls[number % len(urls)]
        for i in range(per_client):
            if stop is not None and stop.is_set():
                return
            try:
                response = session.post(
                    f"{base}/tickets",
                    json={
                        "title": f"Client {number} ticket {i}",
                        "description": "Écran noir au démarrage",
                    },
                    timeout=30,
                )
            except requests.RequestException:
                return
            with lock:
                if response.status_code == 201:
                    created.append(response.json()["id"])
                else:
                    failures.append(response.status_code)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return created, failures


def all_ticket_ids(base_url: str, key: str) -> list[int]:
    """Every ticket id visible to ``key``, paging through GET /tickets."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    ids: list[int] = []
    offset = 0
    while True:
        page = session.get(
            f"{base_url}/tickets", params={"limit": 100, "offset": offset}, timeout=30
        ).json()
        ids += [t["id"] for t in page["items"]]
        offset += 100
        if offset >= page["total"]:
            return ids


BUILT_IN_PLUGINS = (
    "create_ticket,read_ticket,delete_ticket,comment_ticket,close_ticket,reopen_ticket,"
    "entities,fallback,small_talk"
)
"""TICKETBOT_LOAD_PLUGINS value that loads only the plugins shipped with ticketbot."""


def built_in_parser():
    """``(plugins, parser)``: the built-in plugins and a parser on the shipped intent model."""
    import pytest

    from ticketbot.nlu.loader import load_intent_model
    from ticketbot.nlu.parser import Parser
    from ticketbot.paths import shipped_model
    from ticketbot.plugin_manager import get_plugin_manager

    model, _ = load_intent_model(shipped_model("intent"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TICKETBOT_LOAD_PLUGINS", BUILT_IN_PLUGINS)
        plugins = get_plugin_manager()
        plugins.intents  # noqa: B018 - registered while the variable is set
    return plugins, Parser.for_plugins(model, plugins)


def spawn_shell(data_dir: Path, cwd: Path, **env: str):
    """The real ``ticketbot shell`` in a pseudo-terminal (pexpect), not yet at its prompt."""
    import pexpect

    command, *args = ticketbot_command("shell")
    return pexpect.spawn(
        command,
        args,
        cwd=str(cwd),
        env={
            **os.environ,
            "TICKETBOT_DATA_DIR": str(data_dir),
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "TERM": "xterm",
            **env,
        },
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of metric ``name`` (with ``labels``) in a Prometheus text exposition."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
        if not labels and line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{wanted}}} not in metrics")
