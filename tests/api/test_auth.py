"""API keys and roles: 401 without a valid key, 403 without the right, 404 for others' tickets."""

from __future__ import annotations

import hmac

import pytest

from tests.conftest import new_key

PROTECTED = [
    ("POST", "/tickets", {"title": "x"}),
    ("GET", "/tickets", None),
    ("GET", "/tickets/1", None),
    ("DELETE", "/tickets/1", None),
    ("POST", "/classify", {"text": "x"}),
]


def as_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer tb_" + "x" * 43, "tb_abc"],
)
def test_every_endpoint_but_health_needs_a_valid_key(client, method, path, body, header):
    headers = {"Authorization": header} if header else {}
    client.headers.pop("Authorization")
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert (
        "ticketbot keys create" in response.json()["detail"]
        or "unknown or revoked" in response.json()["detail"]
    )


def test_health_and_docs_need_no_key(client):
    client.headers.pop("Authorization")
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_requester_sees_only_its_own_tickets(client):
    alice, bob = new_key(client, "requester", "alice"), new_key(client, "requester", "bob")
    mine = client.post(
        "/tickets", json={"title": "Ma fiche de paie est fausse"}, headers=as_key(alice)
    ).json()
    theirs = client.post(
        "/tickets", json={"title": "Conflit avec mon manager"}, headers=as_key(bob)
    ).json()
    listed = client.get("/tickets", headers=as_key(alice)).json()
    assert [t["id"] for t in listed["items"]] == [mine["id"]] and listed["total"] == 1
    assert (
        client.get("/tickets", params={"q": "manager"}, headers=as_key(alice)).json()["total"] == 0
    )
    assert client.get(f"/tickets/{mine['id']}", headers=as_key(alice)).status_code == 200
    # Someone else's ticket looks exactly like a missing one.
    other = client.get(f"/tickets/{theirs['id']}", headers=as_key(alice))
    missing = client.get("/tickets/999999", headers=as_key(alice))
    assert other.status_code == missing.status_code == 404
    assert other.json()["title"] == missing.json()["title"]
    assert client.delete(f"/tickets/{theirs['id']}", headers=as_key(alice)).status_code == 404
    assert client.get(f"/tickets/{theirs['id']}").status_code == 200  # admin: still there
    assert client.delete(f"/tickets/{mine['id']}", headers=as_key(alice)).status_code == 204


def test_agent_reads_everything_but_cannot_write(client):
    requester, agent = new_key(client, "requester"), new_key(client, "agent")
    ticket = client.post(
        "/tickets", json={"title": "Imprimante HS"}, headers=as_key(requester)
    ).json()
    assert client.get("/tickets", headers=as_key(agent)).json()["total"] == 1
    assert client.get(f"/tickets/{ticket['id']}", headers=as_key(agent)).status_code == 200
    denied = client.delete(f"/tickets/{ticket['id']}", headers=as_key(agent))
    assert denied.status_code == 403 and "agent" in denied.json()["detail"]
    assert client.post("/tickets", json={"title": "x"}, headers=as_key(agent)).status_code == 403
    assert client.post("/classify", json={"text": "VPN"}, headers=as_key(agent)).status_code == 200


def test_admin_deletes_anyones_ticket(client):
    requester = new_key(client, "requester")
    ticket = client.post("/tickets", json={"title": "Badge"}, headers=as_key(requester)).json()
    assert client.delete(f"/tickets/{ticket['id']}").status_code == 204


def test_revoked_key_is_refused(client):
    key = new_key(client, "requester", "leaver")
    assert client.get("/tickets", headers=as_key(key)).status_code == 200
    client.app.state.service.keys.revoke("leaver")
    assert client.get("/tickets", headers=as_key(key)).status_code == 401


def test_only_a_hash_is_stored_and_compared_in_constant_time(client, monkeypatch):
    key = new_key(client, "agent", "auditor")
    listed = client.app.state.service.keys.list()
    assert key not in repr(listed)
    models = client.app.state.service.models
    with models.database.connection_context():
        row = models.api_key.get(models.api_key.name == "auditor")
    assert row.key_hash != key and len(row.key_hash) == 64 and key.startswith(row.prefix)
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    client.app.state.service.keys._cache.clear()
    assert client.get("/tickets", headers=as_key(key)).status_code == 200
    assert calls
