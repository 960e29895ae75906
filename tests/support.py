"""Helpers for tests: database resets, free ports, server processes."""

from __future__ import annotations

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
        cursor.execute("DROP TABLE IF EXISTS ticket, api_key CASCADE")
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
                "keys", "create", "--name", name or f"{role}-{uuid.uuid4().hex[:8]}",
                "--role", role, "--database-url", self.database_url,
            ),
            env=self.env, capture_output=True, text=True, timeout=60, check=True,
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
                "serve", "--port", str(self.port), "--database-url", self.database_url,
                "--log-level", "warning", *self.extra,
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
                raise RuntimeError(f"ticketbot serve exited with {self.process.returncode}:\n{output}")
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


FAKE_INTENT_PLUGIN = '''
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
'''
