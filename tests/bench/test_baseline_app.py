"""The throughput bench's baseline app stores a ticket like ticketbot does and answers with
the same schema: a baseline that only answers errors makes every ratio meaningless."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bench.baseline_app import create_app
from ticketbot.api.keys import open_key_store
from ticketbot.api.schemas import TicketOut
from ticketbot.api.settings import Settings


def test_the_baseline_creates_tickets(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'baseline.db'}")
    with open_key_store(settings) as store:
        _, key = store.create("bench", "admin")
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/tickets",
            json={"title": "Écran noir", "description": "bureau 3"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 201, response.text
    ticket = TicketOut.model_validate(response.json())
    assert (ticket.title, ticket.created_by, ticket.status) == ("Écran noir", "bench", "open")
    assert response.headers["Location"] == f"/tickets/{ticket.id}"
