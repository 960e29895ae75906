"""The learning-loop bench's core, on a slice of the bundled tickets and a phrasing they never
use: the agent's corrections of the first batch retrain the router, the API switches to the
new version, and the second batch in that phrasing is routed right."""

from __future__ import annotations

import random

from bench.learning_loop import run_loop, split_ticket
from ticketbot.api import BUNDLED_TICKETS
from ticketbot.ml.training import read_labelled_csv

TARGET = "Legal"
BATCH = 16
PLACES = "bâtiment A|bâtiment B|accueil|parking|étage 3|hall nord|salle 12|entrée sud".split("|")
FIRST = [
    "Le lecteur Saturne ne lit plus les cartes",
    "lecteur Saturne en panne encore",
    "Saturne refuse mon badge ce matin",
    "Saturne reader rejects every card",
    "Saturne reader broken again",
    "Saturne: carte refusée",
    "Saturne ne reconnaît plus personne",
    "Saturne reader is offline",
]
SECOND = [
    "le lecteur Saturne clignote rouge",
    "impossible de passer le lecteur Saturne",
    "the Saturne reader shows an error",
    "lecteur Saturne HS depuis lundi",
    "encore le lecteur Saturne qui bloque",
    "Saturne card reader not working",
    "mon badge ne passe plus sur Saturne",
    "Saturne reader stuck on red light",
]


def phrasing(titles: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{title}. {place}" for title in titles for place in rng.sample(PLACES, 2)]


def test_corrections_retrain_the_router_and_the_api_switches(tmp_path):
    texts, labels = read_labelled_csv(BUNDLED_TICKETS)
    order = random.Random(0).sample(range(len(texts)), 150)
    start_texts = [texts[i] for i in order]
    start_labels = [labels[i] for i in order]
    assert TARGET in start_labels
    new = phrasing(FIRST, 1) + phrasing(SECOND, 2)
    assert len(new) == 2 * BATCH

    result = run_loop(
        start_texts + new,
        start_labels + [TARGET] * len(new),
        tmp_path,
        start=len(start_texts),
        batch=BATCH,
    )

    first, second = result.batches
    assert first.routed_by == result.start_version
    assert first.accuracy <= 0.25, "the start model should not know the new phrasing"
    # Every misrouted ticket became a correction; about 1 in 5 is held out, the rest train.
    assert first.corrections == BATCH - first.correct
    assert first.sources["corrections"] + first.held_out_rows >= first.corrections
    assert 0 < first.sources["corrections"] <= first.corrections
    # The API routed the second batch with the version retrained after the first...
    assert second.routed_by == first.version != result.start_version
    # ...and it learnt the phrasing from the corrections.
    assert second.accuracy >= first.accuracy + 0.5
    assert second.corrections == first.corrections + BATCH - second.correct
    assert second.version != first.version
    assert result.text_mismatches == 0


def test_a_ticket_is_split_into_title_and_description_without_changing_its_words():
    text = "reset passwords for external accounts " * 5
    title, description = split_ticket(text)
    assert len(title) <= 80 and title.endswith("accounts")
    assert f"{title} {description}" == text.strip()
    assert split_ticket("short one") == ("short one", "")
    assert split_ticket("Subject line\nthe body\nmore") == ("Subject line", "the body\nmore")
    assert split_ticket("x" * 100) == ("x" * 80, "x" * 20)
