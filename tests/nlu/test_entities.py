"""Built-in entity extractors."""

from __future__ import annotations

import pytest

from plugins.entities import department, ticket_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("supprime le ticket 123", 123),
        ("show ticket 42", 42),
        ("#17", 17),
        ("statut du ticket #1587", 1587),
        ("la demande n°305 ?", 305),
        ("voir le ticket n° 64", 64),
        ("ou en est ma demande numero 7", 7),
        ("consulter le ticket numéro 4410", 4410),
        ("can you pull up request 566?", 566),
        ("l'incident 88213", 88213),
        ("ticket number 12", 12),
        ("TICKET 9", 9),
        ("mon écran 24 pouces clignote", None),
        ("j'ai 3 problèmes", None),
        ("meeting room 3 is cold", None),
        ("ticket 0", None),
        ("", None),
    ],
)
def test_ticket_id(text, expected):
    assert ticket_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("liste les tickets RH", "HR"),
        ("show me open IT tickets", "IT"),
        ("tickets it", "IT"),
        ("tickets du service informatique", "IT"),
        ("human resources tickets", "HR"),
        ("les tickets des ressources humaines", "HR"),
        ("tickets de la compta", "Finance"),
        ("finance tickets", "Finance"),
        ("services généraux", "Facilities"),
        ("facilities requests", "Facilities"),
        ("tickets juridique", "Legal"),
        ("legal team tickets", "Legal"),
        ("delete it", None),
        ("is it broken", None),
        ("liste les tickets", None),
    ],
)
def test_department(text, expected):
    assert department(text) == expected
