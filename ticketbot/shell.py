"""``ticketbot shell``: the console bot (cmd2).

Every line is a chat message except the few console commands (``help``/``aide``, ``plugins``,
``quit``/``exit``/``quitter``), so shell syntax (``|``, ``>``, ``<``, ``;``, ``&``, ``#``,
quotes, backslashes) is never executed, redirected, cut or dropped: chat lines do not go
through cmd2's command parser at all. cmd2's own power-user commands (``shell``, ``py``,
``run_script``, ``edit``, ``alias``, ``macro``, ``set``...) are removed.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import cmd2
from rich.table import Table
from rich.text import Text

from ticketbot.bot import Bot
from ticketbot.client import ApiClient
from ticketbot.paths import data_dir

log = logging.getLogger("ticketbot")

PROMPT = "ticketbot> "
EXIT_WORDS = frozenset({"quit", "exit", "quitter"})
HELP_WORDS = {"help": "en", "aide": "fr"}
COMMAND_LANGUAGES = {**HELP_WORDS, "quit": "en", "exit": "en", "quitter": "fr"}
FRENCH_COMMANDS = frozenset({"aide", "quitter"})
CONSOLE_COMMANDS = frozenset({"plugins"}) | EXIT_WORDS
REMOVED_COMMANDS = (
    "alias",
    "edit",
    "history",
    "ipy",
    "macro",
    "py",
    "run_pyscript",
    "run_script",
    "set",
    "shell",
    "shortcuts",
    "_relative_run_script",
)

INTRO = {
    "fr": "Bonjour ! Je suis ticketbot. Décrivez votre problème, ou demandez à voir, "
    "commenter, fermer ou rouvrir un ticket. Tapez « aide » pour voir ce que je sais faire, "
    "« quitter » pour sortir.",
    "en": "Hello! I'm ticketbot; type 'help' in English.",
}


# Escape sequences (CSI, OSC, and any other ESC-introduced one), then every control or
# direction-changing character but newline and tab. Text from the API (a shared database,
# a remote server) or from a plugin must not clear the screen, retitle the window or
# reorder what the user reads.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]"
)
_UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def terminal_safe(text: str) -> Text:
    """``text`` as rich ``Text`` (never read as markup) with escape sequences removed and
    control and bidi characters shown as ``\\x..`` / ``\\u....``."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _UNSAFE_CHARACTERS.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )
    return Text(text)


class ConsoleChannel:
    """The :class:`ticketbot.dialogue.Channel` of the console."""

    def __init__(self, app: TicketShell) -> None:
        self.app = app

    def say(self, text: str) -> None:
        self.app.poutput(terminal_safe(text))

    def ask(self, prompt: str) -> str | None:
        try:
            return self.app.read_input(f"{terminal_safe(prompt).plain} ")
        except (EOFError, KeyboardInterrupt):
            self.app.poutput("")
            return None

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        table = Table(title=terminal_safe(title), title_justify="left")
        for column in columns:
            table.add_column(terminal_safe(column))
        for row in rows:
            table.add_row(*(terminal_safe(cell) for cell in row))
        self.app.poutput(table)


class TicketShell(cmd2.Cmd):
    """The console. ``bot_factory`` builds the :class:`Bot` once the channel exists."""

    def __init__(
        self,
        bot_factory: Callable[[ConsoleChannel], Bot],
        *,
        before_chat: Callable[[], None] | None = None,
        history_file: Path | None = None,
        stdin: Any = None,
        stdout: Any = None,
    ) -> None:
        super().__init__(
            stdin=stdin,
            stdout=stdout,
            allow_cli_args=False,
            allow_redirection=False,
            allow_clipboard=False,
            terminators=[],
            shortcuts={},
            multiline_commands=[],
            include_py=False,
            include_ipy=False,
            persistent_history_file=str(history_file) if history_file else "",
            auto_suggest=False,
        )
        self.prompt = PROMPT
        self.channel = ConsoleChannel(self)
        self.bot = bot_factory(self.channel)
        self._before_chat = before_chat
        self.hidden_commands.extend(["_eof", "exit", "quitter"])

    # -- routing -------------------------------------------------------------------------

    def onecmd_plus_hooks(self, line: str, *, add_to_history: bool = True, **kwargs: Any) -> bool:
        """Console commands go to cmd2; every other line is a chat message, untouched."""
        if self._is_console_command(line):
            command, _, rest = line.strip().partition(" ")
            line = f"{command.casefold()} {rest}".rstrip()  # "Quitter" is "quitter"
            return super().onecmd_plus_hooks(line, add_to_history=add_to_history, **kwargs)
        if add_to_history and line.strip():
            self.history.append(cmd2.Statement("", raw=line, command=""))
        try:
            self.chat(line)
        except KeyboardInterrupt:
            self.poutput("^C")
        return self.bot.ended

    def _is_console_command(self, line: str) -> bool:
        words = line.split()
        if line == "_eof":
            return True
        if not words:
            return False
        first = words[0].casefold()
        if first in HELP_WORDS:
            return len(words) == 1 or (len(words) == 2 and self._help_topic(words[1]) is not None)
        return len(words) == 1 and first in CONSOLE_COMMANDS

    def chat(self, line: str) -> None:
        """Answer one chat line."""
        if not line.strip():
            return
        if self._before_chat is not None:
            self._before_chat()
        self.bot.handle(line)

    # -- commands ------------------------------------------------------------------------

    def do_help(self, statement: cmd2.Statement) -> None:
        """Say what the bot understands (in the conversation's language)."""
        self._show_help(statement)

    def do_aide(self, statement: cmd2.Statement) -> None:
        """Dire ce que le bot comprend (en français)."""
        self._show_help(statement)

    def _console_language(self, command: str) -> str:
        """The language a console command answers in. "aide" and "quitter" are French words
        and answer in French; "help", "quit" and "exit" are typed by French speakers too, so
        they follow the conversation (English only before any line if typed first)."""
        if command in FRENCH_COMMANDS:
            return "fr"
        if self.bot.language_known:
            return self.bot.language
        return COMMAND_LANGUAGES.get(command, self.bot.language)

    def _show_help(self, statement: cmd2.Statement) -> None:
        language = self._console_language(statement.command)
        topic = statement.args.strip()
        if topic:
            self.poutput(terminal_safe(self._help_topic(topic, language) or ""))
            return
        fr = language == "fr"
        lines = [
            "Je comprends (en français ou en anglais) :"
            if fr
            else "I understand (in English or French):"
        ]
        open_quote, close_quote = ("« ", " »") if fr else ('"', '"')
        for name, description, example in self.bot.capabilities(language):
            lines.append(f"  • {description}")
            lines.append(
                f"      {'ex.' if fr else 'e.g.'} {open_quote}{example}{close_quote}   [{name}]"
            )
        if len(self.bot.intents) == 0:
            lines.append(
                "  (aucune intention : aucun plugin n'est chargé)"
                if fr
                else "  (no intents: no plugin is loaded)"
            )
        lines.append("")
        lines.append(
            "Commandes : aide, plugins (les plugins installés), quitter."
            if fr
            else "Commands: help, plugins (installed plugins), quit."
        )
        self.poutput(terminal_safe("\n".join(lines)))

    def _help_topic(self, topic: str, language: str = "en") -> str | None:
        topic = topic.casefold()
        entry = self.bot.intents.get(topic)
        if entry is not None:
            intent = entry.intent
            examples = "\n".join(f"  - {e}" for e in list(intent.examples[language])[:5])
            return f"{intent.name} ({entry.plugin}): {intent.description[language]}\n{examples}"
        fr = language == "fr"
        commands = {
            "plugins": "liste les plugins installés" if fr else "list the installed plugins",
            "quit": "quitter le bot" if fr else "leave the bot",
            "help": "ce que le bot comprend" if fr else "what the bot understands",
        }
        commands.update(aide=commands["help"], quitter=commands["quit"], exit=commands["quit"])
        return f"{topic}: {commands[topic]}" if topic in commands else None

    def do_plugins(self, statement: cmd2.Statement) -> None:
        """List the installed plugins with their intents and hooks."""
        from ticketbot.reports import plugins_text

        self.poutput(terminal_safe(plugins_text(self.bot.plugins.describe())))

    def do_quit(self, statement: cmd2.Statement) -> bool:
        """Leave the bot."""
        self.bot.language = self._console_language(statement.command)
        self.bot.end()
        return True

    do_exit = do_quitter = do_quit

    def do__eof(self, statement: cmd2.Statement) -> bool:
        """Ctrl-D leaves the bot."""
        self.poutput("")
        return self.do_quit(statement)

    def default(self, statement: cmd2.Statement) -> None:
        """Unreachable through routing; kept so that nothing is ever executed by cmd2."""
        self.chat(statement.raw)


for _name in REMOVED_COMMANDS:
    # A non-callable attribute hides cmd2's built-in command of that name completely.
    setattr(TicketShell, f"do_{_name}", None)
    setattr(TicketShell, f"help_{_name}", None)
    setattr(TicketShell, f"complete_{_name}", None)
for _name in ("alias", "macro"):
    for _sub in ("create", "delete", "list"):
        setattr(TicketShell, f"_{_name}_{_sub}", None)


# -- start-up ----------------------------------------------------------------------------


class Startup:
    """What the shell needs besides the console: the API and the intent model.

    Both are prepared in background threads started only once the console is built, so the
    prompt never waits for them (they compete for the GIL); the first chat line waits for
    whatever it still needs.
    """

    def __init__(self, api_url: str | None, api_key: str | None, model: Path | None) -> None:
        self.embedded: Any = None
        if api_url is None:
            from ticketbot.server import EmbeddedServer

            # Bound now (the URL is known at once), served once start() runs.
            self.embedded = EmbeddedServer(_api_settings(), key_file=data_dir() / "api-key")
            self.embedded.bind()
            api_url = self.embedded.url
        self.api = ApiClient(api_url, api_key=api_key)
        self.explicit_model = model
        self.parser_future: Future[Any] = Future()
        self.notice: str | None = None
        self._api_checked = False

    def start(self, plugins: Any) -> None:
        """Start the embedded API (if any) and the intent-model loading."""
        if self.embedded is not None:
            self.embedded.plugins = plugins  # its ticket_event listeners: the shell's plugins
            self.embedded.start()
        threading.Thread(
            target=self._load_model, args=(plugins,), name="ticketbot-model", daemon=True
        ).start()

    def _load_model(self, plugins: Any) -> None:
        try:
            from ticketbot.nlu.loader import resolve_intent_model
            from ticketbot.nlu.parser import Parser

            choice = resolve_intent_model(plugins.intents, self.explicit_model)
            self.notice = choice.notice()
            self.parser_future.set_result(Parser.for_plugins(choice.model, plugins))
        except BaseException as error:  # noqa: BLE001 - reported on the first line
            self.parser_future.set_exception(error)

    def parser(self) -> Any:
        """The parser, waiting for the background load if needed."""
        return self.parser_future.result()

    def api_problem(self) -> str | None:
        """Once: wait for the embedded API and give it its key; an error sentence if it failed."""
        if self._api_checked or self.embedded is None:
            return None
        self._api_checked = True
        if self.embedded.wait_ready(timeout=60):
            self.api.use_key(self.embedded.api_key)
            return None
        reason = self.embedded.error or "timed out"
        return (
            f"L'API intégrée n'a pas pu démarrer ({reason}). / "
            f"The embedded API could not start ({reason})."
        )

    def stop(self) -> None:
        """Stop the embedded API, if any."""
        if self.embedded is not None:
            self.embedded.stop()


def _api_settings() -> Any:
    from ticketbot.api.settings import Settings

    return Settings()


def run_shell(api_url: str | None = None, model: Path | None = None) -> int:
    """Run the console bot until the user leaves; returns the exit code."""
    from ticketbot.intents import IntentConflict
    from ticketbot.ml.store import ModelError
    from ticketbot.plugin_manager import get_plugin_manager

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    api_url = api_url or os.environ.get("TICKETBOT_API_URL") or None
    model = model or (
        Path(os.environ["TICKETBOT_INTENT_MODEL"])
        if os.environ.get("TICKETBOT_INTENT_MODEL")
        else None
    )
    try:
        if model is not None:
            _verify_intent_model(model)
        plugins = get_plugin_manager()
        plugins.intents  # noqa: B018 - an intent conflict stops the shell here, clearly
    except (IntentConflict, ModelError) as error:
        print(f"ticketbot: error: {error}", file=sys.stderr)
        return 1
    startup = Startup(api_url, os.environ.get("TICKETBOT_API_KEY"), model)
    if startup.embedded is None and (refusal := _refused_key(startup.api)):
        print(f"ticketbot: error: {refusal}", file=sys.stderr)
        return 1
    try:
        app = TicketShell(
            lambda channel: Bot(plugins, startup.api, channel, lambda: _first_parser(app, startup)),
            before_chat=lambda: _report(app, startup.api_problem()),
            history_file=data_dir() / "history",
        )
        for problem in plugins.problems:
            app.perror(f"warning: {problem}")
        app.poutput(INTRO["fr"])
        startup.start(plugins)
        return app.cmdloop()
    except ModelError as error:
        print(f"ticketbot: error: {error}", file=sys.stderr)
        return 1
    finally:
        startup.stop()


def _refused_key(api: ApiClient) -> str | None:
    """Before the prompt: the sentence to show if the remote API refuses our key (or we have
    none), else None. An API that does not answer yet is not a refusal: each line says so."""
    from ticketbot.client import ApiProblem, ApiRefused

    try:
        api.list_tickets(limit=1)
    except ApiRefused as error:
        if error.status != 401:
            return None
        return (
            f"{api.base_url} refuses the API key: set TICKETBOT_API_KEY to a valid key (ask "
            "your administrator, or `ticketbot keys create`). / L'API refuse la clé : "
            "définissez TICKETBOT_API_KEY avec une clé valide."
        )
    except ApiProblem:
        return None
    return None


def _verify_intent_model(model: Path) -> None:
    """Refuse a bad model file before anything starts (hash, format and analyzers)."""
    from ticketbot.ml.store import retrain_command, verify_model_file

    verify_model_file(model, kind="intent", retrain=retrain_command("intent", model))


def _first_parser(app: TicketShell, startup: Startup) -> Any:
    """The parser for the first line, telling the user if the model had to be retrained."""
    parser = startup.parser()
    if startup.notice:
        app.poutput(startup.notice)
    return parser


def _report(app: TicketShell, problem: str | None) -> None:
    if problem:
        app.perror(problem)
