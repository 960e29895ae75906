"""The limits a front proxy would give, on a real `ticketbot serve`: header size, slow
clients, connection count, chunked bodies, HEAD; every refusal is problem+json."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.support import ServerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("limits")
    env = {"TICKETBOT_REQUEST_TIMEOUT": "1.5", "TICKETBOT_MAX_CONNECTIONS": "4"}
    with ServerProcess(f"sqlite:///{directory / 'limits.db'}", env=env) as running:
        yield running


def _raw(server, data: bytes, timeout: float = 10) -> tuple[bytes, float]:
    """Send raw bytes, return what the server answered (until it closed) and how long."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    started = time.monotonic()
    with contextlib.suppress(OSError):  # the server may close while we still send
        sock.sendall(data)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        pass
    finally:
        sock.close()
    return b"".join(chunks), time.monotonic() - started


def _problem(answer: bytes) -> dict:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head, answer[:200]
    return json.loads(body)


def test_huge_headers_get_431(server):
    response = server.session().get(
        f"{server.url}/tickets", headers={"X-Padding": "x" * 20_000}, timeout=10
    )
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"


def test_an_unterminated_header_is_cut_off_without_being_kept(server):
    answer, _ = _raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5_000_000)
    if answer:  # the refusal may be lost when the server closes first; never a 200
        assert _problem(answer)["status"] == 431


def test_a_client_that_never_finishes_its_headers_is_dropped(server):
    answer, seconds = _raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert _problem(answer)["status"] == 408 and 1.0 <= seconds < 5


def test_a_client_that_never_finishes_its_body_is_dropped(server):
    answer, seconds = _raw(
        server,
        b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"text": ',
    )
    assert _problem(answer)["status"] == 408 and seconds < 5


def test_connections_beyond_the_limit_get_503(server):
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
    try:
        answer, _ = _raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _problem(answer)["status"] == 503
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.2)
    assert requests.get(f"{server.url}/health", timeout=10).status_code == 200


def test_a_chunked_body_over_the_limit_gets_413(server):
    def chunks():
        for _ in range(70):
            yield b"x" * 1024

    response = server.session().post(
        f"{server.url}/classify",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


def test_a_small_chunked_body_still_works(server):
    def chunks():
        yield b'{"text": "imprimante '
        yield b'en panne"}'

    response = server.session().post(
        f"{server.url}/classify",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["department"] == "IT"


@pytest.mark.parametrize("path", ["/health", "/tickets", "/docs", "/openapi.json"])
def test_head_works_on_every_get_route(server, path):
    get = server.session().get(f"{server.url}{path}", timeout=10)
    head = server.session().head(f"{server.url}{path}", timeout=10)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_the_limits_are_documented():
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for setting in (
        "TICKETBOT_MAX_HEADER_BYTES",
        "TICKETBOT_REQUEST_TIMEOUT",
        "TICKETBOT_MAX_CONNECTIONS",
    ):
        assert setting in text
