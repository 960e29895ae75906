"""/metrics, the access log and request ids."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.conftest import new_key
from tests.support import metric_value
from ticketbot.api.app import create_app


def test_metrics_count_requests_tickets_review_and_show_the_model(client):
    client.post("/tickets", json={"title": "Imprimante en panne", "description": ""})
    client.post("/tickets", json={"title": "bonjour", "description": ""})
    client.post("/classify", json={"text": "NDA à relire"})
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert metric_value(text, "ticketbot_tickets_created_total", department="IT") >= 1
    assert (
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("ticketbot_tickets_needs_review_total{")
        )
        >= 1
    )  # "bonjour" has nothing to route
    assert metric_value(text, "ticketbot_http_requests_total", route="/tickets", status="201") == 2
    assert metric_value(text, "ticketbot_classification_duration_seconds_count") == 3
    version = client.app.state.service.classifier.version
    assert metric_value(text, "ticketbot_model_info", version=version) == 1
    assert "ticketbot_http_request_duration_seconds_bucket" in text


def test_metrics_need_a_key_unless_public_and_can_be_switched_off(api_settings):
    for mode, anonymous in (("key", 401), ("public", 200), ("off", 404)):
        with TestClient(create_app(api_settings.model_copy(update={"metrics": mode}))) as c:
            assert c.get("/metrics").status_code == anonymous, mode
            c.headers["Authorization"] = f"Bearer {new_key(c, 'requester')}"
            assert c.get("/metrics").status_code == (404 if mode == "off" else 200)


def test_every_response_has_a_request_id_and_one_access_line_without_the_key(client, caplog):
    key = client.headers["Authorization"].split()[1]
    with caplog.at_level(logging.INFO, logger="ticketbot.access"):
        answer = client.get("/tickets", headers={"X-Request-ID": "abc-123"})
        other = client.get("/health")
    assert answer.headers["x-request-id"] == "abc-123"
    assert len(other.headers["x-request-id"]) == 16
    lines = [r.getMessage() for r in caplog.records if r.name == "ticketbot.access"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /tickets 200 ") and "request_id=abc-123" in lines[0]
    assert "key=admin-" in lines[0] and key not in "".join(lines)
    assert "key=-" in lines[1]


@pytest.mark.parametrize("given", ["a b", "x" * 65, "<script>", "a;b"])
def test_a_strange_request_id_is_replaced(client, given):
    answer = client.get("/health", headers={"X-Request-ID": given})
    assert answer.headers["x-request-id"] != given and len(answer.headers["x-request-id"]) == 16


def test_the_access_log_can_be_switched_off(api_settings, caplog):
    app = create_app(api_settings.model_copy(update={"access_log": False}))
    with TestClient(app) as c, caplog.at_level(logging.INFO, logger="ticketbot.access"):
        c.get("/health")
    assert not [r for r in caplog.records if r.name == "ticketbot.access"]


@pytest.mark.e2e
def test_metrics_add_up_every_worker(tmp_path):
    from tests.support import ServerProcess

    with ServerProcess(f"sqlite:///{tmp_path / 'w.db'}", "--workers", "2") as server:
        session = server.session()
        for i in range(12):
            assert (
                session.post(
                    f"{server.url}/tickets", json={"title": f"Imprimante {i} en panne"}, timeout=30
                ).status_code
                == 201
            )
        totals = set()
        for _ in range(6):
            text = server.session().get(f"{server.url}/metrics", timeout=30).text
            totals.add(metric_value(text, "ticketbot_tickets_created_total", department="IT"))
    assert totals == {12.0}
