"""Generating training examples: templates with alternatives, and everyday-typing noise.

Hand-written examples stay the core of an intent; templates add the combinations nobody
writes by hand (each verb with each object, with and without "stp", a greeting, a number
in every form), and :func:`noisy` adds the way people type in a chat box (no accents, SMS
abbreviations, a slipped key). Plugin authors use the same functions for their intents::

    from ticketbot.nlu.variants import expand, sample

    BARE = "{je veux|je voudrais|} {voir|afficher} les stats{ stp| svp|}"
    examples = {"fr": HAND_WRITTEN_FR + sample(expand(BARE), 40, seed="stats-fr"), ...}

Everything is deterministic (no random module, no hash randomisation): the same templates
give the same examples on every machine and Python version, so the intent model that was
trained on them is recognised as up to date instead of being retrained at every start.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

from ticketbot.ml.text import strip_accents

__all__ = [
    "TemplateError",
    "combine",
    "expand",
    "fill",
    "generate",
    "noisy",
    "sample",
    "sample_template",
    "with_noise",
    "wrap",
]

MAX_EXPANSIONS = 100_000
"""A template may not stand for more sentences than this (a typo in a brace multiplies)."""


class TemplateError(ValueError):
    """A template is malformed; the message says where."""


def expand(template: str) -> list[str]:
    """Every sentence a template stands for, in order, without duplicates.

    ``{a|b|c}`` is one of the alternatives; an empty alternative makes the part optional
    (``"ouvre{ moi|} un ticket"``); braces nest (``"{je {veux|voudrais}|peux-tu} ..."``).
    Spaces are squeezed, so optional words need no care about spacing. ``\\{`` and ``\\}``
    are literal braces. Raises :class:`TemplateError` for unbalanced braces or a template
    standing for more than :data:`MAX_EXPANSIONS` sentences.
    """
    parts, end = _parse(template, 0, top=True)
    if end != len(template):
        raise TemplateError(f"unbalanced '}}' at position {end} in {template!r}")
    sentences = _combine(parts, template)
    return list(dict.fromkeys(" ".join(s.split()) for s in sentences if s.strip()))


def _parse(template: str, position: int, top: bool) -> tuple[list, int]:
    """Parse a sequence of text and alternatives up to a closing brace (or the end)."""
    parts: list = []
    text: list[str] = []
    while position < len(template):
        char = template[position]
        if char == "\\" and position + 1 < len(template):
            text.append(template[position + 1])
            position += 2
            continue
        if char == "{":
            parts.append("".join(text))
            text = []
            options, position = _parse_options(template, position + 1)
            parts.append(options)
            continue
        if char in "|}":
            if top:
                raise TemplateError(
                    f"'{char}' outside braces at position {position} in {template!r}"
                )
            break
        text.append(char)
        position += 1
    parts.append("".join(text))
    return parts, position


def _parse_options(template: str, position: int) -> tuple[list[list], int]:
    options = []
    while True:
        option, position = _parse(template, position, top=False)
        options.append(option)
        if position >= len(template):
            raise TemplateError(f"unclosed '{{' in {template!r}")
        if template[position] == "}":
            return options, position + 1
        position += 1  # "|"


def _count(parts: list) -> int:
    """How many sentences a parsed sequence stands for (before duplicates are removed)."""
    total = 1
    for part in parts:
        if not isinstance(part, str):
            total *= sum(_count(option) for option in part)
    return total


def _sentence_at(parts: list, index: int) -> str:
    """The ``index``-th sentence of a parsed sequence, in :func:`expand`'s order (mixed-radix
    decoding, the last part varying fastest)."""
    chosen = [""] * len(parts)
    for position in range(len(parts) - 1, -1, -1):
        part = parts[position]
        if isinstance(part, str):
            chosen[position] = part
            continue
        index, digit = divmod(index, sum(_count(option) for option in part))
        for option in part:
            option_size = _count(option)
            if digit < option_size:
                chosen[position] = _sentence_at(option, digit)
                break
            digit -= option_size
    return "".join(chosen)


def sample_template(template: str, count: int, seed: str = "") -> list[str]:
    """``count`` sentences of a template picked evenly at random without expanding all of
    it (a template may stand for tens of thousands), the same ones on every run for one
    ``seed``; every sentence when it stands for fewer. Same syntax as :func:`expand`."""
    parts, end = _parse(template, 0, top=True)
    if end != len(template):
        raise TemplateError(f"unbalanced '}}' at position {end} in {template!r}")
    total = _count(parts)
    if total <= count:
        return expand(template)
    picked: dict[str, None] = {}
    attempt = 0
    while len(picked) < count and attempt < count * 20:
        index = int.from_bytes(_rank(seed, f"{template}\x00{attempt}")[:8], "big") % total
        sentence = " ".join(_sentence_at(parts, index).split())
        if sentence:
            picked.setdefault(sentence, None)
        attempt += 1
    return list(picked)


def _combine(parts: list, template: str) -> list[str]:
    sentences = [""]
    for part in parts:
        if isinstance(part, str):
            sentences = [s + part for s in sentences]
            continue
        choices = [c for option in part for c in _combine(option, template)]
        if len(sentences) * len(choices) > MAX_EXPANSIONS:
            raise TemplateError(
                f"{template!r} stands for more than {MAX_EXPANSIONS:,} sentences; split it"
            )
        sentences = [s + c for s in sentences for c in choices]
    return sentences


def _rank(seed: str, text: str) -> bytes:
    return hashlib.sha256(f"{seed}\x00{text}".encode()).digest()


def sample(sentences: Iterable[str], count: int, seed: str = "") -> list[str]:
    """``count`` sentences picked evenly at random, the same ones on every run for one
    ``seed``; all of them when there are fewer. Returned in their original order."""
    unique = list(dict.fromkeys(sentences))
    if count >= len(unique):
        return unique
    chosen = set(sorted(unique, key=lambda s: _rank(seed, s))[:count])
    return [s for s in unique if s in chosen]


def fill(sentences: Iterable[str], slot: str, values: Sequence[str], seed: str = "") -> list[str]:
    """Each sentence with every ``slot`` replaced by one of ``values``, picked per sentence
    (the same on every run): ``fill(["supprime le ticket NUM"], "NUM", ["12", "n°7"])``."""
    if not values:
        raise ValueError("fill() needs at least one value")
    filled = []
    for sentence in sentences:
        pick = int.from_bytes(_rank(seed, sentence)[:4], "big") % len(values)
        filled.append(sentence.replace(slot, values[pick]))
    return list(dict.fromkeys(filled))


def wrap(
    texts: Iterable[str], wrappers: Sequence[str], slot: str = "TEXT", seed: str = ""
) -> list[str]:
    """Each text put in one of the ``wrappers`` (picked per text, the same on every run) at
    ``slot``: ``wrap(["écran noir"], ["nouveau ticket : TEXT", "bonjour, TEXT merci"])``."""
    if not wrappers:
        raise ValueError("wrap() needs at least one wrapper")
    wrapped = []
    for text in texts:
        pick = int.from_bytes(_rank(seed, text)[:4], "big") % len(wrappers)
        wrapped.append(wrappers[pick].replace(slot, text))
    return list(dict.fromkeys(wrapped))


# Common French and English chat shorthands, applied word by word.
_SMS = {
    "je veux": "jveux",
    "je voudrais": "jvoudrais",
    "je suis": "chui",
    "je sais pas": "jsp",
    "j'ai": "jai",
    "j'arrive": "jarrive",
    "s'il te plaît": "stp",
    "s'il te plait": "stp",
    "s'il vous plaît": "svp",
    "s'il vous plait": "svp",
    "d'accord": "dac",
    "quelque chose": "qqch",
    "quelqu'un": "qqn",
    "il y a": "ya",
    "pourquoi": "pk",
    "quoi": "koi",
    "qui": "ki",
    "quand": "qd",
    "tout": "tt",
    "tous": "ts",
    "c'est": "c",
    "n'est": "nest",
    "pas": "pa",
    "fait": "fé",
    "très": "tré",
    "beaucoup": "bcp",
    "toujours": "tjrs",
    "aujourd'hui": "ajd",
    "avec": "avc",
    "dans": "ds",
    "pour": "pr",
    "vous": "vs",
    "nous": "ns",
    "bonjour": "bjr",
    "salut": "slt",
    "merci": "mrc",
    "message": "msg",
    "rendez-vous": "rdv",
    "mot de passe": "mdp",
    "ordinateur": "ordi",
    "please": "pls",
    "you": "u",
    "your": "ur",
    "are": "r",
    "thanks": "thx",
    "because": "bc",
    "tomorrow": "tmrw",
    "people": "ppl",
    "ticket": "tiket",
}
_SMS_PATTERN = re.compile(
    r"\b(" + "|".join(map(re.escape, sorted(_SMS, key=len, reverse=True))) + r")\b"
)


def noisy(text: str, seed: str = "") -> str:
    """``text`` typed the way people type in a chat box: one or two of lower case, accents
    dropped, chat shorthands ("jveux", "stp", "pls", "u"), apostrophes dropped, and one
    slipped key (a letter doubled, dropped or swapped with the next). Deterministic for a
    given ``seed``."""
    digest = _rank(seed, text)
    out = text
    if digest[0] % 2 == 0:
        out = out.lower()
    if digest[1] % 2 == 0:
        out = strip_accents(out)
    if digest[2] % 3 == 0:
        out = _SMS_PATTERN.sub(
            lambda m: _SMS[m.group(1).lower()] if m.group(1).islower() else m.group(1), out
        )
    if digest[3] % 4 == 0:
        out = out.replace("'", "").replace("’", "")
    if digest[4] % 2 == 0:
        out = _slip(out, digest[5:9])
    if out == text:
        out = _slip(strip_accents(text.lower()), digest[5:9])
    return out


def _slip(text: str, entropy: bytes) -> str:
    """One keyboard slip on a letter of a word of 4 letters or more."""
    words = [m for m in re.finditer(r"[^\W\d_]{4,}", text)]
    if not words:
        return text
    word = words[entropy[0] % len(words)]
    index = word.start() + 1 + entropy[1] % (len(word.group()) - 2)
    kind = entropy[2] % 3
    if kind == 0:
        return text[:index] + text[index] + text[index:]  # doubled
    if kind == 1:
        return text[:index] + text[index + 1 :]  # dropped
    return text[:index] + text[index + 1] + text[index] + text[index + 2 :]  # swapped


def with_noise(texts: Sequence[str], share: float, seed: str = "") -> list[str]:
    """``texts`` followed by noisy copies of a ``share`` of them (0.3: 30%), picked with
    :func:`sample`; copies equal to an original are left out."""
    picked = sample(texts, round(len(texts) * share), seed=seed)
    seen = set(texts)
    extra = []
    for text in picked:
        variant = noisy(text, seed=seed)
        if variant not in seen:
            seen.add(variant)
            extra.append(variant)
    return list(texts) + extra


def generate(
    templates: Mapping[str, Sequence[str]],
    count: Mapping[str, int],
    *,
    seed: str,
    slots: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    noise: float = 0.3,
) -> dict[str, list[str]]:
    """Examples per language from templates, ready for ``Intent(examples=...)``.

    For each language of ``templates``: ``count[language]`` sentences sampled from all their
    expansions, each ``slot`` filled (``slots={"NUM": {"fr": ["12", "n°7"], "en": [...]}}``),
    then noisy copies of a ``noise`` share of them (:func:`with_noise`).
    """
    generated = {}
    for language, language_templates in templates.items():
        sentences = _sample_templates(language_templates, count[language], f"{seed}-{language}")
        for slot, values in (slots or {}).items():
            sentences = fill(sentences, slot, values[language], seed=f"{seed}-{language}")
        generated[language] = with_noise(sentences, noise, seed=f"{seed}-{language}")
    return generated


def _sample_templates(templates: Sequence[str], count: int, seed: str) -> list[str]:
    """``count`` sentences from several templates, each giving its share of its size."""
    sizes = [_count(_parse(t, 0, top=True)[0]) for t in templates]
    total = sum(sizes)
    sentences: dict[str, None] = {}
    for template, size in zip(templates, sizes, strict=True):
        share = max(1, round(count * size / total)) if total > count else size
        sentences.update(dict.fromkeys(sample_template(template, share, seed=seed)))
    return list(sentences)


def combine(*example_sets: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Several ``{language: [examples]}`` into one, in order, without duplicates (the first
    spelling of examples that differ only in case is kept)."""
    combined: dict[str, dict[str, str]] = {}
    for examples in example_sets:
        for language, texts in examples.items():
            kept = combined.setdefault(language, {})
            for text in texts:
                kept.setdefault(text.strip().casefold(), text)
    return {language: list(kept.values()) for language, kept in combined.items()}
