"""Helpers for testing ticketbot plugins, for plugin authors and for ticketbot itself.

A plugin author checks their plugin against the contract in one call::

    from ticketbot.testing import assert_plugin_contract, running_api
    import my_plugin

    def test_contract(tmp_path):
        with running_api(tmp_path) as api:
            assert_plugin_contract(my_plugin, api=api)

and drives conversations with :func:`converse` and a :class:`ScriptedChannel`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ticketbot.client import ApiClient, ApiProblem
from ticketbot.dialogue import Turn
from ticketbot.intents import LANGUAGES, IntentRegistry
from ticketbot.nlu.model import Parse
from ticketbot.plugin_manager import Plugins, get_plugin_manager

MIN_EXAMPLES = 10
"""The contract asks for at least this many examples per language (20+ is better)."""

UNEXPECTED_INPUTS = (
    "",
    "   ",
    "?",
    "😀😀😀",
    "'; DROP TABLE ticket; --",
    "| rm -rf x > y",
    "ticket -1",
    "ticket 99999999999999999",
    "x" * 5000,
    "\x00\x07 contrôle",
)
"""Lines a handler must survive without crashing."""


@dataclass
class ScriptedChannel:
    """A channel that answers the bot's questions from a list and records everything said.

    ``answers`` are returned in order by :meth:`ask`; when they run out, :meth:`ask` returns
    None (as when the user presses Ctrl-D).
    """

    answers: list[str | None] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.said.append(text)

    def ask(self, prompt: str) -> str | None:
        self.asked.append(prompt)
        return self.answers.pop(0) if self.answers else None

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.tables.append((title, list(columns), [list(r) for r in rows]))

    @property
    def transcript(self) -> str:
        """Everything the bot said, asked and showed, as one text (handy in assertions)."""
        parts = self.said + self.asked
        for title, columns, rows in self.tables:
            parts.append(" | ".join([title, *columns]))
            parts.extend(" | ".join(row) for row in rows)
        return "\n".join(parts)

    def clear(self) -> None:
        """Forget what was recorded (answers left are kept)."""
        self.said.clear()
        self.asked.clear()
        self.tables.clear()


@contextmanager
def running_api(directory: str | Path, **settings: Any) -> Iterator[ApiClient]:
    """A real ticket API on a free loopback port with a SQLite file in ``directory``.

    Yields an :class:`ApiClient` for it, with an admin key; extra keyword arguments override
    API settings.
    """
    from api.settings import Settings
    from ticketbot.server import EmbeddedServer

    database = Path(directory) / "tickets.db"
    server = EmbeddedServer(
        Settings(database_url=f"sqlite:///{database}", **settings),
        key_file=Path(directory) / "api-key",
    )
    server.start()
    try:
        if not server.wait_ready(timeout=60):
            raise RuntimeError(f"the test API did not start: {server.error}")
        yield ApiClient(server.url, api_key=server.api_key)
    finally:
        server.stop()


def plugins_with(*extra: object, load_entry_points: bool = True) -> Plugins:
    """A plugin manager with the installed plugins plus ``extra`` plugin objects/modules."""
    plugins = get_plugin_manager(load_entry_points=load_entry_points)
    for plugin in extra:
        plugins.manager.register(plugin)
    return plugins


def make_turn(
    text: str,
    intent: str,
    *,
    api: ApiClient,
    channel: ScriptedChannel,
    plugins: Plugins,
    language: str = "fr",
) -> Turn:
    """A :class:`Turn` as the bot would build it for ``text`` understood as ``intent``."""
    parse = Parse(
        text=text,
        intent=intent,
        confidence=1.0,
        ranking=[(intent, 1.0)],
        entities=plugins.entity_extractors.extract(text),
        language=language,
    )
    return Turn(parse, api, channel, plugins.intents, plugins.entity_extractors)


def converse(bot: Any, *lines: str) -> str:
    """Send ``lines`` to a :class:`ticketbot.bot.Bot` and return what it said (its channel
    must be a :class:`ScriptedChannel`, which is cleared first)."""
    bot.channel.clear()
    for line in lines:
        bot.handle(line)
    return bot.channel.transcript


class ContractViolation(AssertionError):
    """A plugin does not meet the ticketbot plugin contract."""


def assert_plugin_contract(plugin: object, *, api: ApiClient) -> list[str]:
    """Check ``plugin`` (a module or object with hook implementations) against the contract.

    - it registers at least one valid intent, with names unique among the installed
      plugins and at least :data:`MIN_EXAMPLES` distinct examples in French and English, none
      of them also an example of another intent;
    - its handlers answer in French to a French line and in English to an English line;
    - its handlers do not crash on :data:`UNEXPECTED_INPUTS` (API errors are fine: the bot
      turns them into sentences) nor when the user gives up a question.

    Returns the names of the intents checked; raises :class:`ContractViolation`.
    """
    plugins = get_plugin_manager()
    name = plugins.manager.get_name(plugin) if plugins.manager.is_registered(plugin) else None
    if name is None:
        name = plugins.manager.register(plugin)
    registry = plugins.intents
    for problem in plugins.problems:
        if problem.plugin == name:
            raise ContractViolation(str(problem))
    mine = [entry for entry in registry if entry.plugin == name]
    if not mine:
        raise ContractViolation(f"plugin {name!r} registers no intent through register_intents")
    for entry in mine:
        _check_examples(entry.intent, registry)
        _check_languages(entry.intent, api, plugins)
        _check_robustness(entry.intent, api, plugins)
    return [entry.intent.name for entry in mine]


def _check_examples(intent: Any, registry: IntentRegistry) -> None:
    for language in LANGUAGES:
        examples = [e.strip() for e in intent.examples[language]]
        distinct = {e.casefold() for e in examples}
        if len(distinct) < MIN_EXAMPLES:
            raise ContractViolation(
                f"intent {intent.name!r}: {len(distinct)} distinct {language} examples, "
                f"the contract asks for at least {MIN_EXAMPLES}"
            )
        if len(distinct) < len(examples):
            raise ContractViolation(f"intent {intent.name!r}: duplicate {language} examples")
    own = {e.strip().casefold() for lang in LANGUAGES for e in intent.examples[lang]}
    for other in registry:
        if other.intent.name == intent.name:
            continue
        theirs = {e.strip().casefold() for lang in LANGUAGES for e in other.intent.examples[lang]}
        shared = own & theirs
        if shared:
            raise ContractViolation(
                f"intents {intent.name!r} and {other.intent.name!r} share examples: "
                f"{sorted(shared)[:3]}"
            )


def _run(
    intent: Any,
    text: str,
    language: str,
    api: ApiClient,
    plugins: Plugins,
    answers: Sequence[str | None] = (),
) -> ScriptedChannel:
    channel = ScriptedChannel(list(answers))
    turn = make_turn(
        text, intent.name, api=api, channel=channel, plugins=plugins, language=language
    )
    try:
        intent.handler(turn)
    except ApiProblem as problem:
        channel.say(problem.message(language))
    except Exception as error:  # noqa: BLE001 - turned into a contract violation
        raise ContractViolation(
            f"handler of {intent.name!r} crashed on {text[:60]!r} ({language}): "
            f"{type(error).__name__}: {error}"
        ) from error
    return channel


def _check_languages(intent: Any, api: ApiClient, plugins: Plugins) -> None:
    replies = {}
    for language in LANGUAGES:
        channel = _run(
            intent, intent.example(language), language, api, plugins, answers=["1", "non"]
        )
        if not channel.transcript.strip():
            raise ContractViolation(
                f"handler of {intent.name!r} said nothing to {intent.example(language)!r}"
            )
        replies[language] = channel.transcript
    if replies["fr"] == replies["en"]:
        raise ContractViolation(
            f"handler of {intent.name!r} gives the same answer in French and English: "
            f"{replies['fr'][:80]!r}; use turn.say(fr=..., en=...)"
        )


def _check_robustness(intent: Any, api: ApiClient, plugins: Plugins) -> None:
    for text in UNEXPECTED_INPUTS:
        for language in LANGUAGES:
            _run(intent, text, language, api, plugins)
            _run(intent, text, language, api, plugins, answers=[text, text, text])
