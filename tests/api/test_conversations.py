"""Conversations over HTTP against a real API server: the console's dialogue (questions,
confirmations, cancel, quit, languages), ownership, many conversations at once, expiry;
and POST /parse."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ticketbot.api.conversations import ConversationError, Conversations
from ticketbot.testing import running_api


@pytest.fixture
def api(tmp_path):
    with running_api(tmp_path) as client:
        client.url = client.base_url  # with its admin key in client.session
        yield client


def session(key: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"
    return http


class Chat:
    def __init__(self, url: str, http: requests.Session, language: str = "fr") -> None:
        self.url, self.http = url, http
        started = http.post(f"{url}/conversations", json={"language": language}, timeout=30)
        assert started.status_code == 201, started.text
        self.id = started.json()["id"]

    def say(self, text: str) -> dict:
        answer = self.http.post(
            f"{self.url}/conversations/{self.id}/messages", json={"text": text}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


def texts(answer: dict) -> list[str]:
    return [r.get("text") or r.get("title") for r in answer["replies"]]


def test_a_conversation_asks_confirms_and_acts_as_the_console_does(api):
    http = api.session
    chat = Chat(api.url, http)
    created = chat.say("Bonjour, l'écran de mon portable reste noir")
    assert created["waiting_for_answer"] is False
    number = int(texts(created)[0].split("n°")[1].split()[0])
    listed = chat.say("montre mes tickets")
    table = listed["replies"][0]
    assert table["type"] == "table" and str(number) in [row[0] for row in table["rows"]]
    asked = chat.say(f"supprime le ticket {number}")
    assert asked["waiting_for_answer"] is True
    assert asked["replies"][-1]["type"] == "question"
    kept = chat.say("euh")  # neither yes nor no: asked once more
    assert kept["waiting_for_answer"] is True
    refused = chat.say("non merci")
    assert refused["waiting_for_answer"] is False
    assert http.get(f"{api.url}/tickets/{number}", timeout=10).status_code == 200
    chat.say(f"supprime le ticket {number}")
    assert "supprimé" in texts(chat.say("oui vas-y"))[0]
    assert http.get(f"{api.url}/tickets/{number}", timeout=10).status_code == 404
    assert "rien à annuler" in texts(chat.say("annuler"))[0]
    english = chat.say("show my tickets please")
    assert english["language"] == "en"
    goodbye = chat.say("quit")
    assert goodbye["ended"] is True and texts(goodbye) == ["Goodbye!"]
    after = http.post(
        f"{api.url}/conversations/{chat.id}/messages", json={"text": "hello"}, timeout=10
    )
    assert after.status_code == 409 and "start a new one" in after.json()["detail"]


def test_a_cancel_in_a_question_does_nothing(api):
    http = api.session
    chat = Chat(api.url, http)
    asked = chat.say("je veux créer un ticket")
    assert asked["waiting_for_answer"] is True
    cancelled = chat.say("laisse tomber")
    assert "aucun ticket n'a été créé" in " ".join(texts(cancelled))
    assert http.get(f"{api.url}/tickets", timeout=10).json()["total"] == 0


def test_a_conversation_belongs_to_the_key_that_started_it(api, tmp_path):
    from ticketbot.api.keys import open_key_store
    from ticketbot.api.settings import Settings

    with open_key_store(Settings(database_url=f"sqlite:///{tmp_path / 'tickets.db'}")) as keys:
        _, other = keys.create("someone-else", "requester")
    mine = Chat(api.url, api.session)
    theirs = session(other)
    for method, path in [
        ("post", f"/conversations/{mine.id}/messages"),
        ("delete", f"/conversations/{mine.id}"),
    ]:
        response = getattr(theirs, method)(f"{api.url}{path}", json={"text": "x"}, timeout=10)
        assert response.status_code == 404, (method, response.text)
    assert requests.post(f"{api.url}/conversations", timeout=10).status_code == 401
    assert mine.say("bonjour")["replies"]
    assert api.session.delete(f"{api.url}/conversations/{mine.id}").status_code == 204


def test_two_hundred_conversations_wait_at_once_without_blocking_a_new_one(api):
    http = api.session
    ticket = http.post(f"{api.url}/tickets", json={"title": "Écran noir"}, timeout=10).json()
    chats = [Chat(api.url, http) for _ in range(200)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        asked = list(pool.map(lambda c: c.say(f"supprime le ticket {ticket['id']}"), chats))
    assert all(a["waiting_for_answer"] for a in asked)
    # 200 handlers wait for an answer; another conversation is answered all the same.
    started = time.monotonic()
    other = Chat(api.url, http).say("Le VPN se déconnecte sans arrêt")
    assert "créé" in texts(other)[0]
    assert time.monotonic() - started < 30
    with ThreadPoolExecutor(max_workers=16) as pool:
        answered = list(pool.map(lambda c: c.say("non"), chats))
    assert all(
        texts(a) == [f"D'accord, le ticket n°{ticket['id']} est conservé."] for a in answered
    )
    assert http.get(f"{api.url}/tickets/{ticket['id']}", timeout=10).status_code == 200


def test_parse_says_what_the_bot_understands(api):
    http = api.session
    parsed = http.post(f"{api.url}/parse", json={"text": "supprime le 3 stp"}, timeout=30).json()
    assert parsed["intent"] == "delete_ticket"
    assert parsed["entities"] == {"ticket_id": 3}
    assert parsed["language"] == "fr"
    assert parsed["ranking"][0]["intent"] == "delete_ticket"
    off = http.post(f"{api.url}/parse", json={"text": "quel temps fait-il ?"}, timeout=30).json()
    assert off["intent"] == "out_of_scope" and off["entities"] == {}


# -- the engine's limits, with a scripted bot ---------------------------------------------


class Asker:
    """A bot whose every line asks one question and says the answer."""

    ended = False
    language = "fr"

    def __init__(self, channel) -> None:
        self.channel = channel

    def handle(self, line: str) -> None:
        answer = self.channel.ask(f"{line} ?")
        self.channel.say(f"answer: {answer}")


def send(conversations: Conversations, conversation, text: str) -> dict:
    said = threading.Event()
    conversations.send(conversation, text, said.set)
    assert said.wait(10)
    return conversation.take_replies()


def test_an_idle_conversation_expires_and_its_waiting_handler_gets_a_cancel():
    conversations = Conversations(idle_seconds=0.2)
    conversation = conversations.start(1, Asker)
    assert send(conversations, conversation, "ready")["waiting_for_answer"] is True
    time.sleep(0.3)
    with pytest.raises(ConversationError, match="expired") as refused:
        conversations.get(conversation.id, 1)
    assert refused.value.status == 404
    deadline = time.monotonic() + 5
    while conversation.working and time.monotonic() < deadline:
        time.sleep(0.01)
    assert conversation.outbox[-1] == {"type": "text", "text": "answer: None"}


def test_conversations_stay_bounded():
    conversations = Conversations(max_conversations=3, max_busy=2)
    first, second, third = (conversations.start(1, Asker) for _ in range(3))
    send(conversations, first, "a")
    send(conversations, second, "b")  # two handlers waiting: the limit of busy threads
    with pytest.raises(ConversationError) as busy:
        conversations.send(third, "c", lambda: None)
    assert busy.value.status == 503
    fourth = conversations.start(1, Asker)  # the least recently used idle one goes
    assert len(conversations) == 3
    with pytest.raises(ConversationError):
        conversations.get(third.id, 1)
    assert conversations.get(fourth.id, 1) is fourth
    assert send(conversations, first, "yes")["replies"] == [{"type": "text", "text": "answer: yes"}]


def test_a_third_party_plugin_answers_on_the_web_unchanged(tmp_path):
    """The example package of the plugin tutorial, registered as it is in the console."""
    import ticketbot_stats

    from ticketbot.testing import plugins_with

    with running_api(tmp_path, plugins=plugins_with(ticketbot_stats)) as api:
        for title in ("Le VPN ne marche plus", "Fiche de paie fausse", "Écran noir"):
            api.session.post(f"{api.base_url}/tickets", json={"title": title}, timeout=10)
        answer = Chat(api.base_url, api.session).say("combien de tickets par service ?")
        table = answer["replies"][0]
        assert table["type"] == "table" and table["title"] == "Tickets par service"
        assert table["rows"][-1] == ["Total", "3"]
