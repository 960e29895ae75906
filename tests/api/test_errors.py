"""Bad input gets problem+json 4xx answers that say what is wrong, never a traceback."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body.title"),
        ({"title": ""}, "body.title"),
        ({"title": "   "}, "body.title"),
        ({"title": "x" * 201}, "body.title"),
        ({"title": 12}, "body.title"),
        ({"title": None}, "body.title"),
        ({"title": "ok", "description": "x" * 10_001}, "body.description"),
        ({"title": "ok", "description": 3}, "body.description"),
        ({"title": "ok", "department": "IT"}, "body.department"),
        ({"title": "line\nbreak"}, "body.title"),
        ({"title": "bell\x07"}, "body.title"),
        ({"title": "ok", "description": "nul\x00byte"}, "body.description"),
    ],
)
def test_invalid_ticket_is_422_naming_the_field(client, payload, field):
    body = assert_problem(client.post("/tickets", json=payload), 422)
    assert body["type"] == "/problems/validation-error"
    assert field in [error["field"] for error in body["errors"]]
    assert field in body["detail"]
    assert client.get("/tickets").json()["total"] == 0


def test_title_of_200_chars_and_multiline_description_are_fine(client):
    response = client.post(
        "/tickets", json={"title": "é" * 200, "description": "ligne 1\nligne 2\ttab"}
    )
    assert response.status_code == 201
    assert response.json()["description"] == "ligne 1\nligne 2\ttab"


@pytest.mark.parametrize("body", [b"{bad json", b"", b"[1, 2]", b'"just a string"'])
def test_malformed_body_is_4xx(client, body):
    response = client.post("/tickets", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)


def test_body_over_64_kib_is_413(client):
    response = client.post(
        "/tickets",
        content=b'{"title": "x", "description": "' + b"a" * 70_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 413)
    assert "bytes" in body["detail"]


@pytest.mark.parametrize("path", ["/tickets/0", "/tickets/-1", "/tickets/abc", f"/tickets/{2**64}"])
def test_bad_ids_are_422(client, path):
    assert_problem(client.get(path), 422)
    assert_problem(client.delete(path), 422)


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}, {"q": "x" * 201}]
)
def test_bad_list_parameters_are_422(client, params):
    body = assert_problem(client.get("/tickets", params=params), 422)
    assert body["errors"][0]["field"].startswith("query.")


def test_unknown_route_and_method(client):
    assert_problem(client.get("/nope"), 404)
    assert_problem(client.put("/tickets/1", json={}), 405)


def test_classify_validation(client):
    assert_problem(client.post("/classify", json={"text": ""}), 422)
    assert_problem(client.post("/classify", json={"text": "x", "lang": "fr"}), 422)


def test_openapi_describes_every_field_and_error(client):
    schema = client.get("/openapi.json").json()
    operations = [
        (path, method, op)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    ]
    assert {(p, m) for p, m, _ in operations} >= {
        ("/tickets", "post"),
        ("/tickets", "get"),
        ("/tickets/{ticket_id}", "get"),
        ("/tickets/{ticket_id}", "delete"),
        ("/classify", "post"),
        ("/health", "get"),
    }
    for path, method, operation in operations:
        if path not in ("/health", "/metrics"):  # no input to refuse
            assert "422" in operation["responses"], (path, method)
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            if name not in {"ValidationError", "HTTPValidationError"}:
                assert spec.get("description"), f"{name}.{field} has no description"
    assert client.get("/docs").status_code == 200


def test_405_lists_every_allowed_method(client):
    response = client.options("/tickets/1")
    assert_problem(response, 405)
    assert response.headers["allow"] == "DELETE, GET, PATCH"


@pytest.mark.parametrize(
    "params", [{"q": "a\x00b"}, {"department": "IT\x00"}, {"status": "op\x1ben"}]
)
def test_control_characters_in_filters_are_422(client, params):
    assert_problem(client.get("/tickets", params=params), 422)


def test_lone_surrogates_are_422(client):
    response = client.post(
        "/tickets", content=b'{"title": "\\udb38abc"}', headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("path", ["/tickets/+1", "/tickets/%201", "/tickets/1_0", "/tickets/١"])
def test_ticket_numbers_in_paths_are_digits_only(client, path):
    response = client.get(path)
    assert response.status_code == 422, path
    assert "digits only" in response.text


@pytest.mark.parametrize("title", ["\u200b\u200b", "\u0301\u0301", "\ufeff", "a\x85b"])
def test_invisible_or_c1_titles_are_refused(client, title):
    response = client.post("/tickets", json={"title": title, "description": ""})
    assert response.status_code == 422, title


@pytest.mark.parametrize("q", ["\u0301\u0301", "\u0300", " \u0301 "])
def test_a_search_with_nothing_to_look_for_is_refused(client, q):
    client.post("/tickets", json={"title": "Imprimante en panne", "description": ""})
    response = client.get("/tickets", params={"q": q})
    assert response.status_code == 422


def test_c1_controls_are_refused_in_filters(client):
    assert client.get("/tickets", params={"department": "IT\x85"}).status_code == 422


def test_the_docs_work_offline(client):
    import re

    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
        r"url: '([^']+)'", page.text
    )
    assert assets and not [a for a in assets if a.startswith(("http://", "https://", "//"))]
    for asset in assets:
        if asset.endswith((".js", ".css")):
            assert client.get(asset).status_code == 200, asset
