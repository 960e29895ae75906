"""Tests of the ticketbot-stats plugin, written with ticketbot.testing."""

import ticketbot_stats

from ticketbot.testing import (
    ScriptedChannel,
    assert_plugin_contract,
    make_turn,
    plugins_with,
    running_api,
)


def test_contract(tmp_path):
    with running_api(tmp_path) as api:
        assert assert_plugin_contract(ticketbot_stats, api=api) == ["ticket_stats"]


def test_counts_per_department(tmp_path):
    with running_api(tmp_path) as api:
        api.create_ticket("Mon VPN ne se connecte plus")
        api.create_ticket("Le mot de passe de mon compte a expiré")
        api.create_ticket("Please review the NDA with our new supplier")
        channel = ScriptedChannel()
        plugins = plugins_with(ticketbot_stats, load_entry_points=False)
        turn = make_turn(
            "how many tickets per department?",
            "ticket_stats",
            api=api,
            channel=channel,
            plugins=plugins,
            language="en",
        )
        ticketbot_stats.answer(turn)
        title, columns, rows = channel.tables[0]
        assert title == "Tickets per department"
        counts = dict(rows)
        assert counts["IT"] == "2" and counts["Legal"] == "1" and counts["Total"] == "3"
        assert set(counts) == {"IT", "HR", "Finance", "Facilities", "Legal", "Total"}
