"""Fixtures shared by the whole suite: isolated data directory, databases, API clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import postgres_admin_url, reset_postgres_tables

REPO = Path(__file__).resolve().parent.parent
POSTGRES_SKIP_REASON = (
    "TICKETBOT_TEST_DATABASE_URL is not set, so PostgreSQL tests are skipped "
    "(.ci/run sets it to postgresql://postgres@127.0.0.1:5432/test)"
)


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every test away from the real user's data directory and settings."""
    saved = dict(os.environ)
    os.environ["TICKETBOT_DATA_DIR"] = str(tmp_path_factory.mktemp("user-data"))
    for name in list(os.environ):
        if name.startswith("TICKETBOT_") and name not in (
            "TICKETBOT_DATA_DIR",
            "TICKETBOT_TEST_DATABASE_URL",
        ):
            del os.environ[name]
    # The example third-party plugins are installed by `make test`; the core tests run with
    # the built-in plugins (and the fakes they install), tests of the examples enable them.
    os.environ["TICKETBOT_LOAD_PLUGINS"] = "-ticketbot_stats,-ticketbot_webhook"
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end.

    Skips with a reason when ``TICKETBOT_TEST_DATABASE_URL`` is unset.
    """
    base = os.environ.get("TICKETBOT_TEST_DATABASE_URL")
    if not base:
        pytest.skip(POSTGRES_SKIP_REASON)
    import psycopg2

    name = f"ticketbot_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_admin_url(base))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, then (when configured) PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tickets.db'}"
    url = request.getfixturevalue("postgres_url")
    reset_postgres_tables(url)
    return url


@pytest.fixture
def api_settings(database_url: str):
    """API settings on the test database with the shipped department model."""
    from ticketbot.api.settings import Settings

    return Settings(database_url=database_url)


@pytest.fixture
def client(api_settings):
    """A TestClient on a fresh app (lifespan run, so the model and tables are loaded)."""
    from fastapi.testclient import TestClient

    from ticketbot.api.app import create_app

    with TestClient(create_app(api_settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {new_key(test_client, 'admin')}"
        yield test_client


def new_key(test_client, role: str, name: str | None = None) -> str:
    """Create a key of ``role`` in the app behind ``test_client``."""
    import uuid

    _, key = test_client.app.state.service.keys.create(
        name or f"{role}-{uuid.uuid4().hex[:8]}", role
    )
    return key


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """One line per distinct skip reason (instead of one per skipped test)."""
    from collections import Counter

    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"SKIPPED {count} tests: {reason}")


@pytest.fixture
def live_api(tmp_path: Path):
    """A real ticket API (HTTP, SQLite file) in a thread; yields its ApiClient."""
    from ticketbot.testing import running_api

    with running_api(tmp_path) as api:
        yield api


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path where tests "install" fake plugin distributions."""
    import sys

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    yield site
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            del sys.modules[name]
