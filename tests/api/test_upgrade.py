"""Databases made by the last landed release (tests/fixtures/release_0_1/, made with its own
code) open with this code, and every ticket and key survives."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support import REPO, free_port, ticketbot_command, ticketbot_db, upgrade_at_once
from ticketbot.api.app import create_app
from ticketbot.api.migrations import LATEST
from ticketbot.api.settings import Settings

FIXTURES = REPO / "tests" / "fixtures" / "release_0_1"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
COMPARED = (
    "id",
    "title",
    "description",
    "department",
    "confidence",
    "ranking",
    "status",
    "needs_review",
    "model_version",
    "created_at",
)


def _restored(engine: str, tmp_path: Path, postgres_url: str | None) -> str:
    if engine == "sqlite":
        shutil.copy(FIXTURES / "tickets.db", tmp_path / "old.db")
        return f"sqlite:///{tmp_path / 'old.db'}"
    from tests.support import reset_postgres_tables

    reset_postgres_tables(postgres_url)
    subprocess.run(
        [
            "psql",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "-f",
            str(FIXTURES / "postgres.sql"),
            postgres_url,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return postgres_url


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_previous_release_database_opens_with_everything_in_it(engine, tmp_path, request):
    postgres_url = request.getfixturevalue("postgres_url") if engine == "postgresql" else None
    url = _restored(engine, tmp_path, postgres_url)
    expected = EXPECTED[engine]
    keys = expected["keys"]
    with TestClient(create_app(Settings(database_url=url))) as client:
        admin = {"Authorization": f"Bearer {keys['fixture-admin']}"}
        listed = client.get("/tickets", params={"limit": 100}, headers=admin).json()
        by_id = {t["id"]: t for t in listed["items"]}
        assert listed["total"] == len(expected["tickets"])
        for ticket in expected["tickets"]:
            got = by_id[ticket["id"]]
            assert {k: got[k] for k in COMPARED} == {k: ticket[k] for k in COMPARED}
        assert client.get("/health").json()["status"] == "ok"
        for ticket in expected["tickets"]:
            got = by_id[ticket["id"]]
            assert (got["priority"], got["assignee"]) == ("normal", None)
            assert got["predicted_department"] == ticket["department"]
            assert got["updated_at"] == ticket["created_at"]
            assert got["created_by"] == ticket["created_by"]
            (event,) = client.get(f"/tickets/{ticket['id']}/events", headers=admin).json()["items"]
            assert (event["kind"], event["by"], event["at"]) == (
                "created",
                ticket["created_by"],
                ticket["created_at"],
            )
            assert event["routing"] == {k: ticket[k] for k in event["routing"]}
        requester = {"Authorization": f"Bearer {keys['fixture-requester']}"}
        own = client.get("/tickets", headers=requester).json()["items"]
        assert {t["id"] for t in own} == {
            t["id"] for t in expected["tickets"] if t["created_by"] == "fixture-requester"
        }
        agent = {"Authorization": f"Bearer {keys['fixture-agent']}"}
        assert client.get("/tickets", headers=agent).status_code == 200
        revoked = {"Authorization": f"Bearer {keys['fixture-revoked']}"}
        assert client.get("/tickets", headers=revoked).status_code == 401
        new = client.post("/tickets", json={"title": "Souris HS"}, headers=admin).json()
        assert new["id"] > max([t["id"] for t in expected["tickets"]] + expected["deleted"])


def _counts(url: str) -> dict[str, int]:
    """Rows per table, read by the new code's models."""
    from ticketbot.api.db import close_database, connect_database
    from ticketbot.api.models import bind_models

    models = bind_models(connect_database(Settings(database_url=url)))
    try:
        with models.database.connection_context():
            created = models.event.select().where(models.event.kind == "created")
            return {
                "tickets": models.ticket.select().count(),
                "created_events": created.count(),
                "events_per_ticket": max(
                    (
                        models.event.select().where(models.event.ticket == t.id).count()
                        for t in models.ticket.select()
                    ),
                    default=0,
                ),
                "versions": models.schema_version.select().count(),
                "unbackfilled": models.ticket.select()
                .where(
                    (models.ticket.updated_at != models.ticket.created_at)
                    | (models.ticket.predicted_department != models.ticket.department)
                    | (models.ticket.priority != "normal")
                )
                .count(),
            }
    finally:
        close_database(models.database)


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_db_status_then_upgrade_by_hand(engine, tmp_path, request):
    postgres_url = request.getfixturevalue("postgres_url") if engine == "postgresql" else None
    url = _restored(engine, tmp_path, postgres_url)
    status = ticketbot_db("status", "--json", url=url)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {
        "version": 1,
        "latest": LATEST,
        "pending": list(range(2, LATEST + 1)),
    }
    assert "pending: 2" in ticketbot_db("status", url=url).stdout
    upgraded = ticketbot_db("upgrade", url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from schema version 1 to {LATEST}" in upgraded.stdout
    assert json.loads(ticketbot_db("status", "--json", url=url).stdout)["pending"] == []
    again = ticketbot_db("upgrade", url=url)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    tickets = len(EXPECTED[engine]["tickets"])
    assert _counts(url) == {
        "tickets": tickets,
        "created_events": tickets,
        "events_per_ticket": 1,
        "versions": 1,
        "unbackfilled": 0,
    }


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_processes_upgrading_at_once_migrate_once(engine, tmp_path, request):
    postgres_url = request.getfixturevalue("postgres_url") if engine == "postgresql" else None
    url = _restored(engine, tmp_path, postgres_url)
    codes, said = upgrade_at_once(url)
    assert codes == [0] * 4
    assert said == ["nothing"] * 3 + ["upgraded"]
    tickets = len(EXPECTED[engine]["tickets"])
    counts = _counts(url)
    assert counts["created_events"] == tickets and counts["events_per_ticket"] == 1
    assert counts["versions"] == 1


def test_an_empty_database_gets_the_latest_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert json.loads(ticketbot_db("status", "--json", url=url).stdout) == {
        "version": 0,
        "latest": LATEST,
        "pending": [LATEST],
    }
    assert ticketbot_db("upgrade", url=url).returncode == 0
    assert json.loads(ticketbot_db("status", "--json", url=url).stdout)["version"] == LATEST


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_database_newer_than_the_code_is_refused(engine, tmp_path, request):
    postgres_url = request.getfixturevalue("postgres_url") if engine == "postgresql" else None
    url = _restored(engine, tmp_path, postgres_url)
    assert ticketbot_db("upgrade", url=url).returncode == 0
    from ticketbot.api.db import close_database, connect_database
    from ticketbot.api.models import bind_models

    models = bind_models(connect_database(Settings(database_url=url)))
    with models.database.connection_context():
        models.schema_version.update(version=LATEST + 1).execute()
    close_database(models.database)
    before = _counts(url)
    for args in (("status",), ("upgrade",)):
        refused = ticketbot_db(*args, url=url)
        assert refused.returncode == 1
        assert f"schema version {LATEST + 1}, newer than this ticketbot" in refused.stderr
        assert "Traceback" not in refused.stderr
    serve = subprocess.run(
        ticketbot_command("serve", "--port", str(free_port()), "--database-url", url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode != 0 and "upgrade ticketbot" in serve.stderr
    assert "Traceback" not in serve.stderr
    assert _counts(url) == before
