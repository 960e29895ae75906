"""Templates and typing noise for training examples (ticketbot.nlu.variants)."""

from __future__ import annotations

import pytest

from ticketbot.nlu.variants import (
    MAX_EXPANSIONS,
    TemplateError,
    combine,
    expand,
    fill,
    generate,
    noisy,
    sample,
    sample_template,
    with_noise,
    wrap,
)


def test_expand_alternatives_optional_parts_and_nesting():
    assert expand("{je {veux|voudrais}|peux-tu} ouvrir un ticket{ stp|}") == [
        "je veux ouvrir un ticket stp",
        "je veux ouvrir un ticket",
        "je voudrais ouvrir un ticket stp",
        "je voudrais ouvrir un ticket",
        "peux-tu ouvrir un ticket stp",
        "peux-tu ouvrir un ticket",
    ]


def test_expand_squeezes_spaces_drops_duplicates_and_keeps_escaped_braces():
    assert expand("{a|a} {|b} c") == ["a c", "a b c"]
    assert expand(r"\{x\}") == ["{x}"]


@pytest.mark.parametrize("template", ["{a|b", "a}b", "a|b", "{a|{b}"])
def test_malformed_templates_say_where(template):
    with pytest.raises(TemplateError, match="position|unclosed"):
        expand(template)


def test_a_template_standing_for_too_many_sentences_is_refused():
    huge = "{a|b|c|d|e|f|g|h|i|j}" * 6
    assert MAX_EXPANSIONS < 10**6
    with pytest.raises(TemplateError, match="split it"):
        expand(huge)


def test_sample_is_deterministic_per_seed_and_keeps_order():
    sentences = [f"phrase {i}" for i in range(100)]
    first = sample(sentences, 10, seed="s")
    assert first == sample(sentences, 10, seed="s") and len(first) == 10
    assert first == [s for s in sentences if s in first]
    assert first != sample(sentences, 10, seed="other")
    assert sample(sentences[:3], 10) == sentences[:3]


def test_fill_and_wrap_pick_one_value_per_sentence_deterministically():
    filled = fill(["supprime le ticket NUM", "montre NUM"], "NUM", ["12", "n°7", "#3"], seed="x")
    assert len(filled) == 2 and all("NUM" not in s for s in filled)
    assert filled == fill(
        ["supprime le ticket NUM", "montre NUM"], "NUM", ["12", "n°7", "#3"], seed="x"
    )
    wrapped = wrap(["écran noir"], ["nouveau ticket : TEXT", "bonjour, TEXT merci"])
    assert wrapped[0] in ("nouveau ticket : écran noir", "bonjour, écran noir merci")
    with pytest.raises(ValueError):
        fill(["a"], "NUM", [])


def test_noisy_changes_the_text_the_way_people_type_and_is_deterministic():
    text = "Je voudrais ouvrir un ticket s'il te plaît, mon écran ne s'allume plus"
    variants = {noisy(text, seed=str(i)) for i in range(20)}
    assert text not in variants and len(variants) > 5
    assert noisy(text, seed="a") == noisy(text, seed="a")
    assert any("ecran" in v for v in variants)  # accents dropped in some


def test_with_noise_adds_copies_and_generate_combines_per_language():
    base = [f"ouvre le ticket numéro {i} maintenant" for i in range(10)]
    noised = with_noise(base, 0.5, seed="t")
    assert noised[:10] == base and 10 < len(noised) <= 15
    generated = generate(
        {"fr": ["{montre|affiche} le ticket NUM"], "en": ["show ticket NUM"]},
        {"fr": 2, "en": 1},
        seed="g",
        slots={"NUM": {"fr": ["12"], "en": ["#4"]}},
        noise=0,
    )
    assert sorted(generated["fr"]) == ["affiche le ticket 12", "montre le ticket 12"]
    assert generated["en"] == ["show ticket #4"]
    assert combine({"fr": ["a", "B"]}, {"fr": ["b", "c"], "en": ["d"]}) == {
        "fr": ["a", "B", "c"],
        "en": ["d"],
    }


def test_sample_template_picks_without_expanding_everything_and_agrees_with_expand():
    template = "{je {veux|voudrais}|peux-tu} {ouvrir|créer|faire} un ticket{ stp| svp|}"
    everything = expand(template)
    assert sample_template(template, 100) == everything  # fewer than asked: all of them
    picked = sample_template(template, 5, seed="s")
    assert len(picked) == 5 and set(picked) <= set(everything)
    assert picked == sample_template(template, 5, seed="s")
    huge = "{a|b|c|d|e|f|g|h|i|j}" * 8  # 10^8 sentences: never expanded
    assert len(sample_template(huge, 20, seed="h")) == 20
