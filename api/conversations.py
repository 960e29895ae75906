"""Conversations over HTTP: the console bot's plugins, intents, dialogue and languages for
the web page and other channels (Teams, Slack, a portal).

The dialogue engine's model: **one thread per conversation that is answering a line**.
Handlers keep their simple, blocking ``turn.ask`` / ``turn.confirm``: when a handler asks a
question, its thread waits on the conversation's answer queue, and the HTTP request that
brought the line returns the bot's replies with ``waiting_for_answer: true``; the next
message of the conversation is handed to the waiting thread as the answer. Conversations at
the prompt (the usual state) hold no thread. Limits keep memory bounded: at most
``max_conversations`` conversations (the least recently used idle one goes first), at most
``max_busy`` threads waiting or working at once (more get 503), and an idle conversation
expires after ``idle_seconds`` (a handler waiting for an answer that long gets a cancel: it
ends saying nothing was done).

A conversation belongs to the API key that started it; other keys get 404. The bot calls the
ticket API over HTTP with that key, exactly as the console does.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ticketbot.api")

_CLOSED = object()


class ConversationError(Exception):
    """A message cannot be taken; ``status`` and the message say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WebChannel:
    """The channel of one conversation: replies go to an outbox the HTTP response takes;
    questions wait for the conversation's next message."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def say(self, text: str) -> None:
        self.conversation.outbox.append({"type": "text", "text": text})

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.conversation.outbox.append(
            {
                "type": "table",
                "title": title,
                "columns": list(columns),
                "rows": [[str(cell) for cell in row] for row in rows],
            }
        )

    def ask(self, prompt: str) -> str | None:
        conversation = self.conversation
        conversation.outbox.append({"type": "question", "text": prompt})
        conversation.turn_over(waiting=True)
        answer = conversation.answers.get()  # the next message, or _CLOSED on expiry
        return None if answer is _CLOSED else answer


@dataclass
class Conversation:
    """One conversation: its owner, its bot, and the state of the line being answered."""

    id: str
    owner: int | None
    bot: Any
    last_active: float = field(default_factory=time.time)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    answers: queue.Queue = field(default_factory=queue.Queue)
    waiting: bool = False
    """A handler is waiting for this conversation's next message (its answer)."""
    working: bool = False
    """A thread is answering a line right now."""
    _notify: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def turn_over(self, waiting: bool) -> None:
        """The bot has said everything it will say until the next message."""
        self.waiting = waiting
        notify, self._notify = self._notify, None
        if notify is not None:
            notify()

    def take_replies(self) -> dict[str, Any]:
        replies, self.outbox = self.outbox, []
        self.last_active = time.time()
        return {
            "id": self.id,
            "replies": replies,
            "waiting_for_answer": self.waiting,
            "ended": bool(self.bot.ended),
            "language": self.bot.language,
        }


class Conversations:
    """Every conversation of one API process."""

    def __init__(
        self,
        *,
        max_conversations: int = 1000,
        max_busy: int = 256,
        idle_seconds: float = 1800.0,
    ) -> None:
        self.max_conversations = max_conversations
        self.idle_seconds = idle_seconds
        self._busy = threading.BoundedSemaphore(max_busy)
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def start(
        self, owner: int | None, make_bot: Callable[[WebChannel], Any], language: str = "fr"
    ) -> Conversation:
        """A new conversation for the key ``owner``, with the bot ``make_bot`` builds on its
        channel."""
        self.expire()
        conversation = Conversation(uuid.uuid4().hex, owner, None)
        conversation.bot = make_bot(WebChannel(conversation))
        conversation.bot.language = language
        with self._lock:
            while len(self._items) >= self.max_conversations:
                idle = next((c for c in self._items.values() if not c.working), None)
                if idle is None:
                    raise ConversationError(503, "too many conversations at once; retry later")
                self._drop(idle)
            self._items[conversation.id] = conversation
        return conversation

    def get(self, conversation_id: str, owner: int | None) -> Conversation:
        """The conversation, if it exists and belongs to ``owner`` (404 otherwise)."""
        self.expire()
        with self._lock:
            conversation = self._items.get(conversation_id)
            if conversation is None or conversation.owner != owner:
                raise ConversationError(
                    404,
                    f"no conversation {conversation_id} (it may have expired after "
                    f"{self.idle_seconds / 60:.0f} minutes without a message): start a new one "
                    "with POST /conversations",
                )
            self._items.move_to_end(conversation_id)
            return conversation

    def end(self, conversation: Conversation) -> None:
        with self._lock:
            self._drop(conversation)

    def _drop(self, conversation: Conversation) -> None:
        self._items.pop(conversation.id, None)
        if conversation.waiting:
            conversation.answers.put(_CLOSED)

    def expire(self) -> None:
        """Forget the conversations idle for too long (a waiting handler gets a cancel)."""
        limit = time.time() - self.idle_seconds
        with self._lock:
            for conversation in [c for c in self._items.values() if c.last_active < limit]:
                if not conversation.working or conversation.waiting:
                    self._drop(conversation)

    def send(self, conversation: Conversation, text: str, notify: Callable[[], None]) -> None:
        """Hand ``text`` to the conversation: as the answer a handler waits for, or as a new
        line answered in a thread of its own. ``notify`` is called once the bot has said what
        it has to say (the replies are then in :meth:`Conversation.take_replies`)."""
        with conversation.lock:
            conversation.last_active = time.time()
            if conversation.working and not conversation.waiting:
                raise ConversationError(
                    409, "the previous message is still being answered; wait for its reply"
                )
            if conversation.bot.ended:
                raise ConversationError(
                    409, "this conversation has ended (the user said goodbye); start a new one"
                )
            conversation._notify = notify
            if conversation.waiting:
                conversation.waiting = False
                conversation.answers.put(text)
                return
            if not self._busy.acquire(blocking=False):
                conversation._notify = None
                raise ConversationError(
                    503, "too many conversations are being answered at once; retry in a moment"
                )
            conversation.working = True
        threading.Thread(
            target=self._answer, args=(conversation, text), name="conversation", daemon=True
        ).start()

    def _answer(self, conversation: Conversation, text: str) -> None:
        try:
            conversation.bot.handle(text)
        except BaseException:  # noqa: BLE001 - the bot already reports plugin errors
            log.exception("conversation %s failed on a line", conversation.id)
            conversation.outbox.append(
                {"type": "text", "text": "Désolé, une erreur est survenue. / Sorry, an error."}
            )
        finally:
            conversation.working = False
            self._busy.release()
            conversation.turn_over(waiting=False)
