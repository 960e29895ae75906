"""`ticketbot keys` and the serve-time key checks."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import requests

from tests.support import ServerProcess, free_port, ticketbot_command


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(ticketbot_command(*args), capture_output=True, text=True, timeout=60)


def test_create_list_revoke(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    created = run("keys", "create", "--name", "alice", "--role", "requester", "--database-url", url)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n" and key.startswith("tb_") and len(key) > 40
    assert "shown only once" in created.stderr
    listed = run("keys", "list", "--json", "--database-url", url)
    (entry,) = json.loads(listed.stdout)["keys"]
    assert entry["name"] == "alice" and entry["role"] == "requester" and entry["revoked_at"] is None
    assert key not in listed.stdout and key not in run("keys", "list", "--database-url", url).stdout
    assert key not in (tmp_path / "keys.db").read_bytes().decode("latin-1")
    assert run("keys", "revoke", "alice", "--database-url", url).returncode == 0
    assert json.loads(run("keys", "list", "--json", "--database-url", url).stdout)["keys"][0][
        "revoked_at"
    ]
    again = run("keys", "revoke", "alice", "--database-url", url)
    assert again.returncode == 1 and "no active key named 'alice'" in again.stderr


def test_bad_key_requests_are_clear(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    assert (
        run("keys", "create", "--name", "bob", "--role", "admin", "--database-url", url).returncode
        == 0
    )
    duplicate = run("keys", "create", "--name", "bob", "--role", "admin", "--database-url", url)
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    bad_role = run("keys", "create", "--name", "eve", "--role", "root", "--database-url", url)
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
    bad_name = run("keys", "create", "--name", "a b", "--role", "agent", "--database-url", url)
    assert bad_name.returncode == 1 and "name must be" in bad_name.stderr


def test_serve_refuses_a_public_address_without_any_key(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'public.db'}"
    result = subprocess.run(
        ticketbot_command(
            "serve", "--host", "0.0.0.0", "--port", str(free_port()), "--database-url", url
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "refusing to listen on 0.0.0.0" in result.stderr
        and "ticketbot keys create" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_serve_on_a_public_address_with_a_key(tmp_path: Path):
    server = ServerProcess(f"sqlite:///{tmp_path / 'public.db'}", "--host", "0.0.0.0")
    with server:
        assert server.session().get(f"{server.url}/tickets", timeout=10).status_code == 200


def test_key_revoked_by_the_cli_stops_working_on_a_running_server(tmp_path: Path):
    with ServerProcess(f"sqlite:///{tmp_path / 'r.db'}") as server:
        key = server.create_key("requester", "temp")
        http = server.session(key)
        assert http.get(f"{server.url}/tickets", timeout=10).status_code == 200
        assert run("keys", "revoke", "temp", "--database-url", server.database_url).returncode == 0
        deadline = time.monotonic() + 10
        while http.get(f"{server.url}/tickets", timeout=10).status_code != 401:
            assert time.monotonic() < deadline, "revoked key still accepted after 10 s"
            time.sleep(0.5)
        assert requests.get(f"{server.url}/health", timeout=10).status_code == 200


def test_unreachable_database_is_one_clear_line():
    result = run("keys", "list", "--database-url", "postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    assert "cannot use the database postgresql://postgres@127.0.0.1:1/nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_key_name_with_a_final_newline_is_refused(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    result = run("keys", "create", "--name", "admin\n", "--role", "admin", "--database-url", url)
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_a_database_password_appears_in_no_message(tmp_path: Path):
    url = f"postgresql://someone:s3cr3t-pw@127.0.0.1:{free_port()}/nothing"
    listed = run("keys", "list", "--database-url", url)
    assert listed.returncode == 1
    assert "s3cr3t-pw" not in listed.stderr + listed.stdout and "***" in listed.stderr
    from ticketbot.api.db import redacted

    assert redacted(url) == url.replace("s3cr3t-pw", "***")
