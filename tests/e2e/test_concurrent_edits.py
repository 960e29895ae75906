"""Agents editing one ticket at the same moment, through a real server with two worker
processes: with If-Match exactly one wins and the others get 412; without it every change
applies; the history records each applied change once, nothing is lost."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.support import ServerProcess

pytestmark = pytest.mark.e2e
AGENTS = 8


def _at_once(work, count: int) -> list:
    """Run ``work(i)`` on ``count`` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_simultaneous_edits(database_url):
    with ServerProcess(database_url, "--workers", "2") as server:
        admin = server.session()
        names = [f"agent{i}" for i in range(AGENTS)]
        sessions = [server.session(server.create_key("agent", name)) for name in names]
        number = admin.post(f"{server.url}/tickets", json={"title": "Imprimante HS"}).json()["id"]
        url = f"{server.url}/tickets/{number}"
        tags = {s.get(url).headers["etag"] for s in sessions}
        assert len(tags) == 1
        (tag,) = tags

        def take(i: int) -> int:
            response = sessions[i].patch(
                url,
                json={"assignee": names[i], "status": "in_progress"},
                headers={"If-Match": tag},
                timeout=30,
            )
            return response.status_code

        codes = _at_once(take, AGENTS)
        assert sorted(codes) == [200] + [412] * (AGENTS - 1)
        winner = names[codes.index(200)]
        ticket = admin.get(url).json()
        assert (ticket["assignee"], ticket["status"]) == (winner, "in_progress")

        # Without If-Match every change applies, one after the other: each agent comments
        # and moves the priority; nothing is lost.
        priorities = ["low", "high"] * (AGENTS // 2)

        def act(i: int) -> tuple[int, int]:
            comment = sessions[i].post(f"{url}/comments", json={"body": f"note {i}"}, timeout=30)
            patch = sessions[i].patch(url, json={"priority": priorities[i]}, timeout=30)
            return comment.status_code, patch.status_code

        assert _at_once(act, AGENTS) == [(201, 200)] * AGENTS
        comments = admin.get(f"{url}/comments", params={"limit": 100}).json()
        assert sorted(c["body"] for c in comments["items"]) == sorted(
            f"note {i}" for i in range(AGENTS)
        )
        events = admin.get(f"{url}/events", params={"limit": 100}).json()["items"]
        assert [e["kind"] for e in events].count("commented") == AGENTS
        changes = [e for e in events if e["kind"] == "changed"]
        assigned = [e for e in changes if e["field"] == "assignee"]
        assert [(e["from"], e["to"], e["by"]) for e in assigned] == [(None, winner, winner)]
        # Each recorded priority change starts from the value the one before it left.
        value = "normal"
        for event in (e for e in changes if e["field"] == "priority"):
            assert event["from"] == value
            value = event["to"]
        assert admin.get(url).json()["priority"] == value
        assert requests.get(f"{server.url}/health", timeout=5).json()["status"] == "ok"
