"""The /tickets endpoints, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

DEPARTMENTS = {"IT", "HR", "Finance", "Facilities", "Legal"}


def create(client, title: str, description: str = ""):
    response = client.post("/tickets", json={"title": title, "description": description})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_returns_routed_ticket_with_location(client):
    response = client.post(
        "/tickets",
        json={"title": "  VPN ne se connecte plus  ", "description": "Erreur 809 depuis ce matin"},
    )
    assert response.status_code == 201
    ticket = response.json()
    assert response.headers["location"] == f"/tickets/{ticket['id']}"
    assert ticket["title"] == "VPN ne se connecte plus"
    assert ticket["department"] == "IT"
    assert ticket["status"] == "open"
    assert 0 < ticket["confidence"] <= 1
    assert [r["department"] for r in ticket["ranking"]][0] == "IT"
    assert len(ticket["ranking"]) == 3
    assert {r["department"] for r in ticket["ranking"]} <= DEPARTMENTS
    scores = [r["score"] for r in ticket["ranking"]]
    assert scores == sorted(scores, reverse=True)
    assert ticket["model_version"].startswith("department-")
    created = datetime.fromisoformat(ticket["created_at"])
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60


def test_routes_each_department(client):
    examples = {
        "IT": "Mot de passe expiré, impossible d'ouvrir ma session Windows",
        "HR": "Question about my parental leave and how many weeks I can take",
        "Finance": "Note de frais du déplacement à Lyon pas encore remboursée",
        "Facilities": "The heating in meeting room 3 is broken, it's freezing",
        "Legal": "Please review the NDA before we sign with the new supplier",
    }
    for expected, title in examples.items():
        assert create(client, title)["department"] == expected, title


def test_needs_review_uses_the_threshold_chosen_at_training(client):
    classifier = client.app.state.service.classifier
    manifest_threshold = classifier.manifest["review"]["threshold"]
    assert classifier.review_threshold == manifest_threshold
    for title in ("Imprimante en panne au 2e étage", "chauffage", "facture", "clim du bureau"):
        ticket = create(client, title)
        assert ticket["needs_review"] == (ticket["confidence"] < manifest_threshold), ticket


@pytest.mark.parametrize(
    "text",
    ["bonjour", "ok", "test", "merci", "asdfgh qwerty", "???", "salut ça va", "ça marche pas"],
)
def test_a_text_with_nothing_to_route_is_flagged(client, text):
    assert create(client, text)["needs_review"] is True


def test_review_threshold_setting_overrides_the_manifest(api_settings):
    from fastapi.testclient import TestClient

    from tests.conftest import new_key
    from ticketbot.api.app import create_app

    settings = api_settings.model_copy(update={"review_threshold": 1.0})
    with TestClient(create_app(settings)) as strict:
        strict.headers["Authorization"] = f"Bearer {new_key(strict, 'admin')}"
        assert create(strict, "Imprimante en panne au 2e étage")["needs_review"] is True
        assert strict.app.state.service.classifier.review_threshold == 1.0


def test_classify_reports_needs_review_as_creation_sets_it(client):
    for text in ("Imprimante en panne au 2e étage", "bonjour", "chauffage", "NDA à relire"):
        classified = client.post("/classify", json={"text": text}).json()
        created = create(client, text)
        assert classified["needs_review"] == created["needs_review"], text
        assert classified["department"] == created["department"]


def test_read_and_delete(client):
    ticket = create(client, "Badge cassé", "Mon badge ne passe plus à l'accueil")
    read = client.get(f"/tickets/{ticket['id']}")
    assert read.status_code == 200
    assert read.json() == ticket
    assert client.delete(f"/tickets/{ticket['id']}").status_code == 204
    gone = client.get(f"/tickets/{ticket['id']}")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert client.delete(f"/tickets/{ticket['id']}").status_code == 404


def test_list_newest_first_with_pagination(client):
    ids = [create(client, f"Problème numéro {n} avec l'imprimante")["id"] for n in range(5)]
    page = client.get("/tickets", params={"limit": 2}).json()
    assert page["total"] == 5
    assert page["limit"] == 2 and page["offset"] == 0
    assert [t["id"] for t in page["items"]] == ids[::-1][:2]
    second = client.get("/tickets", params={"limit": 2, "offset": 2}).json()
    assert [t["id"] for t in second["items"]] == ids[::-1][2:4]
    assert client.get("/tickets").json()["limit"] == 20


def test_list_filters(client):
    it = create(client, "Écran noir sur mon portable", "L'ÉCRAN reste noir au démarrage")
    legal = create(client, "Relecture du contrat de prestation", "clause de confidentialité")
    by_department = client.get("/tickets", params={"department": "legal"}).json()
    assert [t["id"] for t in by_department["items"]] == [legal["id"]]
    for needle in ("ecran", "ÉCRAN", "écran noir"):
        found = client.get("/tickets", params={"q": needle}).json()
        assert [t["id"] for t in found["items"]] == [it["id"]], needle
    assert client.get("/tickets", params={"q": "confidentialité"}).json()["total"] == 1
    assert client.get("/tickets", params={"status": "open"}).json()["total"] == 2
    assert client.get("/tickets", params={"status": "closed"}).json()["total"] == 0
    assert client.get("/tickets", params={"department": "Unknown"}).json()["total"] == 0


def test_search_text_is_plain_data(client):
    create(client, "Imprimante 100% en panne", "toner_vide")
    assert client.get("/tickets", params={"q": "100%"}).json()["total"] == 1
    assert client.get("/tickets", params={"q": "toner_vide"}).json()["total"] == 1
    # Punctuation alone has no word to look for; quotes and operators are no syntax.
    for nothing in ("%", "_", "*", '"'):
        refused = client.get("/tickets", params={"q": nothing})
        assert refused.status_code == 422, nothing
        assert "no word to search for" in refused.json()["detail"]
    for syntax in ("' OR 1=1 --", 'panne" OR "x', "NEAR(panne toner)", "panne AND NOT x", "*"):
        assert client.get("/tickets", params={"q": f"{syntax} zz"}).json()["total"] == 0
    assert client.get("/tickets", params={"q": 'imprimante" "panne'}).json()["total"] == 1
    assert client.get("/tickets", params={"department": "IT' OR '1'='1"}).json()["total"] == 0


def test_classify_stores_nothing(client):
    response = client.post(
        "/classify", json={"text": "Je voudrais poser un congé parental de trois mois"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["department"] == "HR"
    assert body["ranking"][0] == {"department": "HR", "score": body["confidence"]}
    assert body["model_version"].startswith("department-")
    assert client.get("/tickets").json()["total"] == 0


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"] is True
    assert body["model_version"] == body["model"]["version"]
    assert sorted(body["model"]["labels"]) == sorted(DEPARTMENTS)
    assert body["model"]["cv_macro_f1"] > 0


def test_ticket_numbers_are_never_reused(client):
    first = create(client, "Souris cassée")
    assert client.delete(f"/tickets/{first['id']}").status_code == 204
    second = create(client, "Clavier cassé")
    assert second["id"] > first["id"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_classify_refuses_a_blank_text(client, text):
    response = client.post("/classify", json={"text": text})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_ticket_whose_first_event_fails_is_not_stored(client):
    """POST /tickets writes the ticket and its first event at once (one statement on
    PostgreSQL, one transaction on SQLite): if the event cannot be written, neither is."""
    import peewee

    from ticketbot.api.bulk import insert_with_child
    from ticketbot.api.models import utc_now

    service = client.app.state.service
    models, database = service.models, service.database
    before = client.get("/tickets").json()["total"]
    now = utc_now()
    values = {"title": "Orphan", "description": "", "department": "IT", "confidence": 0.5}
    values |= {"ranking": [], "model_version": "m", "search_text": "orphan"}
    values |= {"created_at": now, "updated_at": now, "needs_review": False, "revision": 1}
    values |= {"status": "open", "priority": "normal", "predicted_department": "IT"}
    routing = {k: values[k] for k in ("department", "confidence", "ranking", "model_version")}
    routing["needs_review"] = False
    broken_event = {"kind": None, "data": routing, "by": "x", "at": now, "internal": False}
    with database.connection_context(), pytest.raises(peewee.IntegrityError):
        service.write(
            lambda: insert_with_child(
                database, models.ticket, values, models.event, "ticket", broken_event
            ),
            one_statement=True,
        )
    assert client.get("/tickets").json()["total"] == before
    good_event = {**broken_event, "kind": "created"}
    with database.connection_context():
        number = service.write(
            lambda: insert_with_child(
                database, models.ticket, values, models.event, "ticket", good_event
            ),
            one_statement=True,
        )
    assert client.get(f"/tickets/{number}").json()["title"] == "Orphan"
    assert [e["kind"] for e in client.get(f"/tickets/{number}/events").json()["items"]] == [
        "created"
    ]
