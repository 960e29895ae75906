"""Helpers for testing ticketbot plugins, for plugin authors and for ticketbot itself.

A plugin author checks their plugin against the contract in one call::

    from ticketbot.testing import assert_plugin_contract, running_api
    import my_plugin

    def test_contract(tmp_path):
        with running_api(tmp_path) as api:
            assert_plugin_contract(my_plugin, api=api)

and drives conversations with :func:`converse` and a :class:`ScriptedChannel`. Whole
scripted conversations with their expected outcome (tickets created, deleted, kept) run
with :func:`run_conversation`, or ``ticketbot eval conversations --data FILE.json``.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
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
    log: list[str] = field(default_factory=list)
    """Everything shown, in order (messages, questions, and tables as lines)."""

    def say(self, text: str) -> None:
        self.said.append(text)
        self.log.append(text)

    def ask(self, prompt: str) -> str | None:
        self.asked.append(prompt)
        self.log.append(prompt)
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            self.log.append(f"> {answer}")
        return answer

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.tables.append((title, list(columns), [list(r) for r in rows]))
        self.log.append(" | ".join([title, *columns]))
        self.log.extend(" | ".join(map(str, row)) for row in rows)

    @property
    def transcript(self) -> str:
        """Everything the bot said, asked and showed, in order, as one text."""
        return "\n".join(self.log)

    def clear(self) -> None:
        """Forget what was recorded (answers left are kept)."""
        self.said.clear()
        self.asked.clear()
        self.tables.clear()
        self.log.clear()


@contextmanager
def running_api(
    directory: str | Path, *, plugins: Plugins | None = None, **settings: Any
) -> Iterator[ApiClient]:
    """A real ticket API on a free loopback port with a SQLite file in ``directory``.

    Yields an :class:`ApiClient` for it, with an admin key; extra keyword arguments override
    API settings. ``plugins`` (e.g. from :func:`plugins_with`) are the ones whose
    ``ticket_event`` hook the API calls; default: the installed plugins.
    """
    from ticketbot.api.settings import Settings
    from ticketbot.server import EmbeddedServer

    database = Path(directory) / "tickets.db"
    server = EmbeddedServer(
        Settings(database_url=f"sqlite:///{database}", **settings),
        key_file=Path(directory) / "api-key",
        plugins=plugins,
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
        entities=plugins.entity_extractors.extract(text, expected=plugins.intents.expects(intent)),
        language=language,
    )
    return Turn(parse, api, channel, plugins.intents, plugins.entity_extractors)


@dataclass
class Conversation:
    """A scripted conversation and what it must leave behind.

    ``lines`` are typed in order, each answering the prompt or the bot's pending question.
    ``setup`` tickets (``{"title", "description"}``) exist before it starts, numbered 1, 2...
    ``expect`` says what the conversation must do: ``created`` (each ``{"department",
    "contains": [words]}``, in order; the words must appear in the ticket's title or
    description, case and accents aside), ``deleted`` (setup ticket numbers; the other
    setup tickets must remain) and ``quit`` (whether the user left the bot).
    """

    id: str
    lines: list[str]
    setup: list[dict[str, str]] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    language: str = "fr"
    goal: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Conversation:
        """A conversation from its JSON form (see :func:`load_conversations`)."""
        return cls(
            id=str(data["id"]),
            lines=[str(line) for line in data["lines"]],
            setup=list(data.get("setup", [])),
            expect=dict(data.get("expect", {})),
            language=data.get("language", "fr"),
            goal=data.get("goal", ""),
        )


def load_conversations(path: str | Path) -> list[Conversation]:
    """Read a JSON array of conversations (the fields of :class:`Conversation`)."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON array of conversations")
    return [Conversation.from_dict(item) for item in data]


@dataclass
class ConversationOutcome:
    """How a scripted conversation went: ``problems`` is empty when it did what it must."""

    conversation: Conversation
    problems: list[str]
    transcript: str = ""
    deleted: set[int] = field(default_factory=set)
    """Numbers of the setup tickets the conversation deleted."""

    @property
    def ok(self) -> bool:
        """True when the outcome is the expected one."""
        return not self.problems


def _folded(text: str) -> str:
    from ticketbot.ml.text import strip_accents

    return strip_accents(text).casefold()


def deleted_setup_tickets(
    setup_ids: Sequence[int], tickets: Sequence[Mapping[str, Any]]
) -> set[int]:
    """The numbers (1, 2...) of the setup tickets no longer among ``tickets``."""
    remaining = {t["id"] for t in tickets}
    return {number for number, ticket_id in enumerate(setup_ids, 1) if ticket_id not in remaining}


def check_outcome(
    conversation: Conversation,
    setup_ids: Sequence[int],
    tickets: Sequence[Mapping[str, Any]],
    ended: bool,
) -> list[str]:
    """What differs between the tickets a conversation left (all of them, ``tickets``) and
    what it was expected to do; empty when nothing does."""
    expect = conversation.expect
    problems = []
    created = sorted((t for t in tickets if t["id"] not in setup_ids), key=lambda t: t["id"])
    wanted = expect.get("created", [])
    if len(created) != len(wanted):
        problems.append(f"{len(created)} tickets created, expected {len(wanted)}")
    for ticket, want in zip(created, wanted, strict=False):
        if ticket["department"] != want["department"]:
            problems.append(
                f"ticket {ticket['title']!r} routed to {ticket['department']}, "
                f"expected {want['department']}"
            )
        text = _folded(f"{ticket['title']}\n{ticket.get('description', '')}")
        missing = [w for w in want.get("contains", []) if _folded(w) not in text]
        if missing:
            problems.append(f"ticket {ticket['title']!r} does not contain {missing}")
    deleted = deleted_setup_tickets(setup_ids, tickets)
    if deleted != set(expect.get("deleted", [])):
        problems.append(
            f"deleted setup tickets {sorted(deleted)}, expected {sorted(expect.get('deleted', []))}"
        )
    if bool(expect.get("quit", False)) != ended:
        problems.append("the user left the bot" if ended else "the user did not leave the bot")
    return problems


def run_conversation(
    conversation: Conversation,
    plugins: Plugins,
    parser: Any,
    directory: str | Path | None = None,
) -> ConversationOutcome:
    """Play ``conversation`` against a fresh API (a real HTTP server on a new SQLite file in
    ``directory``, or a temporary one) through a :class:`ticketbot.bot.Bot`, and check what
    it left behind."""
    from ticketbot.bot import Bot

    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = stack.enter_context(tempfile.TemporaryDirectory())
        api = stack.enter_context(running_api(directory))
        setup_ids = [
            api.create_ticket(t["title"], t.get("description", ""))["id"]
            for t in conversation.setup
        ]
        channel = ScriptedChannel(list(conversation.lines))
        bot = Bot(plugins, api, channel, parser)
        while channel.answers and not bot.ended:
            line = channel.answers.pop(0)
            channel.log.append(f"> {line}")
            bot.handle(line)
        tickets = api.list_tickets(limit=100)["items"]
    problems = check_outcome(conversation, setup_ids, tickets, bot.ended)
    deleted = deleted_setup_tickets(setup_ids, tickets)
    return ConversationOutcome(conversation, problems, channel.transcript, deleted)


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
