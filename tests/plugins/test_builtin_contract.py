"""The built-in intent plugins pass the same contract check offered to plugin authors."""

from __future__ import annotations

import pytest

import ticketbot.plugins.create_ticket
import ticketbot.plugins.delete_ticket
import ticketbot.plugins.read_ticket
from ticketbot.intents import Intent
from ticketbot.testing import ContractViolation, assert_plugin_contract


@pytest.mark.parametrize(
    "plugin",
    [
        ticketbot.plugins.create_ticket,
        ticketbot.plugins.read_ticket,
        ticketbot.plugins.delete_ticket,
    ],
)
def test_built_in_plugin_meets_the_contract(plugin, live_api):
    names = assert_plugin_contract(plugin, api=live_api)
    assert names == [plugin.__name__.rsplit(".", 1)[1]]


class MonolingualPlugin:
    from ticketbot import hookimpl

    @hookimpl
    def register_intents(self, register):
        register(
            Intent(
                name="say_hello",
                description={"fr": "dire bonjour", "en": "say hello"},
                examples={
                    "fr": [f"salut numéro {i}" for i in range(12)],
                    "en": [f"hi number {i}" for i in range(12)],
                },
                handler=lambda turn: turn.channel.say("Hello!"),
            )
        )


class CrashingPlugin:
    from ticketbot import hookimpl

    @hookimpl
    def register_intents(self, register):
        def handler(turn):
            turn.say(
                fr=f"Ticket {turn.entities['ticket_id']}",
                en=f"Ticket {turn.entities['ticket_id']}!",
            )

        register(
            Intent(
                name="show_ref",
                description={"fr": "référence", "en": "reference"},
                examples={
                    "fr": [f"référence du ticket {i}" for i in range(12)],
                    "en": [f"reference of ticket {i}" for i in range(12)],
                },
                handler=handler,
            )
        )


def test_contract_catches_a_handler_answering_in_one_language(live_api):
    with pytest.raises(ContractViolation, match="same answer in French and English"):
        assert_plugin_contract(MonolingualPlugin(), api=live_api)


def test_contract_catches_a_crash_on_unexpected_input(live_api):
    with pytest.raises(ContractViolation, match="crashed on .*KeyError"):
        assert_plugin_contract(CrashingPlugin(), api=live_api)
