"""Entity extractors registered by plugins, and running them on a line."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("ticketbot.plugins")

Extractor = Callable[[str], Any]
ENTITY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
"""What an entity name looks like: lowercase snake_case."""


class EntityExtractors:
    """Named extractors; for each name the first one registered that finds a value wins.

    An extractor registered ``when_expected`` runs only for lines whose intent expects that
    entity (:attr:`ticketbot.intents.Intent.expects`) and only when no ordinary extractor
    found it: a bare "14" is a ticket number in "supprime 14", never in a problem
    description such as "la salle 14 est froide".
    """

    def __init__(self) -> None:
        # name -> [(plugin, extractor, when_expected)], in registration order
        self._extractors: dict[str, list[tuple[str, Extractor, bool]]] = {}

    def register(
        self, name: str, extractor: Extractor, plugin: str, *, when_expected: bool = False
    ) -> None:
        """Add ``extractor`` for entity ``name`` from ``plugin``."""
        if not isinstance(name, str) or not ENTITY_NAME.match(name):
            raise ValueError(f"entity name {name!r} must be lowercase snake_case")
        if not callable(extractor):
            raise ValueError(f"extractor for {name!r} must be callable")
        self._extractors.setdefault(name, []).append((plugin, extractor, when_expected))

    def names(self) -> list[str]:
        """Entity names that have at least one extractor."""
        return list(self._extractors)

    def by_plugin(self) -> dict[str, list[str]]:
        """``{entity name: [plugin, ...]}``."""
        return {
            name: list(dict.fromkeys(plugin for plugin, _, _ in found))
            for name, found in self._extractors.items()
        }

    def extract(self, text: str, expected: Iterable[str] = ()) -> dict[str, Any]:
        """Every entity found in ``text``; for the names in ``expected`` that no ordinary
        extractor found, the ``when_expected`` extractors are tried too. A failing extractor
        is logged and skipped."""
        entities = self._run(text, when_expected=False, names=None)
        missing = {name for name in expected if name not in entities}
        if missing:
            entities.update(self._run(text, when_expected=True, names=missing))
        return entities

    def _run(self, text: str, when_expected: bool, names: set[str] | None) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        for name, candidates in self._extractors.items():
            if names is not None and name not in names:
                continue
            for plugin, extractor, expected_only in candidates:
                if expected_only != when_expected:
                    continue
                try:
                    value = extractor(text)
                except KeyboardInterrupt:
                    raise
                except BaseException:  # noqa: BLE001 - one plugin's bug must not stop the bot
                    log.warning(
                        "entity extractor %r of plugin %r failed", name, plugin, exc_info=True
                    )
                    continue
                if value is not None:
                    entities[name] = value
                    break
        return entities
