"""Hook specifications: what a ticketbot plugin can do.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the
specifications below; it is found through the ``ticketbot`` entry-point group::

    [options.entry_points]
    ticketbot =
        my_plugin = my_package.my_module

Hooks are called with keyword arguments; a plugin's implementation may accept any subset of
the arguments named here. ``docs/plugin-hooks.md`` documents the same hooks for readers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ticketbot.dialogue import Turn
    from ticketbot.intents import Intent

PROJECT_NAME = "ticketbot"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_intents(register: Callable[[Intent], None]) -> None:
    """Register the intents this plugin understands and answers.

    :param register: call it once per intent with a :class:`ticketbot.intents.Intent`: a unique
        ``name`` (lowercase ``snake_case``), a one-line ``description`` in French and English,
        training ``examples`` in French and English (at least 10 of each; 20 or more make a
        better model) and the ``handler`` that answers a :class:`ticketbot.dialogue.Turn`.
        The host checks each intent and refuses a name already registered by another plugin
        (:class:`ticketbot.intents.IntentConflict` names both plugins).

    Return value: ignored (``None``). Every plugin's implementation is called.
    """


@hookspec
def register_entity_extractors(register: Callable[..., None]) -> None:
    """Register functions that find entities (ticket number, department, ...) in a line.

    :param register: call it as ``register(name, extractor)`` or ``register(name, extractor,
        when_expected=True)``, where ``name`` is the entity's key in ``Turn.entities`` (e.g.
        ``"ticket_id"``) and ``extractor(text)`` returns the entity's value found in ``text``
        or ``None``. Values must be JSON-serialisable. An extractor registered with
        ``when_expected=True`` runs only for lines whose intent lists ``name`` in its
        ``expects``, and only when no ordinary extractor found it (a bare "14" is a ticket
        number in "supprime 14", never in "la salle 14 est froide"); follow-up answers read
        by ``Turn.ticket_id_in`` expect a ticket number too.
        Two extractors for one name: the one registered first wins when both find a value.

    Return value: ignored (``None``). Every plugin's implementation is called.
    """


@hookspec(firstresult=True)
def fallback_reply(turn: Turn) -> str | None:
    """Answer a line the bot did not understand (intent ``out_of_scope``).

    :param turn: the :class:`ticketbot.dialogue.Turn` of the line (text, language, ranking of
        the intents the model considered, the registered intents).

    Return value: the reply text in ``turn.language``, or ``None`` to let the next plugin
    answer. ``firstresult``: stops at the first non-``None`` result. The built-in
    implementation (``trylast``) lists what the bot can do, with examples.
    """


@hookspec
def ticket_event(event: dict[str, Any]) -> None:
    """React to something that happened to a ticket, once it is committed (notify someone by
    mail, chat or webhook). Called by the ticket API process that made the change.

    :param event: a JSON-ready dict:

        - ``id``: unique id of this event (a UUID string), to deduplicate deliveries;
        - ``type``: ``"created"``, ``"updated"``, ``"commented"`` or ``"deleted"``;
        - ``ticket_id``: the ticket's number;
        - ``ticket``: the ticket as ``GET /tickets/{id}`` shows it to an agent, after the
          event (``None`` for ``"deleted"``);
        - ``changes``: for ``"updated"``, a list of ``{"field", "from", "to"}``;
        - ``comment``: for ``"commented"``, the comment as ``GET /tickets/{id}/comments``
          shows it (``internal`` says whether requesters may see it), else ``None``;
        - ``by``: name of the API key that did it; ``at``: when (ISO 8601, UTC).

    Runs after the response, on a background thread fed by a bounded queue, with a time limit
    per call (``TICKETBOT_EVENT_HOOK_TIMEOUT``, 30 s by default): it never slows or breaks a
    request. Exceptions are logged with the plugin's name; when the queue is full
    (``TICKETBOT_EVENT_QUEUE_SIZE``, 1,000 by default), new events are dropped and logged.

    Return value: ignored (``None``). Every plugin's implementation is called.
    """
