"""Databases made by release 0.2 (schema version 2; tests/fixtures/release_0_2/, made with that
release's own code) open with this code (the latest schema) losing nothing: every ticket with
every field, comments, history, keys and the audit log; and each department change the
history holds becomes one correction, as if the learning loop had recorded it at the time.

Every expected value comes from expected.json, written by the release itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support import REPO, postgres_admin_url, ticketbot_db, upgrade_at_once
from ticketbot.api.app import create_app
from ticketbot.api.migrations import LATEST
from ticketbot.api.settings import Settings

FIXTURES = REPO / "tests" / "fixtures" / "release_0_2"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
# The fields of a ticket in release 0.2's API (TicketOut).
FIELDS = (
    "id",
    "title",
    "description",
    "department",
    "predicted_department",
    "confidence",
    "ranking",
    "needs_review",
    "model_version",
    "status",
    "priority",
    "assignee",
    "created_by",
    "created_at",
    "updated_at",
)
CORRECTION_FIELDS = (
    "ticket",
    "from_department",
    "department",
    "by",
    "at",
    "predicted_department",
    "confidence",
    "model_version",
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def old_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of release 0.2's database, not yet opened by this code: a SQLite file in
    tmp_path, or postgres.sql restored into a fresh PostgreSQL database (dropped after)."""
    if engine == "sqlite":
        shutil.copy(FIXTURES / "tickets.db", tmp_path / "old.db")
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import psycopg2

    base = request.getfixturevalue("postgres_url")  # skips, with the reason, when unset
    name = f"upgrade_0_2_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_admin_url(base))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        subprocess.run(
            [
                "psql",
                "--quiet",
                "--set",
                "ON_ERROR_STOP=1",
                "-f",
                str(FIXTURES / "postgres.sql"),
                url,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _auth(expected: dict, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {expected['keys'][name]}"}


def _ticket(expected: dict, number: int) -> dict:
    (ticket,) = [t for t in expected["tickets"] if t["id"] == number]
    return ticket


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _expected_corrections(expected: dict) -> list[dict]:
    return [{**c, "at": _when(c["at"])} for c in expected["corrections"]]


def _corrections(models) -> list[dict]:
    """The correction rows, oldest first, as read by the new code's bound models."""
    correction = models.correction
    with models.database.connection_context():
        rows = correction.select().order_by(correction.at, correction.id)
        return [
            {
                "ticket": row.ticket_id,
                "from_department": row.from_department,
                "department": row.department,
                "by": row.by,
                "at": row.at,
                "predicted_department": row.predicted_department,
                "confidence": row.confidence,
                "model_version": row.model_version,
            }
            for row in rows
        ]


def _raw(models, sql: str) -> list[tuple]:
    with models.database.connection_context():
        return list(models.database.execute_sql(sql).fetchall())


def test_the_fixture_is_what_the_release_made():
    """The fixture itself: the life make_fixtures.py gave it (so a rebuilt fixture that lost
    a case fails here rather than making the other tests pass vacuously)."""
    for engine in ("sqlite", "postgresql"):
        expected = EXPECTED[engine]
        assert [t["id"] for t in expected["tickets"]] == list(range(1, 12))
        assert expected["deleted"] == [12]
        assert [
            (c["ticket"], c["from_department"], c["department"], c["by"])
            for c in expected["corrections"]
        ] == [
            (6, "Facilities", "IT", "fixture-agent-2"),
            (9, "HR", "Finance", "fixture-agent"),
            (9, "Finance", "HR", "fixture-agent-2"),
            (10, "Facilities", "IT", "fixture-agent"),
            (11, "Legal", "HR", "fixture-admin"),
        ]
        assert sum(t["event_counts"].get("commented", 0) for t in expected["tickets"]) == 6
        assert any(c["internal"] for t in expected["tickets"] for c in t["comments"])
        assert expected["revoked"] == ["fixture-revoked"]
    db = FIXTURES / "tickets.db"
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"
    assert "schema_version" in (FIXTURES / "postgres.sql").read_text()


def test_every_ticket_comes_back_with_every_field(engine, old_url):
    expected = EXPECTED[engine]
    with TestClient(create_app(Settings(database_url=old_url))) as client:
        admin = _auth(expected, "fixture-admin")
        listed = client.get("/tickets", params={"limit": 100}, headers=admin)
        assert listed.status_code == 200, listed.text
        assert listed.json()["total"] == len(expected["tickets"]) == 11
        by_id = {t["id"]: t for t in listed.json()["items"]}
        assert sorted(by_id) == [t["id"] for t in expected["tickets"]]
        for ticket in expected["tickets"]:
            got = by_id[ticket["id"]]
            assert {k: got[k] for k in FIELDS} == {k: ticket[k] for k in FIELDS}
            read = client.get(f"/tickets/{ticket['id']}", headers=admin)
            assert read.status_code == 200
            assert {k: read.json()[k] for k in FIELDS} == {k: ticket[k] for k in FIELDS}
            assert read.headers["etag"] == ticket["etag"]  # the revision survived
        assert client.get("/health").json()["status"] == "ok"


def test_comments_survive_and_internal_notes_stay_hidden_from_the_requester(engine, old_url):
    expected = EXPECTED[engine]
    with TestClient(create_app(Settings(database_url=old_url))) as client:
        for ticket in expected["tickets"]:
            for staff in ("fixture-admin", "fixture-agent"):
                got = client.get(
                    f"/tickets/{ticket['id']}/comments",
                    params={"limit": 100},
                    headers=_auth(expected, staff),
                )
                assert got.status_code == 200
                assert got.json()["items"] == ticket["comments"]
                assert got.json()["total"] == len(ticket["comments"])
        requester = _auth(expected, "fixture-requester")
        own = client.get("/tickets", params={"limit": 100}, headers=requester).json()["items"]
        assert {t["id"] for t in own} == {
            t["id"] for t in expected["tickets"] if t["created_by"] == "fixture-requester"
        }
        hidden = 0
        for ticket in expected["tickets"]:
            got = client.get(
                f"/tickets/{ticket['id']}/comments", params={"limit": 100}, headers=requester
            )
            if ticket["created_by"] != "fixture-requester":
                assert got.status_code == 404
                continue
            public = [c for c in ticket["comments"] if not c["internal"]]
            hidden += len(ticket["comments"]) - len(public)
            assert got.json()["items"] == public
            assert all(not c["internal"] for c in got.json()["items"])
        assert hidden == 2  # the two internal notes, on tickets 1 and 4


def test_the_history_is_kept_event_for_event(engine, old_url):
    expected = EXPECTED[engine]
    app = create_app(Settings(database_url=old_url))
    with TestClient(app) as client:
        admin = _auth(expected, "fixture-admin")
        requester = _auth(expected, "fixture-requester")
        for ticket in expected["tickets"]:
            got = client.get(
                f"/tickets/{ticket['id']}/events", params={"limit": 100}, headers=admin
            ).json()
            assert got["items"] == ticket["events"]
            assert got["total"] == sum(ticket["event_counts"].values())
            assert Counter(e["kind"] for e in got["items"]) == ticket["event_counts"]
            if ticket["created_by"] == "fixture-requester":
                seen = client.get(
                    f"/tickets/{ticket['id']}/events", params={"limit": 100}, headers=requester
                ).json()["items"]
                assert seen == [e for e in ticket["events"] if not e["internal"]]
        models = app.state.service.models
        rows = _raw(models, "SELECT ticket_id, kind FROM ticket_event")
        assert Counter(rows) == Counter(
            {
                (t["id"], kind): count
                for t in expected["tickets"]
                for kind, count in t["event_counts"].items()
            }
        )


def test_keys_still_authenticate_and_the_revoked_one_is_refused(engine, old_url):
    expected = EXPECTED[engine]
    with TestClient(create_app(Settings(database_url=old_url))) as client:
        for name, role in expected["roles"].items():
            me = client.get("/me", headers=_auth(expected, name))
            if name in expected["revoked"]:
                assert me.status_code == 401
                assert client.get("/tickets", headers=_auth(expected, name)).status_code == 401
            else:
                assert me.status_code == 200, me.text
                assert me.json() == {"name": name, "role": role}
        assert (
            client.get("/me", headers={"Authorization": "Bearer tb_not-a-key"}).status_code == 401
        )


def test_the_schema_is_at_the_latest_version_with_the_new_tables(engine, old_url):
    app = create_app(Settings(database_url=old_url))
    with TestClient(app):
        models = app.state.service.models
        assert _raw(models, "SELECT version FROM schema_version") == [(LATEST,)]
        with models.database.connection_context():
            tables = set(models.database.get_tables())
        assert {"correction", "model_version", "model_activation"} <= tables
        assert _raw(models, "SELECT COUNT(*) FROM model_version") == [(0,)]


@pytest.mark.parametrize(
    ("q", "title"),
    [
        ("acces parking", "Badge d'accès refusé au parking"),  # accents and the apostrophe
        ("ecran 214", "Écran noir au démarrage"),  # title and description
        ("809", "VPN drops every 5 minutes"),
        ("overtime", "Payslip for March is wrong"),
    ],
)
def test_the_old_tickets_are_found_by_their_words(engine, old_url, q, title):
    expected = EXPECTED[engine]
    with TestClient(create_app(Settings(database_url=old_url))) as client:
        found = client.get("/tickets", params={"q": q}, headers=_auth(expected, "fixture-admin"))
        assert found.status_code == 200, found.text
        assert [t["title"] for t in found.json()["items"]] == [title]


def test_each_department_change_in_the_history_becomes_one_correction(engine, old_url):
    expected = EXPECTED[engine]
    app = create_app(Settings(database_url=old_url))
    with TestClient(app):
        models = app.state.service.models
        got = _corrections(models)
        assert got == _expected_corrections(expected)
        for correction in got:  # confidence and model version: the ticket's own
            ticket = _ticket(expected, correction["ticket"])
            assert correction["confidence"] == ticket["confidence"]
            assert correction["model_version"] == ticket["model_version"]
            assert correction["predicted_department"] == ticket["predicted_department"]
        assert [c["ticket"] for c in got] == [6, 9, 9, 10, 11]
        deleted = {c["ticket"] for c in expected["deleted_department_changes"]}
        assert not deleted & {c["ticket"] for c in got}
        assert _raw(models, "SELECT COUNT(*) FROM correction") == [(5,)]


def test_opening_it_again_adds_no_correction_twice(engine, old_url):
    expected = EXPECTED[engine]
    for _ in range(2):
        app = create_app(Settings(database_url=old_url))
        with TestClient(app):
            assert _corrections(app.state.service.models) == _expected_corrections(expected)


def test_the_deleted_ticket_stays_deleted_and_its_number_is_never_reused(engine, old_url):
    expected = EXPECTED[engine]
    app = create_app(Settings(database_url=old_url))
    with TestClient(app) as client:
        admin = _auth(expected, "fixture-admin")
        (deleted,) = expected["deleted"]
        assert client.get(f"/tickets/{deleted}", headers=admin).status_code == 404
        assert client.get("/audit", headers=admin).json()["items"] == expected["audit"]
        models = app.state.service.models
        for table in ("ticket", "comment", "ticket_event", "correction"):
            column = "id" if table == "ticket" else "ticket_id"
            left = _raw(models, f"SELECT COUNT(*) FROM {table} WHERE {column} = {deleted}")
            assert left == [(0,)], table
        new = client.post(
            "/tickets",
            json={"title": "Souris sans fil HS"},
            headers=_auth(expected, "fixture-requester"),
        )
        assert new.status_code == 201, new.text
        number = new.json()["id"]
        assert number > max([t["id"] for t in expected["tickets"]] + [deleted])
        history = client.get(f"/tickets/{number}/events", headers=admin).json()["items"]
        assert [e["kind"] for e in history] == ["created"]
        assert [c["ticket"] for c in _corrections(models)] == [6, 9, 9, 10, 11]


def test_after_the_upgrade_an_agent_changing_a_department_adds_a_correction(engine, old_url):
    expected = EXPECTED[engine]
    untouched = _ticket(expected, 8)  # never changed by the release: Facilities, revision 1
    assert (untouched["department"], untouched["etag"]) == ("Facilities", '"8.1"')
    app = create_app(Settings(database_url=old_url))
    with TestClient(app) as client:
        models = app.state.service.models
        requester = client.patch(
            "/tickets/8", json={"department": "Legal"}, headers=_auth(expected, "fixture-requester")
        )
        assert requester.status_code == 403
        review = client.patch(
            "/tickets/8", json={"needs_review": True}, headers=_auth(expected, "fixture-agent")
        )
        assert review.status_code == 200 and review.headers["etag"] == '"8.2"'
        assert _corrections(models) == _expected_corrections(expected)  # no department change
        stale = client.patch(
            "/tickets/8",
            json={"department": "Legal"},
            headers={**_auth(expected, "fixture-agent"), "If-Match": untouched["etag"]},
        )
        assert stale.status_code == 412
        changed = client.patch(
            "/tickets/8",
            json={"department": "legal"},
            headers={**_auth(expected, "fixture-agent"), "If-Match": '"8.2"'},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["department"] == "Legal"
        assert changed.json()["predicted_department"] == "Facilities"
        got = _corrections(models)
        assert got[:-1] == _expected_corrections(expected)
        assert got[-1] == {
            "ticket": 8,
            "from_department": "Facilities",
            "department": "Legal",
            "by": "fixture-agent",
            "at": _when(changed.json()["updated_at"]),
            "predicted_department": untouched["predicted_department"],
            "confidence": untouched["confidence"],
            "model_version": untouched["model_version"],
        }
        assert got[-1]["at"] > max(c["at"] for c in _expected_corrections(expected))
        events = client.get("/tickets/8/events", headers=_auth(expected, "fixture-admin")).json()
        assert [(e["kind"], e["field"]) for e in events["items"]] == [
            ("created", None),
            ("changed", "needs_review"),
            ("changed", "department"),
            ("changed", "needs_review"),
        ]


def _corrections_of(url: str) -> list[dict]:
    from ticketbot.api.db import close_database, connect_database
    from ticketbot.api.models import bind_models

    models = bind_models(connect_database(Settings(database_url=url)))
    try:
        return _corrections(models)
    finally:
        close_database(models.database)


def test_db_status_then_upgrade_by_hand(engine, old_url):
    expected = EXPECTED[engine]
    status = ticketbot_db("status", "--json", url=old_url)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {
        "version": 2,
        "latest": LATEST,
        "pending": list(range(3, LATEST + 1)),
    }
    upgraded = ticketbot_db("upgrade", url=old_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from schema version 2 to {LATEST}" in upgraded.stdout
    assert json.loads(ticketbot_db("status", "--json", url=old_url).stdout)["pending"] == []
    again = ticketbot_db("upgrade", url=old_url)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert _corrections_of(old_url) == _expected_corrections(expected)


def test_processes_upgrading_at_once_back_fill_once(engine, old_url):
    expected = EXPECTED[engine]
    codes, said = upgrade_at_once(old_url)
    assert codes == [0] * 4
    assert said == ["nothing"] * 3 + ["upgraded"]
    assert _corrections_of(old_url) == _expected_corrections(expected)
