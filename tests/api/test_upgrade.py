"""Databases made by the last landed release (tests/fixtures/release_0_1/, made with its own
code) open with this code, and every ticket and key survives."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support import REPO
from ticketbot.api.app import create_app
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
