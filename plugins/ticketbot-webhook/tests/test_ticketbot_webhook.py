"""ticketbot-webhook against local receivers: delivered, retried, dropped after its limit,
and never in the way of the request that made the event."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import ticketbot_webhook

from ticketbot.testing import plugins_with, running_api


class Receiver:
    """A local HTTP receiver answering each POST with the next status of ``statuses`` (the
    last one repeats); ``hold`` makes it wait for :meth:`release` before answering."""

    def __init__(self, statuses=(200,), hold: bool = False) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        self.held = threading.Event()
        self.released = threading.Event()
        if not hold:
            self.released.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                receiver.held.set()
                receiver.released.wait(30)
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the webhook did not get there in time")
        time.sleep(0.02)


@pytest.fixture
def webhook_env(monkeypatch):
    def configure(url: str, **settings: str) -> None:
        monkeypatch.setenv("TICKETBOT_WEBHOOK_URLS", url)
        monkeypatch.setenv("TICKETBOT_WEBHOOK_BACKOFF", "0.05")
        for name, value in settings.items():
            monkeypatch.setenv(f"TICKETBOT_WEBHOOK_{name.upper()}", value)

    return configure


def api_with_webhook(tmp_path):
    return running_api(tmp_path, plugins=plugins_with(ticketbot_webhook, load_entry_points=False))


def test_every_event_is_delivered_signed(tmp_path, webhook_env):
    receiver = Receiver()
    webhook_env(receiver.url, secret="s3cret")
    try:
        with api_with_webhook(tmp_path) as api:
            ticket = api.create_ticket("Mon VPN ne se connecte plus")
            number = ticket["id"]
            api.update_ticket(number, {"status": "in_progress", "priority": "high"})
            api.add_comment(number, "Redémarrez le poste", internal=False)
            api.add_comment(number, "Note pour l'équipe", internal=True)
            api.delete_ticket(number)
            wait_for(lambda: len(receiver.requests) >= 4)
        events = receiver.events()
        assert [e["type"] for e in events] == ["created", "updated", "commented", "deleted"]
        assert {e["ticket_id"] for e in events} == {number}
        assert events[0]["ticket"]["department"] == ticket["department"]
        assert events[1]["changes"] == [
            {"field": "status", "from": "open", "to": "in_progress"},
            {"field": "priority", "from": "normal", "to": "high"},
        ]
        assert events[2]["comment"]["body"] == "Redémarrez le poste"
        assert events[3]["ticket"] is None
        assert len({e["id"] for e in events}) == 4
        for request in receiver.requests:
            expected = "sha256=" + hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
            assert request["headers"]["X-Ticketbot-Signature"] == expected
            assert request["headers"]["Content-Type"] == "application/json"
        assert [r["headers"]["X-Ticketbot-Event"] for r in receiver.requests] == [
            e["type"] for e in events
        ]
    finally:
        receiver.close()


def test_internal_notes_are_sent_only_when_asked(tmp_path, webhook_env):
    receiver = Receiver()
    webhook_env(receiver.url, internal="1")
    try:
        with api_with_webhook(tmp_path) as api:
            number = api.create_ticket("Imprimante en panne")["id"]
            api.add_comment(number, "Note interne", internal=True)
            wait_for(lambda: len(receiver.requests) >= 2)
        assert receiver.events()[1]["comment"]["internal"] is True
    finally:
        receiver.close()


def test_the_request_does_not_wait_for_the_receiver(tmp_path, webhook_env):
    receiver = Receiver(hold=True)
    webhook_env(receiver.url)
    try:
        with api_with_webhook(tmp_path) as api:
            api.create_ticket("Écran noir")
            receiver.held.wait(20)
            # The receiver still holds the first delivery; the API answers all the same.
            second = api.create_ticket("Clavier cassé")
            assert second["id"] and not receiver.released.is_set()
            receiver.release()
            wait_for(lambda: len(receiver.requests) >= 2)
    finally:
        receiver.close()


def test_failures_are_retried_with_the_same_delivery_id(tmp_path, webhook_env):
    receiver = Receiver(statuses=(503, 500, 200))
    webhook_env(receiver.url, retries="3")
    try:
        with api_with_webhook(tmp_path) as api:
            api.create_ticket("Le wifi coupe")
            wait_for(lambda: len(receiver.requests) >= 3)
            time.sleep(0.3)  # room for a wrong extra attempt to show up
        assert len(receiver.requests) == 3
        assert len({r["headers"]["X-Ticketbot-Delivery"] for r in receiver.requests}) == 1
    finally:
        receiver.close()


def test_dropped_after_its_limit(tmp_path, webhook_env, caplog):
    receiver = Receiver(statuses=(500,))
    webhook_env(receiver.url, retries="2")
    try:
        with (
            caplog.at_level(logging.WARNING, logger="ticketbot_webhook"),
            api_with_webhook(tmp_path) as api,
        ):
            api.create_ticket("Badge refusé")
            wait_for(lambda: "dropped after 3 attempts" in caplog.text)
            assert api.list_tickets()["total"] == 1
        assert len(receiver.requests) == 3
    finally:
        receiver.close()


def test_a_receiver_that_is_down(tmp_path, webhook_env, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    webhook_env(f"http://127.0.0.1:{port}/hook", retries="2", timeout="1")
    with (
        caplog.at_level(logging.WARNING, logger="ticketbot_webhook"),
        api_with_webhook(tmp_path) as api,
    ):
        created = api.create_ticket("Le chauffage ne marche plus")
        wait_for(lambda: "dropped after 3 attempts" in caplog.text)
        assert api.get_ticket(created["id"])["id"] == created["id"]
    assert "ConnectionError" in caplog.text


def test_a_refusal_is_not_retried(tmp_path, webhook_env, caplog):
    receiver = Receiver(statuses=(410,))
    webhook_env(receiver.url)
    try:
        with (
            caplog.at_level(logging.WARNING, logger="ticketbot_webhook"),
            api_with_webhook(tmp_path) as api,
        ):
            api.create_ticket("Souris HS")
            wait_for(lambda: "refused" in caplog.text)
        assert len(receiver.requests) == 1
        assert "HTTP 410" in caplog.text
    finally:
        receiver.close()


def test_settings(caplog):
    config = ticketbot_webhook.Config.from_env(
        {
            "TICKETBOT_WEBHOOK_URLS": "https://a.example/x, ftp://b  http://c.example",
            "TICKETBOT_WEBHOOK_TIMEOUT": "abc",
            "TICKETBOT_WEBHOOK_RETRIES": "-1",
        }
    )
    assert config.urls == ("https://a.example/x", "http://c.example")
    assert (config.timeout, config.retries, config.secret) == (5.0, 3, None)
    assert "'ftp://b' is not an http(s) URL" in caplog.text
    assert ticketbot_webhook.Config.from_env({}).urls == ()
