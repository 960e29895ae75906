"""Group commit on SQLite (ticketbot.api.group_commit): tickets created while the writer
works go in with one commit, each fails alone, and none is answered before it is stored."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import peewee
import pytest

from tests.support import metric_value
from ticketbot.api.db import connect_database
from ticketbot.api.group_commit import GroupCommit
from ticketbot.api.settings import Settings


def _wait_for(condition, what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def database(tmp_path: Path):
    database = connect_database(Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}"))
    with database.connection_context():
        database.execute_sql("CREATE TABLE row (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield database
    database.close_all()


def _insert(database: peewee.Database, names: str):
    """A job inserting a row per "+"-separated name, in order; returns the last id."""

    def job() -> int:
        for name in names.split("+"):
            number = database.execute_sql("INSERT INTO row (name) VALUES (?)", (name,)).lastrowid
        return number

    return job


def _stored(database: peewee.Database) -> list[str]:
    with database.connection_context():
        return [name for (name,) in database.execute_sql("SELECT name FROM row ORDER BY id")]


def _queued_behind_a_held_lock(group: GroupCommit, database, names: list[str], then=None):
    """Run one write per name in threads while the writer lock is held, release it once
    all are queued; returns each thread's outcome (its id, or its exception)."""

    def write(name: str):
        with database.connection_context():
            try:
                return group.run(_insert(database, name))
            except Exception as error:  # noqa: BLE001 - the outcome under test
                return error

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        with group._lock:
            futures = [pool.submit(write, name) for name in names]
            _wait_for(lambda: len(group._queue) == len(names), "every write to queue")
            if then:
                then()
        return [future.result(timeout=30) for future in futures]


def test_writes_queued_meanwhile_share_one_commit(database):
    group = GroupCommit(database, threading.Lock())
    outcomes = _queued_behind_a_held_lock(group, database, [f"t{i}" for i in range(8)])
    assert sorted(outcomes) == list(range(1, 9))
    assert (group.transactions, group.writes) == (1, 8)
    assert sorted(_stored(database)) == sorted(f"t{i}" for i in range(8))


def test_a_lone_write_commits_at_once_and_is_readable_when_run_returns(database):
    group = GroupCommit(database, threading.Lock())
    with database.connection_context():
        number = group.run(_insert(database, "alone"))
    assert number == 1
    assert _stored(database) == ["alone"]  # another connection sees it
    assert (group.transactions, group.writes) == (1, 1)


def test_a_failing_write_fails_alone_and_the_others_of_its_batch_commit(database):
    with database.connection_context():
        database.execute_sql("INSERT INTO row (name) VALUES ('taken')")
    group = GroupCommit(database, threading.Lock())
    # The second job's first row goes in, its second fails: the first is rolled back too.
    outcomes = _queued_behind_a_held_lock(group, database, ["a", "first+taken", "b", "c"])
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], peewee.IntegrityError)
    assert isinstance(outcomes[1], peewee.IntegrityError)
    assert sorted(_stored(database)) == ["a", "b", "c", "taken"]
    assert group.transactions == 1


def test_a_lone_failing_write_raises_its_error_and_leaves_nothing(database):
    group = GroupCommit(database, threading.Lock())

    def half_done() -> None:
        _insert(database, "half")()
        raise ValueError("the second row could not be built")

    with database.connection_context(), pytest.raises(ValueError, match="second row"):
        group.run(half_done)
    assert _stored(database) == []
    with database.connection_context():
        group.run(_insert(database, "next"))
    assert _stored(database) == ["next"]


def test_a_failed_commit_runs_each_write_again_alone(database, monkeypatch):
    group = GroupCommit(database, threading.Lock())
    real_commit = peewee.SqliteDatabase.commit
    failures = []

    def commit_failing_once(self):
        if not failures:
            failures.append(1)
            raise peewee.OperationalError("disk I/O error")
        return real_commit(self)

    names = ["a", "b", "c", "d"]
    outcomes = _queued_behind_a_held_lock(
        group,
        database,
        names,
        then=lambda: monkeypatch.setattr(peewee.SqliteDatabase, "commit", commit_failing_once),
    )
    assert failures == [1]
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert sorted(_stored(database)) == names  # each once: the failed batch left nothing


def test_concurrent_posts_are_stored_with_their_history(client):
    """On SQLite, POSTs queued behind the writer go in with one commit."""
    service = client.app.state.service
    group = service.group_commit  # None on PostgreSQL, which takes concurrent writers
    before = group.transactions if group else 0
    titles = [f"Écran noir au poste {i}" for i in range(6)]

    def post(title: str):
        return client.post("/tickets", json={"title": title, "description": "depuis ce matin"})

    with ThreadPoolExecutor(max_workers=len(titles)) as pool:
        with service.write_lock:
            futures = [pool.submit(post, title) for title in titles]
            if group:
                _wait_for(lambda: len(group._queue) == len(titles), "every POST to queue")
        responses = [future.result(timeout=30) for future in futures]
    assert [r.status_code for r in responses] == [201] * len(titles), responses[0].text
    if group:
        assert group.transactions == before + 1
        metrics = client.get("/metrics").text
        assert metric_value(metrics, "ticketbot_sqlite_writes_per_commit_sum") == len(titles)
        assert metric_value(metrics, "ticketbot_sqlite_writes_per_commit_count") == 1
    tickets = [r.json() for r in responses]
    assert len({t["id"] for t in tickets}) == len(titles)
    for ticket, title in zip(tickets, titles, strict=True):
        assert ticket["title"] == title
        assert client.get(f"/tickets/{ticket['id']}").json()["title"] == title
        events = client.get(f"/tickets/{ticket['id']}/events").json()["items"]
        assert [e["kind"] for e in events] == ["created"]
        assert events[0]["routing"]["department"] == ticket["department"]
    found = client.get("/tickets", params={"q": "ecran noir", "limit": 50}).json()
    assert {t["id"] for t in found["items"]} == {t["id"] for t in tickets}
