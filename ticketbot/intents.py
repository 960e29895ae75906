"""Intents: what the bot understands, as plugins register them."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ticketbot.entities import ENTITY_NAME

if TYPE_CHECKING:
    from ticketbot.dialogue import Turn

LANGUAGES = ("fr", "en")
OUT_OF_SCOPE = "out_of_scope"
MIN_EXAMPLES_PER_LANGUAGE = 5
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,48}[a-z0-9]$")

Handler = Callable[["Turn"], None]


def valid_name(name: object) -> bool:
    """True for a valid intent name: lowercase ``snake_case``, 3 to 50 characters."""
    return isinstance(name, str) and bool(_NAME.match(name))


class InvalidIntent(ValueError):
    """An intent a plugin tried to register breaks the contract; the message says how."""


class IntentConflict(Exception):
    """Two plugins registered the same intent name."""

    def __init__(self, name: str, first: str, second: str) -> None:
        super().__init__(
            f"intent {name!r} is registered by two plugins: {first!r} and {second!r}. "
            f"Uninstall one of them, or leave one out with TICKETBOT_LOAD_PLUGINS "
            f"(e.g. TICKETBOT_LOAD_PLUGINS=-{second})."
        )
        self.name, self.plugins = name, (first, second)


@dataclass(frozen=True)
class Intent:
    """Something the bot can do, registered by a plugin through ``register_intents``.

    :param name: unique identifier, lowercase ``snake_case`` (e.g. ``"create_ticket"``).
    :param description: one line per language, ``{"fr": "...", "en": "..."}``, shown by
        ``help`` and the fallback answer.
    :param examples: training utterances per language, ``{"fr": [...], "en": [...]}``.
        The first example of each language is shown to users as an example.
    :param handler: called with a :class:`ticketbot.dialogue.Turn` to answer the user.
    :param expects: names of the entities the handler acts on, e.g. ``("ticket_id",)``: for
        lines understood as this intent, the extractors registered ``when_expected`` run too
        (so that "supprime 14" gives ``ticket_id`` 14).
    :param entities_from: the part of a line its entities are read from, when not all of it
        names them: a comment's text is no request ("commente le 12 : la salle 214 est
        froide" names ticket 12, never 214). Called with the line, returns a substring of it;
        None (the default) reads the whole line.
    """

    name: str
    description: Mapping[str, str]
    examples: Mapping[str, Sequence[str]]
    handler: Handler = field(compare=False)
    expects: Sequence[str] = ()
    entities_from: Callable[[str], str] | None = field(default=None, compare=False)

    def validate(self) -> None:
        """Raise :class:`InvalidIntent` unless the intent is usable."""
        if not valid_name(self.name):
            raise InvalidIntent(
                f"intent name {self.name!r} must be lowercase snake_case, 3 to 50 characters"
            )
        if self.name == OUT_OF_SCOPE:
            raise InvalidIntent(f"{OUT_OF_SCOPE!r} is reserved for the fallback")
        for language in LANGUAGES:
            line = self.description.get(language) if isinstance(self.description, Mapping) else None
            if not isinstance(line, str) or not line.strip() or "\n" in line:
                raise InvalidIntent(
                    f"intent {self.name!r}: description[{language!r}] must be one non-empty line"
                )
            examples = self.examples.get(language) if isinstance(self.examples, Mapping) else None
            if isinstance(examples, str) or not isinstance(examples, Sequence):
                raise InvalidIntent(f"intent {self.name!r}: examples[{language!r}] must be a list")
            usable = [e for e in examples if isinstance(e, str) and e.strip()]
            if len(usable) < MIN_EXAMPLES_PER_LANGUAGE:
                raise InvalidIntent(
                    f"intent {self.name!r}: needs at least {MIN_EXAMPLES_PER_LANGUAGE} examples "
                    f"in {language!r}, got {len(usable)}"
                )
        if not callable(self.handler):
            raise InvalidIntent(f"intent {self.name!r}: handler must be callable")
        if isinstance(self.expects, str) or not all(
            isinstance(name, str) and ENTITY_NAME.match(name) for name in self.expects
        ):
            raise InvalidIntent(
                f'intent {self.name!r}: expects must be a list of entity names, e.g. ("ticket_id",)'
            )
        if self.entities_from is not None and not callable(self.entities_from):
            raise InvalidIntent(
                f"intent {self.name!r}: entities_from must be a function of the line (or None)"
            )

    def example(self, language: str) -> str:
        """The example shown to users in ``language``."""
        return self.examples[language][0]


@dataclass(frozen=True)
class RegisteredIntent:
    """An intent and the plugin that registered it."""

    intent: Intent
    plugin: str


class IntentRegistry:
    """The intents registered by all plugins, in registration order."""

    def __init__(self) -> None:
        self._intents: dict[str, RegisteredIntent] = {}

    def register(self, intent: Intent, plugin: str) -> None:
        """Add ``intent`` from ``plugin``; raises :class:`InvalidIntent` or
        :class:`IntentConflict`."""
        if not isinstance(intent, Intent):
            raise InvalidIntent(f"register() expects a ticketbot.intents.Intent, got {intent!r}")
        intent.validate()
        existing = self._intents.get(intent.name)
        if existing is not None:
            raise IntentConflict(intent.name, existing.plugin, plugin)
        self._intents[intent.name] = RegisteredIntent(intent, plugin)

    def __contains__(self, name: object) -> bool:
        return name in self._intents

    def __iter__(self):
        return iter(self._intents.values())

    def __len__(self) -> int:
        return len(self._intents)

    def get(self, name: str) -> RegisteredIntent | None:
        """The registered intent called ``name``, or None."""
        return self._intents.get(name)

    def names(self) -> list[str]:
        """Intent names, in registration order."""
        return list(self._intents)

    def by_plugin(self) -> dict[str, str]:
        """``{intent name: plugin name}``."""
        return {name: entry.plugin for name, entry in self._intents.items()}

    def expects(self, name: str) -> Sequence[str]:
        """The entities intent ``name`` expects (none for an unknown intent)."""
        entry = self._intents.get(name)
        return entry.intent.expects if entry is not None else ()

    def entity_text(self, name: str, text: str) -> str:
        """The part of ``text`` where intent ``name`` reads its entities (see
        :attr:`Intent.entities_from`); all of it for an unknown intent or without a rule."""
        entry = self._intents.get(name)
        rule = entry.intent.entities_from if entry is not None else None
        return rule(text) if rule is not None else text

    def training_rows(self) -> list[tuple[str, str, str]]:
        """``(text, intent, language)`` for every example, in a stable order."""
        rows = []
        for name in sorted(self._intents):
            intent = self._intents[name].intent
            for language in LANGUAGES:
                rows.extend(
                    (text.strip(), name, language)
                    for text in intent.examples[language]
                    if isinstance(text, str) and text.strip()
                )
        return rows


def examples_from_csv(path: str | Path) -> dict[str, list[str]]:
    """Read training examples from a CSV with columns ``text,language`` (``fr`` or ``en``).

    Handy for plugins with many examples: ``examples=examples_from_csv(Path(__file__).parent
    / "data" / "my_intent.csv")``.
    """
    examples: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("text") or "").strip()
            language = (row.get("language") or "").strip()
            if text and language in examples:
                examples[language].append(text)
    return examples
