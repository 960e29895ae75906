"""/conversations and /parse: the bot over HTTP (see :mod:`ticketbot.api.conversations`)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from ticketbot.api.auth import Caller
from ticketbot.api.conversations import ConversationError, Conversations
from ticketbot.api.errors import problem_responses
from ticketbot.api.routes.common import known_query_only

router = APIRouter(tags=["conversations"], dependencies=[Depends(known_query_only)])
REPLY_SECONDS = 60.0
"""A line the bot has not answered in this time gets 504 (its replies come with the next)."""


class ConversationStart(BaseModel):
    language: Literal["fr", "en"] = Field(
        default="fr", description="The language to answer in until the user shows another"
    )


class Message(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="What the user typed")


class Reply(BaseModel):
    type: Literal["text", "question", "table"] = Field(
        description="text: a message; question: the bot waits for the answer (the next "
        "message); table: title, columns and rows"
    )
    text: str | None = Field(default=None, description="The message or question (text, question)")
    title: str | None = Field(default=None, description="The table's title (table)")
    columns: list[str] | None = Field(default=None, description="Column headings (table)")
    rows: list[list[str]] | None = Field(default=None, description="Rows of cells (table)")


class ConversationOut(BaseModel):
    id: str = Field(description="The conversation's id, for its messages")
    replies: list[Reply] = Field(description="What the bot said, in order")
    waiting_for_answer: bool = Field(
        description="The last reply is a question: the next message answers it"
    )
    ended: bool = Field(description="The user left (quit): start a new conversation")
    language: Literal["fr", "en"] = Field(description="The conversation's language now")


class ParseRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="A line as a user would type it")


class Ranked(BaseModel):
    intent: str = Field(description="An intent")
    score: float = Field(description="Its probability")


class ParseOut(BaseModel):
    text: str = Field(description="The line parsed")
    intent: str = Field(description="The intent acted on; out_of_scope: the bot falls back")
    confidence: float = Field(description="The intent model's probability for its best intent")
    ranking: list[Ranked] = Field(description="The top 3 intents before the fallback rule")
    entities: dict[str, Any] = Field(description='Entities found, e.g. {"ticket_id": 3}')
    language: Literal["fr", "en"] = Field(description="The language of the line")


class BotFactory:
    """Builds each conversation's bot: the installed plugins and one intent model, loaded
    on first use and shared (parsing is read-only)."""

    def __init__(self, plugins: Any) -> None:
        self._plugins = plugins
        self._parser: Any = None
        self._lock = threading.Lock()

    @property
    def plugins(self) -> Any:
        if self._plugins is None:
            from ticketbot.plugin_manager import get_plugin_manager

            self._plugins = get_plugin_manager()
        return self._plugins

    def parser(self) -> Any:
        with self._lock:
            if self._parser is None:
                from ticketbot.nlu.loader import resolve_intent_model
                from ticketbot.nlu.parser import Parser

                choice = resolve_intent_model(self.plugins.intents)
                self._parser = Parser.for_plugins(choice.model, self.plugins)
            return self._parser

    def bot(self, channel: Any, api_url: str, api_key: str) -> Any:
        from ticketbot.bot import Bot
        from ticketbot.client import ApiClient

        return Bot(self.plugins, ApiClient(api_url, api_key=api_key), channel, self.parser)


def conversations_of(request: Request) -> Conversations:
    return request.app.state.conversations


def _own_url(request: Request) -> str:
    """This server's own address, for the bot's calls to the ticket API."""
    host, port = request.scope.get("server") or ("127.0.0.1", 8000)
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _key_of(request: Request) -> str:
    return request.headers.get("authorization", "").split(None, 1)[-1]


def _refused(error: ConversationError) -> HTTPException:
    return HTTPException(error.status, str(error))


@router.post(
    "/conversations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationOut,
    response_model_exclude_none=True,
    summary="Start a conversation with the bot",
    responses=problem_responses(400, 401, 413, 422, 503),
)
async def start_conversation(
    request: Request, caller: Caller, body: ConversationStart | None = None
) -> dict[str, Any]:
    """A new conversation, owned by the calling key; the bot acts with that key's rights."""
    factory: BotFactory = request.app.state.bot_factory
    url, key = _own_url(request), _key_of(request)
    try:
        conversation = conversations_of(request).start(
            caller.key_id,
            lambda channel: factory.bot(channel, url, key),
            body.language if body is not None else "fr",
        )
    except ConversationError as error:
        raise _refused(error) from None
    return conversation.take_replies()


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=ConversationOut,
    response_model_exclude_none=True,
    summary="Send what the user typed; get the bot's replies",
    responses=problem_responses(400, 401, 404, 409, 413, 422, 503, 504),
)
async def send_message(
    conversation_id: str, body: Message, request: Request, caller: Caller
) -> dict[str, Any]:
    """The bot answers the line as the console would: questions (``waiting_for_answer``)
    are answered by the next message; "annuler" cancels, "quitter" ends."""
    conversations = conversations_of(request)
    try:
        conversation = conversations.get(conversation_id, caller.key_id)
        loop = asyncio.get_running_loop()
        said = asyncio.Event()
        conversations.send(conversation, body.text, lambda: loop.call_soon_threadsafe(said.set))
    except ConversationError as error:
        raise _refused(error) from None
    try:
        await asyncio.wait_for(said.wait(), timeout=REPLY_SECONDS)
    except TimeoutError:
        raise HTTPException(504, "the bot is taking too long to answer; try again") from None
    return conversation.take_replies()


@router.delete(
    "/conversations/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End a conversation",
    responses=problem_responses(401, 404),
)
async def end_conversation(conversation_id: str, request: Request, caller: Caller) -> Response:
    conversations = conversations_of(request)
    try:
        conversations.end(conversations.get(conversation_id, caller.key_id))
    except ConversationError as error:
        raise _refused(error) from None
    return Response(status_code=204)


@router.post(
    "/parse",
    response_model=ParseOut,
    summary="What the bot understands from a text (intent, entities, language)",
    responses=problem_responses(400, 401, 413, 422),
)
def parse(body: ParseRequest, request: Request, caller: Caller) -> dict[str, Any]:
    """Like ``ticketbot parse``: the intent acted on (``out_of_scope`` when the bot would fall
    back), its confidence, the top 3 before the fallback rule, the entities and the
    language. Nothing is done."""
    factory: BotFactory = request.app.state.bot_factory
    return factory.parser().parse(body.text).to_dict()
