"""Building the plugin manager and introspecting what plugins provide.

Plugins are found through the ``ticketbot`` entry-point group, built-in ones included.
``TICKETBOT_LOAD_PLUGINS`` narrows what is loaded: a comma-separated list of entry-point
names to load (empty: none), or names prefixed with ``-`` to leave out of the full set.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from ticketbot import hookspecs
from ticketbot.entities import EntityExtractors
from ticketbot.intents import IntentConflict, IntentRegistry, InvalidIntent

log = logging.getLogger("ticketbot.plugins")

ENTRY_POINT_GROUP = "ticketbot"
LOAD_PLUGINS_ENV = "TICKETBOT_LOAD_PLUGINS"
BUILT_IN_DISTRIBUTION = "ticketbot"


@dataclass(frozen=True)
class PluginProblem:
    """A plugin left out because it failed; shown as a warning, the bot goes on without it."""

    plugin: str
    distribution: str | None
    error: str

    def __str__(self) -> str:
        source = f" (from {self.distribution})" if self.distribution else ""
        return f"plugin {self.plugin!r}{source} was not loaded: {self.error}"


@dataclass(frozen=True)
class PluginOrigin:
    """Where a plugin comes from."""

    distribution: str | None
    version: str | None
    module: str

    @property
    def built_in(self) -> bool:
        """True for the plugins that ship with ticketbot."""
        return self.distribution == BUILT_IN_DISTRIBUTION


@dataclass
class Plugins:
    """A loaded plugin manager with what it knows about each plugin."""

    manager: pluggy.PluginManager
    origins: dict[str, PluginOrigin] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)

    @cached_property
    def intents(self) -> IntentRegistry:
        """Every intent registered through ``register_intents`` (computed once).

        A plugin whose hook fails or registers an invalid intent is reported in
        :attr:`problems` and contributes nothing; two plugins claiming one name raise
        :class:`ticketbot.intents.IntentConflict`.
        """
        registry = IntentRegistry()
        for plugin_name, function in self._implementations("register_intents"):
            staged = IntentRegistry()
            try:
                function(register=lambda intent, _s=staged, _p=plugin_name: _s.register(intent, _p))
            except (IntentConflict, KeyboardInterrupt):
                raise
            except BaseException as error:  # noqa: BLE001 - a broken plugin must not stop the bot
                self._fail(plugin_name, error)
                continue
            for entry in staged:
                registry.register(entry.intent, plugin_name)
        return registry

    @cached_property
    def entity_extractors(self) -> EntityExtractors:
        """Every extractor registered through ``register_entity_extractors``."""
        extractors = EntityExtractors()
        for plugin_name, function in self._implementations("register_entity_extractors"):
            staged: list[tuple[str, Any, bool]] = []

            def register(name, extractor, *, when_expected=False, _staged=staged):
                _staged.append((name, extractor, bool(when_expected)))

            try:
                function(register=register)
                checked = EntityExtractors()
                for name, extractor, when_expected in staged:
                    checked.register(name, extractor, plugin_name, when_expected=when_expected)
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # noqa: BLE001
                self._fail(plugin_name, error)
                continue
            for name, extractor, when_expected in staged:
                extractors.register(name, extractor, plugin_name, when_expected=when_expected)
        return extractors

    def _implementations(self, hook_name: str) -> list[tuple[str, Any]]:
        """``(plugin name, function)`` of a hook, in registration order."""
        caller = getattr(self.manager.hook, hook_name)
        return [(impl.plugin_name, impl.function) for impl in caller.get_hookimpls()]

    def _fail(self, plugin_name: str, error: BaseException) -> None:
        origin = self.origins.get(plugin_name)
        message = error if isinstance(error, InvalidIntent) else f"{type(error).__name__}: {error}"
        problem = PluginProblem(plugin_name, origin.distribution if origin else None, str(message))
        log.warning("%s", problem)
        self.problems.append(problem)

    def describe(self) -> list[dict[str, Any]]:
        """Every plugin: name, version, where it comes from, its intents, entities and hooks."""
        intents = self.intents.by_plugin()
        entities = self.entity_extractors.by_plugin()
        described = []
        for name, plugin in self.manager.list_name_plugin():
            if plugin is None:
                continue
            origin = self.origins.get(
                name, PluginOrigin(None, None, getattr(plugin, "__name__", repr(plugin)))
            )
            described.append(
                {
                    "name": name,
                    "version": origin.version,
                    "source": "built-in"
                    if origin.built_in
                    else (origin.distribution or "registered in code"),
                    "module": origin.module,
                    "intents": [i for i, p in intents.items() if p == name],
                    "entities": [e for e, ps in entities.items() if name in ps],
                    "hooks": sorted(h.name for h in self.manager.get_hookcallers(plugin) or []),
                }
            )
        return described


def selected_plugins(value: str | None) -> tuple[set[str] | None, set[str]]:
    """Parse ``TICKETBOT_LOAD_PLUGINS``: (names to load or None for all, names to leave out)."""
    if value is None:
        return None, set()
    names = [n.strip() for n in value.split(",") if n.strip()]
    excluded = {n[1:].strip() for n in names if n.startswith("-")}
    included = {n for n in names if not n.startswith("-")}
    if excluded and not included:
        return None, excluded
    return included, excluded


def get_plugin_manager(load_entry_points: bool = True) -> Plugins:
    """A fresh plugin manager: hook specs, then the ``ticketbot`` entry points, then checks.

    A plugin that fails to import or does not match the hook specifications is left out
    and reported in :attr:`Plugins.problems`; the rest still load.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    if load_entry_points:
        include, exclude = selected_plugins(os.environ.get(LOAD_PLUGINS_ENV))
        for entry_point in _entry_points():
            if entry_point.name in exclude or (
                include is not None and entry_point.name not in include
            ):
                continue
            _load(plugins, entry_point)
    _check_pending(plugins)
    return plugins


def _entry_points() -> list[EntryPoint]:
    seen: set[str] = set()
    unique = []
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        if entry_point.name not in seen:
            seen.add(entry_point.name)
            unique.append(entry_point)
    return unique


def _load(plugins: Plugins, entry_point: EntryPoint) -> None:
    distribution = entry_point.dist.name if entry_point.dist else None
    version = entry_point.dist.version if entry_point.dist else None
    try:
        plugin = entry_point.load()
        plugins.manager.register(plugin, name=entry_point.name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - report and go on without this plugin
        problem = PluginProblem(entry_point.name, distribution, f"{type(error).__name__}: {error}")
        log.warning("%s", problem)
        plugins.problems.append(problem)
        return
    plugins.origins[entry_point.name] = PluginOrigin(distribution, version, entry_point.value)


def _check_pending(plugins: Plugins) -> None:
    """Unregister plugins implementing hooks that do not exist (typos), reporting them."""
    while True:
        try:
            plugins.manager.check_pending()
            return
        except pluggy.PluginValidationError as error:
            name = plugins.manager.get_name(error.plugin) or repr(error.plugin)
            plugins.manager.unregister(error.plugin)
            origin = plugins.origins.pop(name, None)
            problem = PluginProblem(name, origin.distribution if origin else None, str(error))
            log.warning("%s", problem)
            plugins.problems.append(problem)
