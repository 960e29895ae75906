"""The plugin manager: entry points, TICKETBOT_LOAD_PLUGINS, conflicts, broken plugins."""

from __future__ import annotations

import pytest

from tests.support import FAKE_INTENT_PLUGIN, install_fake_plugin
from ticketbot.intents import IntentConflict
from ticketbot.plugin_manager import get_plugin_manager, selected_plugins

BUILT_INS = {"create_ticket", "read_ticket", "delete_ticket", "entities", "fallback", "small_talk"}


def test_built_ins_load_through_entry_points():
    plugins = get_plugin_manager()
    described = {p["name"]: p for p in plugins.describe()}
    assert described.keys() >= BUILT_INS
    for name in BUILT_INS:
        assert described[name]["source"] == "built-in"
        assert described[name]["module"] == f"ticketbot.plugins.{name}"
    assert set(plugins.intents.names()) >= {"create_ticket", "read_ticket", "delete_ticket"}
    assert plugins.intents.get("create_ticket").plugin == "create_ticket"
    assert described["entities"]["entities"] == [
        "ticket_id",
        "ticket_ids",
        "department",
        "scope",
        "status",
    ]
    assert described["fallback"]["hooks"] == ["fallback_reply"]
    assert plugins.problems == []


def test_each_call_builds_a_fresh_manager():
    assert get_plugin_manager().manager is not get_plugin_manager().manager


def test_without_entry_points_nothing_is_registered():
    plugins = get_plugin_manager(load_entry_points=False)
    assert plugins.describe() == []
    assert len(plugins.intents) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, set())),
        ("", (set(), set())),
        ("read_ticket, entities", ({"read_ticket", "entities"}, set())),
        ("-fallback", (None, {"fallback"})),
    ],
)
def test_load_plugins_variable_syntax(value, expected):
    assert selected_plugins(value) == expected


def test_load_plugins_narrows_and_excludes(monkeypatch):
    monkeypatch.setenv("TICKETBOT_LOAD_PLUGINS", "read_ticket,entities")
    assert {p["name"] for p in get_plugin_manager().describe()} == {"read_ticket", "entities"}
    monkeypatch.setenv("TICKETBOT_LOAD_PLUGINS", "")
    assert get_plugin_manager().describe() == []
    monkeypatch.setenv("TICKETBOT_LOAD_PLUGINS", "-delete_ticket")
    names = {p["name"] for p in get_plugin_manager().describe()}
    assert "delete_ticket" not in names and "create_ticket" in names


def test_third_party_plugin_is_found_with_its_distribution(fake_site):
    install_fake_plugin(
        fake_site,
        "fake_weather",
        FAKE_INTENT_PLUGIN.format(name="office_weather"),
        distribution="ticketbot-weather",
        version="2.3",
    )
    plugins = get_plugin_manager()
    described = {p["name"]: p for p in plugins.describe()}
    assert described["fake_weather"]["source"] == "ticketbot-weather"
    assert described["fake_weather"]["version"] == "2.3"
    assert described["fake_weather"]["intents"] == ["office_weather"]
    assert plugins.intents.get("office_weather").plugin == "fake_weather"


def test_two_plugins_claiming_one_intent_name_is_an_error_naming_both(fake_site):
    install_fake_plugin(fake_site, "fake_clash", FAKE_INTENT_PLUGIN.format(name="create_ticket"))
    plugins = get_plugin_manager()
    with pytest.raises(IntentConflict) as error:
        plugins.intents  # noqa: B018
    message = str(error.value)
    assert "'create_ticket'" in message and "'fake_clash'" in message
    assert "TICKETBOT_LOAD_PLUGINS" in message


def test_plugin_that_fails_to_import_is_reported_and_skipped(fake_site, caplog):
    install_fake_plugin(
        fake_site,
        "fake_broken",
        "import does_not_exist_anywhere\n",
        distribution="ticketbot-broken",
    )
    plugins = get_plugin_manager()
    assert [p.plugin for p in plugins.problems] == ["fake_broken"]
    problem = str(plugins.problems[0])
    assert "fake_broken" in problem and "ticketbot-broken" in problem
    assert "ModuleNotFoundError" in problem
    assert "fake_broken" in caplog.text
    assert "create_ticket" in plugins.intents  # the others still work


def test_plugin_with_unknown_hook_is_reported_and_skipped(fake_site):
    install_fake_plugin(
        fake_site,
        "fake_typo",
        "from ticketbot import hookimpl\n\n@hookimpl\ndef register_intent(register):\n    pass\n",
    )
    plugins = get_plugin_manager()
    assert [p.plugin for p in plugins.problems] == ["fake_typo"]
    assert "register_intent" in str(plugins.problems[0])
    assert "fake_typo" not in {p["name"] for p in plugins.describe()}


def test_plugin_registering_an_invalid_intent_is_reported_and_skipped(fake_site):
    install_fake_plugin(
        fake_site,
        "fake_invalid",
        "from ticketbot import hookimpl\nfrom ticketbot.intents import Intent\n\n"
        "@hookimpl\ndef register_intents(register):\n"
        "    register(Intent('Bad Name', {'fr': 'x', 'en': 'x'}, {'fr': [], 'en': []}, print))\n",
    )
    plugins = get_plugin_manager()
    assert "create_ticket" in plugins.intents
    assert [p.plugin for p in plugins.problems] == ["fake_invalid"]
    assert "snake_case" in str(plugins.problems[0])
