"""Nothing lost under load or faults, against real `ticketbot serve` processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import ServerProcess, TcpProxy, all_ticket_ids, post_concurrently

pytestmark = pytest.mark.e2e
CLIENTS, PER_CLIENT = 16, 50


def test_16_clients_create_800_tickets(database_url):
    with ServerProcess(database_url) as server:
        created, failures = post_concurrently([server.url], server.key, CLIENTS, PER_CLIENT)
        assert failures == []
        assert len(created) == CLIENTS * PER_CLIENT == len(set(created))
        stored = all_ticket_ids(server.url, server.key)
    assert sorted(stored) == sorted(created)


def test_kill_9_during_load_loses_no_acknowledged_ticket(database_url):
    server = ServerProcess(database_url).start()
    stop = threading.Event()
    acknowledged: list[int] = []
    result: dict[str, tuple] = {}
    load = threading.Thread(
        target=lambda: result.update(
            out=post_concurrently([server.url], server.key, CLIENTS, 10_000, stop, acknowledged)
        )
    )
    load.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 100:
        assert time.monotonic() < deadline, "the load did not get going"
        time.sleep(0.01)
    server.kill()
    stop.set()
    load.join(timeout=60)
    created, failures = result["out"]
    assert len(created) >= 100
    assert not [status for status in failures if status >= 500]
    restarted = ServerProcess(database_url)
    restarted.key = server.key
    with restarted:
        stored = set(all_ticket_ids(restarted.url, restarted.key))
        assert set(created) <= stored
        follow_up = restarted.session().post(
            f"{restarted.url}/tickets", json={"title": "après le crash"}, timeout=10
        )
        assert follow_up.status_code == 201 and follow_up.json()["id"] not in stored


def test_two_servers_on_one_postgresql_database(postgres_url):
    from tests.support import reset_postgres_tables

    reset_postgres_tables(postgres_url)
    first = ServerProcess(postgres_url).start()
    second = ServerProcess(postgres_url)
    second.key = first.key
    try:
        second.start()
        created, failures = post_concurrently(
            [first.url, second.url], first.key, CLIENTS, PER_CLIENT
        )
        assert failures == []
        assert len(created) == CLIENTS * PER_CLIENT == len(set(created))
        assert sorted(all_ticket_ids(second.url, first.key)) == sorted(created)
    finally:
        first.stop()
        second.stop()


def assert_unavailable(server: ServerProcess) -> None:
    response = server.session().post(
        f"{server.url}/tickets", json={"title": "VPN en panne"}, timeout=30
    )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "database is unreachable" in response.json()["detail"]
    assert response.headers["retry-after"]
    health = requests.get(f"{server.url}/health", timeout=30)
    assert health.status_code == 503 and health.json()["database"] is False


def wait_recovered(server: ServerProcess) -> None:
    deadline = time.monotonic() + 20
    while True:
        response = server.session().post(
            f"{server.url}/tickets", json={"title": "de retour"}, timeout=30
        )
        if response.status_code == 201:
            break
        assert response.status_code == 503 and time.monotonic() < deadline, response.text
        time.sleep(0.2)
    assert requests.get(f"{server.url}/health", timeout=30).json()["database"] is True


def test_postgresql_unreachable_then_back(postgres_url):
    from tests.support import reset_postgres_tables

    reset_postgres_tables(postgres_url)
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname, parts.port or 5432).start()
    through_proxy = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    try:
        with ServerProcess(through_proxy) as server:
            assert (
                server.session()
                .post(f"{server.url}/tickets", json={"title": "avant"}, timeout=30)
                .status_code
                == 201
            )
            proxy.stop()
            assert_unavailable(server)
            proxy.start()
            wait_recovered(server)
            assert len(all_ticket_ids(server.url, server.key)) == 2
    finally:
        proxy.stop()


def test_sqlite_unreachable_then_back(tmp_path: Path):
    folder = tmp_path / "db"
    with ServerProcess(f"sqlite:///{folder / 'tickets.db'}") as server:
        assert (
            server.session()
            .post(f"{server.url}/tickets", json={"title": "avant"}, timeout=30)
            .status_code
            == 201
        )
        folder.rename(tmp_path / "moved")
        try:
            assert_unavailable(server)
        finally:
            (tmp_path / "moved").rename(folder)
        wait_recovered(server)
        assert len(all_ticket_ids(server.url, server.key)) == 2
