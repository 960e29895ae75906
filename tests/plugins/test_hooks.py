"""Every hook of ticketbot/hookspecs.py, exercised through the bot as a plugin would use it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.support import FAKE_INTENT_PLUGIN, install_fake_plugin
from ticketbot import hookimpl, hookspecs
from ticketbot.bot import Bot
from ticketbot.nlu.loader import resolve_intent_model
from ticketbot.nlu.parser import Parser
from ticketbot.plugin_manager import get_plugin_manager
from ticketbot.testing import ScriptedChannel, converse, plugins_with

HOOKS = sorted(
    name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "ticketbot_spec")
)


def test_the_hooks_tested_here_are_all_the_hooks():
    assert HOOKS == [
        "fallback_reply",
        "register_entity_extractors",
        "register_intents",
        "ticket_event",
    ]


def bot_for(plugins, api) -> Bot:
    choice = resolve_intent_model(plugins.intents)
    return Bot(
        plugins,
        api,
        ScriptedChannel(),
        Parser.for_plugins(choice.model, plugins),
    )


def test_register_intents_adds_an_intent_the_bot_answers(fake_site, live_api):
    install_fake_plugin(fake_site, "fake_weather", FAKE_INTENT_PLUGIN.format(name="office_weather"))
    plugins = get_plugin_manager()
    assert plugins.intents.get("office_weather").intent.description["en"] == "the office weather"
    bot = bot_for(plugins, live_api)
    assert "Il fait beau au bureau." in converse(bot, "quel temps fait-il au bureau ?")
    assert "The office weather is fine." in converse(bot, "how warm is the office today")


class TicketRefExtractor:
    @hookimpl
    def register_entity_extractors(self, register):
        register("ticket_ref", lambda text: "REF-7" if "REF-7" in text else None)
        register("department", lambda text: "Legal" if "avocat" in text else None)


def test_register_entity_extractors_adds_entities(live_api):
    plugins = plugins_with(TicketRefExtractor())
    bot = bot_for(plugins, live_api)
    parse = bot.parser.parse("montre le ticket 12 REF-7")
    assert parse.entities == {"ticket_id": 12, "ticket_ref": "REF-7"}
    # The built-in extractor was registered first, so it wins when both find a value.
    assert bot.parser.parse("tickets RH pour l'avocat").entities["department"] == "HR"
    assert bot.parser.parse("tickets de l'avocat").entities["department"] == "Legal"


class FailingExtractor:
    @hookimpl
    def register_entity_extractors(self, register):
        register("boom", lambda text: 1 / 0)


def test_a_failing_extractor_is_skipped(live_api):
    plugins = plugins_with(FailingExtractor())
    assert plugins.entity_extractors.extract("ticket 5", expected=("ticket_id",)) == {
        "ticket_id": 5
    }


class PoliteFallback:
    @hookimpl
    def fallback_reply(self, turn):
        return turn.t("Je transmets à un humain.", "Passing you to a human.")


class SilentFallback:
    @hookimpl(tryfirst=True)
    def fallback_reply(self, turn):
        return None


def test_fallback_reply_is_firstresult_and_overrides_the_built_in(live_api):
    bot = bot_for(plugins_with(PoliteFallback(), SilentFallback()), live_api)
    assert converse(bot, "quel temps fait-il à Lyon ?") == "Je transmets à un humain."
    assert converse(bot, "tell me a joke about cats") == "Passing you to a human."


def test_built_in_fallback_says_so_briefly_with_an_example_of_each_intent(live_api):
    plugins = get_plugin_manager()
    bot = bot_for(plugins, live_api)
    answer = converse(bot, "raconte-moi une blague")
    assert answer.startswith("Je n'ai pas compris") and "\n" not in answer
    for entry in plugins.intents:
        assert f"« {entry.intent.example('fr')} »" in answer
    assert "« montre le ticket 42 »" in answer
    assert live_api.list_tickets()["total"] == 0


@pytest.mark.parametrize(
    "module",
    [
        "ticketbot.plugins.create_ticket",
        "ticketbot.plugins.read_ticket",
        "ticketbot.plugins.delete_ticket",
        "ticketbot.plugins.entities",
        "ticketbot.plugins.fallback",
        "ticketbot.plugins.small_talk",
    ],
)
def test_built_in_plugins_only_use_the_public_plugin_api(module):
    source = importlib.import_module(module).__file__
    text = Path(source).read_text(encoding="utf-8")
    assert "from ticketbot import hookimpl" in text
    assert "peewee" not in text and "ticketbot.api" not in text


class ExitingEverywhere:
    @hookimpl
    def register_entity_extractors(self, register):
        def extractor(text):
            raise SystemExit(2)

        register("exit_code", extractor)

    @hookimpl(tryfirst=True)
    def fallback_reply(self, turn):
        raise SystemExit(3)


def test_system_exit_from_an_extractor_or_a_fallback_does_not_end_the_bot(live_api):
    plugins = plugins_with(ExitingEverywhere())
    bot = bot_for(plugins, live_api)
    assert bot.parser.parse("montre le ticket 12").entities == {"ticket_id": 12}
    assert "Je ne trouve pas le ticket n°12" in converse(bot, "montre le ticket 12")
    answer = converse(bot, "raconte-moi une blague")  # the plugin's fallback raises first
    assert "Je n'ai pas compris" in answer and not bot.ended


FAKE_LISTENER = """
import json, os
from ticketbot import hookimpl

@hookimpl
def ticket_event(event):
    with open(os.environ["FAKE_EVENTS_FILE"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(event) + "\\n")
"""


def test_ticket_event_reaches_an_installed_plugin(fake_site, tmp_path, monkeypatch):
    """Installed through an entry point, found by the API on its own, told of each event."""
    import json
    import time

    from ticketbot.testing import running_api

    events_file = tmp_path / "events.jsonl"
    monkeypatch.setenv("FAKE_EVENTS_FILE", str(events_file))
    monkeypatch.delenv("TICKETBOT_LOAD_PLUGINS", raising=False)
    install_fake_plugin(fake_site, "fake_listener", FAKE_LISTENER)
    with running_api(tmp_path) as api:
        number = api.create_ticket("Le wifi coupe sans arrêt")["id"]
        api.update_ticket(number, {"status": "resolved"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_lines(events_file)) < 2:
            time.sleep(0.02)
    events = [json.loads(line) for line in _lines(events_file)]
    assert [(e["type"], e["ticket_id"]) for e in events] == [
        ("created", number),
        ("updated", number),
    ]
    assert events[1]["changes"] == [{"field": "status", "from": "open", "to": "resolved"}]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
