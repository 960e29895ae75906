"""The ticket_event hook: called after each committed event, off the request, bounded in
queue and time, failures logged."""

from __future__ import annotations

import logging
import threading
import time

from fastapi.testclient import TestClient

from tests.conftest import new_key
from ticketbot import hookimpl
from ticketbot.api.app import create_app
from ticketbot.api.notify import EventNotifier, Listener
from ticketbot.api.settings import Settings
from ticketbot.testing import plugins_with


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)


class Recorder:
    """A plugin object recording the events it hears."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    @hookimpl
    def ticket_event(self, event):
        self.events.append(event)


def test_the_api_calls_the_hook_after_each_event(database_url):
    recorder = Recorder()
    plugins = plugins_with(recorder, load_entry_points=False)
    app = create_app(Settings(database_url=database_url), plugins=plugins)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {new_key(client, 'admin', 'root')}"
        created = client.post("/tickets", json={"title": "Le VPN coupe"}).json()
        number = created["id"]
        client.patch(f"/tickets/{number}", json={"priority": "urgent"})
        client.patch(f"/tickets/{number}", json={"priority": "urgent"})  # no change: no event
        assert client.patch(f"/tickets/{number}", json={"status": "done"}).status_code == 422
        comment = client.post(f"/tickets/{number}/comments", json={"body": "vu"}).json()
        client.delete(f"/tickets/{number}")
        wait_for(lambda: len(recorder.events) >= 4)
        time.sleep(0.1)
    events = recorder.events
    assert [e["type"] for e in events] == ["created", "updated", "commented", "deleted"]
    assert all(e["ticket_id"] == number and e["by"] == "root" for e in events)
    assert events[0]["ticket"] == created
    assert events[1]["changes"] == [{"field": "priority", "from": "normal", "to": "urgent"}]
    assert events[1]["ticket"]["priority"] == "urgent"
    assert events[2]["comment"] == comment
    assert events[3]["ticket"] is None and events[3]["changes"] == []
    assert len({e["id"] for e in events}) == 4
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


def test_a_failing_plugin_is_logged_and_the_others_still_hear(database_url, caplog):
    class Broken:
        @hookimpl
        def ticket_event(self, event):
            raise RuntimeError("mail server down")

    recorder = Recorder()
    plugins = plugins_with(Broken(), recorder, load_entry_points=False)
    app = create_app(Settings(database_url=database_url), plugins=plugins)
    with caplog.at_level(logging.ERROR, logger="ticketbot.api.events"), TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {new_key(client, 'admin')}"
        response = client.post("/tickets", json={"title": "Badge refusé"})
        assert response.status_code == 201
        wait_for(lambda: recorder.events and "mail server down" in caplog.text)
    assert "failed on the created event" in caplog.text
    assert "RuntimeError: mail server down" in caplog.text


def test_a_slow_plugin_is_left_behind(caplog):
    release = threading.Event()
    heard: list[int] = []

    def slow(event):
        if event["ticket_id"] == 1:
            release.wait(30)
        heard.append(event["ticket_id"])

    notifier = EventNotifier([Listener("slow", slow, ("event",))], time_limit=0.2)
    notifier.start()
    with caplog.at_level(logging.WARNING, logger="ticketbot.api.events"):
        for number in (1, 2, 3):
            notifier.publish({"type": "created", "ticket_id": number})
        wait_for(lambda: heard == [2, 3])
    assert "took longer than 0.2 s" in caplog.text
    assert notifier.counts["timed_out"] == 1
    release.set()
    wait_for(lambda: heard == [2, 3, 1])
    notifier.stop()


def test_a_plugins_calls_reuse_its_threads():
    heard: list[int] = []
    notifier = EventNotifier([Listener("quick", lambda event: heard.append(1), ("event",))])
    notifier.start()
    for number in range(200):
        notifier.publish({"type": "created", "ticket_id": number})
    wait_for(lambda: len(heard) == 200)
    threads = [t for t in threading.enumerate() if t.name == "ticketbot-event-quick"]
    assert len(threads) == 1  # one thread for 200 calls made one after the other
    assert all(t.daemon for t in threads)
    notifier.stop()


def test_a_full_queue_drops_events_without_waiting(caplog):
    release = threading.Event()
    started = threading.Event()

    def blocked(event):
        started.set()
        release.wait(30)

    notifier = EventNotifier(
        [Listener("blocked", blocked, ("event",))], queue_size=2, time_limit=30
    )
    notifier.start()
    with caplog.at_level(logging.WARNING, logger="ticketbot.api.events"):
        notifier.publish({"type": "created", "ticket_id": 1})
        started.wait(10)
        for number in range(2, 7):  # two fit in the queue, three are dropped
            notifier.publish({"type": "created", "ticket_id": number})
    assert notifier.counts["dropped"] == 3
    assert "event queue full" in caplog.text
    release.set()
    notifier.stop()
    assert notifier.counts["delivered"] == 3


def test_a_plugin_stuck_too_often_is_skipped(caplog):
    release = threading.Event()
    notifier = EventNotifier(
        [Listener("stuck", lambda event: release.wait(30), ("event",))], time_limit=0.05
    )
    notifier.start()
    with caplog.at_level(logging.WARNING, logger="ticketbot.api.events"):
        for number in range(6):
            notifier.publish({"type": "created", "ticket_id": number})
        wait_for(lambda: notifier.counts["timed_out"] + notifier.counts["skipped"] == 6)
    assert notifier.counts["timed_out"] == 4 and notifier.counts["skipped"] == 2
    assert "still running past the 0.05 s limit" in caplog.text
    release.set()
    notifier.stop()


def test_without_listeners_nothing_runs():
    notifier = EventNotifier([])
    notifier.start()
    notifier.publish({"type": "created", "ticket_id": 1})
    assert not notifier.active and notifier.queue.qsize() == 0
    notifier.stop()
