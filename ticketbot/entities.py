"""Entity extractors registered by plugins, and running them on a line."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

log = logging.getLogger("ticketbot.plugins")

Extractor = Callable[[str], Any]
_ENTITY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class EntityExtractors:
    """Named extractors; for each name the first one registered that finds a value wins."""

    def __init__(self) -> None:
        self._extractors: dict[str, list[tuple[str, Extractor]]] = {}

    def register(self, name: str, extractor: Extractor, plugin: str) -> None:
        """Add ``extractor`` for entity ``name`` from ``plugin``."""
        if not isinstance(name, str) or not _ENTITY_NAME.match(name):
            raise ValueError(f"entity name {name!r} must be lowercase snake_case")
        if not callable(extractor):
            raise ValueError(f"extractor for {name!r} must be callable")
        self._extractors.setdefault(name, []).append((plugin, extractor))

    def names(self) -> list[str]:
        """Entity names that have at least one extractor."""
        return list(self._extractors)

    def by_plugin(self) -> dict[str, list[str]]:
        """``{entity name: [plugin, ...]}``."""
        return {name: [p for p, _ in found] for name, found in self._extractors.items()}

    def extract(self, text: str) -> dict[str, Any]:
        """Every entity found in ``text``. A failing extractor is logged and skipped."""
        entities: dict[str, Any] = {}
        for name, candidates in self._extractors.items():
            for plugin, extractor in candidates:
                try:
                    value = extractor(text)
                except Exception:  # noqa: BLE001 - one plugin's bug must not stop the bot
                    log.warning(
                        "entity extractor %r of plugin %r failed", name, plugin, exc_info=True
                    )
                    continue
                if value is not None:
                    entities[name] = value
                    break
        return entities
