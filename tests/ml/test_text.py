"""Text normalisation shared by the models and the search."""

from __future__ import annotations


def test_the_fast_accent_folding_equals_nfkd_on_any_text():
    """strip_accents folds Latin letters with a translation table; on any text (Latin,
    Greek, Cyrillic, CJK, ligatures, combining marks, emoji) it gives what NFKD gives."""
    import random

    from ticketbot.ml.text import _strip_accents_slowly, strip_accents

    rng = random.Random(7)
    alphabet = [chr(c) for c in [*range(0x20, 0x2000), *range(0x3000, 0x3100)]]
    alphabet += ["\ufb01", "\u2163", "\u00bd", "\U0001f600", "e\u0301", "\u00c5"]
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
        assert strip_accents(text) == _strip_accents_slowly(text), repr(text)
    assert (
        strip_accents("Écran noir, l'imprimante du 2ᵉ étage")
        == "Ecran noir, l'imprimante du 2e etage"
    )
