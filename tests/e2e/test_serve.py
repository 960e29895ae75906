"""A real ``ticketbot serve`` process, driven over HTTP with requests."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support import ServerProcess, free_port, ticketbot_command

pytestmark = pytest.mark.e2e


def test_create_list_read_delete_over_http(tmp_path: Path):
    database = tmp_path / "e2e.db"
    with ServerProcess(f"sqlite:///{database}") as server:
        http = server.session()
        created = http.post(
            f"{server.url}/tickets",
            json={"title": "Imprimante HS", "description": "Le bac papier est coincé"},
            timeout=10,
        )
        assert created.status_code == 201
        ticket = created.json()
        assert created.headers["location"] == f"/tickets/{ticket['id']}"

        listed = http.get(f"{server.url}/tickets", timeout=10).json()
        assert [t["id"] for t in listed["items"]] == [ticket["id"]]

        read = http.get(server.url + created.headers["location"], timeout=10)
        assert read.json() == ticket

        assert http.delete(f"{server.url}/tickets/{ticket['id']}", timeout=10).status_code == 204
        assert http.get(f"{server.url}/tickets/{ticket['id']}", timeout=10).status_code == 404
        assert requests.get(f"{server.url}/tickets", timeout=10).status_code == 401
    assert database.exists()


def test_serve_reports_busy_port_and_bad_url_in_one_line(tmp_path: Path):
    import socket
    import subprocess

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            ticketbot_command(
                "serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path}/x.db"
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "already in use" in result.stderr and "Traceback" not in result.stderr

    result = subprocess.run(
        ticketbot_command("serve", "--port", str(free_port()), "--database-url", "mysql://x/y"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "sqlite:///" in result.stderr and "Traceback" not in result.stderr


def tampered_copy(kind: str, directory: Path) -> Path:
    """A copy of a shipped model whose pickle was altered after its manifest was written."""
    import shutil

    from ticketbot.paths import shipped_model

    source = shipped_model(kind)
    copy = directory / source.name
    shutil.copy(source, copy)
    shutil.copy(source.with_suffix(".json"), copy.with_suffix(".json"))
    copy.write_bytes(copy.read_bytes() + b"\x80")
    return copy


def test_serve_refuses_a_tampered_department_model(tmp_path: Path):
    import os
    import subprocess

    model = tampered_copy("department", tmp_path)
    result = subprocess.run(
        ticketbot_command(
            "serve", "--port", str(free_port()), "--database-url", f"sqlite:///{tmp_path}/t.db"
        ),
        env={**os.environ, "TICKETBOT_DEPARTMENT_MODEL": str(model)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "does not match the SHA-256" in result.stderr
        and "ticketbot train department" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_shell_refuses_a_tampered_intent_model(tmp_path: Path):
    import os
    import subprocess

    model = tampered_copy("intent", tmp_path)
    result = subprocess.run(
        ticketbot_command("shell", "--model", str(model)),
        env={**os.environ, "TICKETBOT_DATA_DIR": str(tmp_path / "data")},
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "does not match the SHA-256" in result.stderr and "ticketbot train intent" in result.stderr
    )
    parse = subprocess.run(
        ticketbot_command("parse", "--model", str(model), "bonjour"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert parse.returncode == 1 and "ticketbot train intent" in parse.stderr


def test_start_up_lines_are_said_once(tmp_path: Path):
    from tests.support import ServerProcess

    server = ServerProcess(f"sqlite:///{tmp_path / 'once.db'}", "--log-level", "info").start()
    output = server.stop()
    assert output.count("tickets stored in") == 1, output
    assert output.count("department model") == 1, output
