"""/health tells the truth about the database, and the service recovers by itself."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest


def _drop(client, table: str) -> None:
    import peewee

    database = client.app.state.service.database
    cascade = "" if isinstance(database, peewee.SqliteDatabase) else " CASCADE"
    with database.connection_context():
        database.execute_sql(f"DROP TABLE {table}{cascade}")


def test_health_is_ok_on_a_working_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["problem"] is None


@pytest.mark.parametrize("table", ["ticket", "api_key", "health_check"])
def test_lost_tables_are_created_again_and_said_in_the_log(client, caplog, table):
    client.post("/tickets", json={"title": "Écran noir", "description": ""})
    _drop(client, table)
    with caplog.at_level(logging.WARNING, logger="ticketbot.api"):
        response = client.get("/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert "created again" in caplog.text


def test_a_request_on_a_missing_table_gets_503_then_the_service_recovers(client):
    from tests.conftest import new_key

    _drop(client, "ticket")
    first = client.get("/tickets")
    assert first.status_code == 503, first.text
    assert first.headers["content-type"] == "application/problem+json"
    assert client.get("/tickets").status_code in (200, 401)
    client.headers["Authorization"] = f"Bearer {new_key(client, 'admin')}"
    assert client.get("/tickets").status_code == 200


def test_a_deleted_sqlite_file_is_noticed_and_the_service_recovers(tmp_path: Path):
    from fastapi.testclient import TestClient

    from ticketbot.api.app import create_app
    from ticketbot.api.settings import Settings

    database = tmp_path / "gone.db"
    with TestClient(create_app(Settings(database_url=f"sqlite:///{database}"))) as client:
        assert client.get("/health").status_code == 200
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        response = client.get("/health")
        assert response.status_code == 200 and database.exists()


def test_a_read_only_database_is_degraded_with_the_reason(tmp_path: Path):
    from fastapi.testclient import TestClient

    from ticketbot.api.app import create_app
    from ticketbot.api.settings import Settings

    database = tmp_path / "ro.db"
    with TestClient(create_app(Settings(database_url=f"sqlite:///{database}"))) as client:
        assert client.get("/health").status_code == 200
        files = [p for p in tmp_path.iterdir() if p.name.startswith("ro.db")]
        if subprocess.run(["chattr", "+i", *map(str, files)], capture_output=True).returncode:
            pytest.skip("chattr +i is not available on this file system")
        try:
            response = client.get("/health")
        finally:
            subprocess.run(["chattr", "-i", *map(str, files)], capture_output=True)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "degraded" and body["database"] is False
        assert "database" in body["problem"]


def test_sqlite_connections_get_the_cache_and_memory_map_settings(tmp_path: Path):
    from ticketbot.api.db import close_database, connect_database
    from ticketbot.api.settings import Settings

    url = f"sqlite:///{tmp_path / 'pragmas.db'}"
    for cache, mmap in ((64, 4096), (8, 0)):
        database = connect_database(
            Settings(database_url=url, sqlite_cache_mib=cache, sqlite_mmap_mib=mmap)
        )
        try:
            with database.connection_context():
                assert database.execute_sql("PRAGMA cache_size").fetchone()[0] == -1024 * cache
                mapped = database.execute_sql("PRAGMA mmap_size").fetchone()[0]
                # SQLite caps the map at its build's maximum (2 GiB here, by default).
                assert mapped == min(2**20 * mmap, mapped) and (mapped > 0) == (mmap > 0)
        finally:
            close_database(database)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("cost", "query", "expected"),
    [
        (1.1, "", {"random_page_cost": "1.1"}),
        (0, "", {"random_page_cost": None}),  # the server's own
        (2.5, "?options=-c%20work_mem%3D8MB", {"random_page_cost": "2.5", "work_mem": "8MB"}),
    ],
)
def test_postgres_sessions_get_the_planner_setting_and_keep_the_urls(
    postgres_url, cost, query, expected
):
    import psycopg2

    from ticketbot.api.db import close_database, connect_database
    from ticketbot.api.settings import Settings

    with psycopg2.connect(postgres_url) as plain, plain.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        servers = cursor.fetchone()[0]
    plain.close()
    expected = {name: servers if value is None else value for name, value in expected.items()}
    settings = Settings(database_url=postgres_url + query, postgres_random_page_cost=cost)
    database = connect_database(settings)
    try:
        with database.connection_context():
            for name, value in expected.items():
                assert database.execute_sql(f"SHOW {name}").fetchone()[0] == value
    finally:
        close_database(database)
