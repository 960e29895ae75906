"""A ticket's life through the API: status moves per role, edits under ETags, comments,
history, the audit of deletions and the list's new filters (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.conftest import new_key

STATUSES = ["open", "in_progress", "resolved", "closed"]
# The moves the issue allows, written out (not read from the code under test).
STAFF_MAY = {
    ("open", "in_progress"),
    ("open", "resolved"),
    ("in_progress", "open"),
    ("in_progress", "resolved"),
    ("resolved", "open"),
    ("closed", "open"),
    ("open", "closed"),
    ("in_progress", "closed"),
    ("resolved", "closed"),
}
# A requester may close its own ticket, or reopen it once resolved or closed.
REQUESTER_MAY = {
    ("open", "closed"),
    ("in_progress", "closed"),
    ("resolved", "closed"),
    ("resolved", "open"),
    ("closed", "open"),
}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ticket_in(client, status: str, headers=None) -> int:
    """A new ticket (created with ``headers``' key, else the admin's) put in ``status``."""
    created = client.post("/tickets", json={"title": "Écran noir au bureau"}, headers=headers)
    assert created.status_code == 201
    number = created.json()["id"]
    if status != "open":
        moved = client.patch(f"/tickets/{number}", json={"status": status})
        assert moved.status_code == 200, moved.text
    return number


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_every_status_move_by_agents_and_admins(client, role):
    key = new_key(client, role)
    for before in STATUSES:
        for after in STATUSES:
            number = ticket_in(client, before)
            response = client.patch(f"/tickets/{number}", json={"status": after}, headers=auth(key))
            move = f"{role}: {before} -> {after}"
            if before == after or (before, after) in STAFF_MAY:
                assert response.status_code == 200, move
                assert response.json()["status"] == after, move
            else:
                assert response.status_code == 409, move
                body = response.json()
                assert body["current"] == before, move
                assert sorted(body["allowed"]) == sorted(
                    b for (a, b) in STAFF_MAY if a == before
                ), move
                assert client.get(f"/tickets/{number}").json()["status"] == before, move


def test_every_status_move_by_a_requester(client):
    key = new_key(client, "requester")
    other = new_key(client, "requester")
    for before in STATUSES:
        for after in STATUSES:
            move = f"requester: {before} -> {after}"
            own = ticket_in(client, before, headers=auth(key))
            response = client.patch(f"/tickets/{own}", json={"status": after}, headers=auth(key))
            if before == after or (before, after) in REQUESTER_MAY:
                assert response.status_code == 200, move
                assert response.json()["status"] == after, move
            else:
                assert response.status_code == 403, move
                assert client.get(f"/tickets/{own}").json()["status"] == before, move
            # Someone else's ticket is not found, whatever the move.
            theirs = ticket_in(client, before, headers=auth(other))
            response = client.patch(f"/tickets/{theirs}", json={"status": after}, headers=auth(key))
            assert response.status_code == 404, move


def test_a_requester_may_change_nothing_but_the_status(client):
    key = new_key(client, "requester")
    new_key(client, "agent", "alice")
    number = ticket_in(client, "open", headers=auth(key))
    for patch in (
        {"priority": "urgent"},
        {"assignee": "alice"},
        {"department": "HR"},
        {"needs_review": False},
        {"status": "closed", "priority": "high"},
    ):
        response = client.patch(f"/tickets/{number}", json=patch, headers=auth(key))
        assert response.status_code == 403, patch
    ticket = client.get(f"/tickets/{number}").json()
    assert (ticket["status"], ticket["priority"], ticket["assignee"]) == ("open", "normal", None)


def test_agents_change_priority_assignee_and_department(client):
    agent = new_key(client, "agent", "alice")
    number = ticket_in(client, "open")
    before = client.get(f"/tickets/{number}").json()
    assert before["predicted_department"] == before["department"]
    assert (before["priority"], before["assignee"]) == ("normal", None)
    assert before["updated_at"] == before["created_at"]
    target = "Facilities" if before["department"] != "Facilities" else "HR"
    response = client.patch(
        f"/tickets/{number}",
        json={"priority": "high", "assignee": "alice", "department": target.upper()},
        headers=auth(agent),
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["department"] == target  # any case, stored as the model's label
    assert after["predicted_department"] == before["department"]
    assert (after["priority"], after["assignee"], after["needs_review"]) == ("high", "alice", False)
    assert after["updated_at"] > before["updated_at"]
    assert client.get(f"/tickets/{number}").json() == after
    unassigned = client.patch(f"/tickets/{number}", json={"assignee": None}, headers=auth(agent))
    assert unassigned.status_code == 200 and unassigned.json()["assignee"] is None


def test_bad_patches_are_refused_and_change_nothing(client):
    new_key(client, "requester", "bob")
    revoked = "carol"
    new_key(client, "agent", revoked)
    client.app.state.service.keys.revoke(revoked)
    number = ticket_in(client, "open")
    before = client.get(f"/tickets/{number}").json()
    wrong_department = client.patch(f"/tickets/{number}", json={"department": "Marketing"})
    assert wrong_department.status_code == 422
    labels = client.get("/health").json()["model"]["labels"]
    assert wrong_department.json()["labels"] == labels
    assert all(label in wrong_department.json()["detail"] for label in labels)
    for name in ("bob", revoked, "nobody"):  # a requester, a revoked agent, no key
        response = client.patch(f"/tickets/{number}", json={"assignee": name})
        assert response.status_code == 422, name
        assert "agent or admin key" in response.json()["detail"]
    for patch in (
        {"status": None},
        {"status": "done"},
        {"priority": "critical"},
        {"department": None},
        {"title": "renamed"},
        {"assignee": ""},
        {"needs_review": "maybe"},
    ):
        assert client.patch(f"/tickets/{number}", json=patch).status_code == 422, patch
    assert client.patch("/tickets/999999", json={"priority": "low"}).status_code == 404
    assert client.get(f"/tickets/{number}").json() == before


def test_etag_and_if_match(client):
    number = ticket_in(client, "open")
    read = client.get(f"/tickets/{number}")
    tag = read.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"')
    assert client.get(f"/tickets/{number}", headers={"If-None-Match": tag}).status_code == 304
    # A value equal to the current one changes nothing, not even the ETag.
    same = client.patch(f"/tickets/{number}", json={"priority": "normal"})
    assert same.status_code == 200 and same.headers["etag"] == tag
    assert client.patch(f"/tickets/{number}", json={}).headers["etag"] == tag
    changed = client.patch(
        f"/tickets/{number}", json={"priority": "high"}, headers={"If-Match": tag}
    )
    assert changed.status_code == 200
    new_tag = changed.headers["etag"]
    assert new_tag != tag and client.get(f"/tickets/{number}").headers["etag"] == new_tag
    stale = client.patch(f"/tickets/{number}", json={"priority": "low"}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert "read it" in stale.json()["detail"].lower()
    weak = client.patch(
        f"/tickets/{number}", json={"priority": "low"}, headers={"If-Match": f"W/{new_tag}"}
    )
    assert weak.status_code == 412
    assert client.get(f"/tickets/{number}").json()["priority"] == "high"
    listed = client.patch(
        f"/tickets/{number}",
        json={"priority": "low"},
        headers={"If-Match": f'"nope", {new_tag}'},
    )
    assert listed.status_code == 200
    star = client.patch(
        f"/tickets/{number}", json={"priority": "urgent"}, headers={"If-Match": "*"}
    )
    assert star.status_code == 200
    created = client.post("/tickets", json={"title": "VPN"})
    assert created.headers["etag"] == client.get(created.headers["location"]).headers["etag"]


def test_two_agents_editing_one_ticket(client):
    first = new_key(client, "agent", "first")
    second = new_key(client, "agent", "second")
    number = ticket_in(client, "open")
    tag_first = client.get(f"/tickets/{number}", headers=auth(first)).headers["etag"]
    tag_second = client.get(f"/tickets/{number}", headers=auth(second)).headers["etag"]
    assert tag_first == tag_second
    won = client.patch(
        f"/tickets/{number}",
        json={"status": "in_progress", "assignee": "first"},
        headers={**auth(first), "If-Match": tag_first},
    )
    assert won.status_code == 200
    lost = client.patch(
        f"/tickets/{number}",
        json={"priority": "urgent", "assignee": "second"},
        headers={**auth(second), "If-Match": tag_second},
    )
    assert lost.status_code == 412
    now = client.get(f"/tickets/{number}", headers=auth(second))
    assert (now.json()["assignee"], now.json()["priority"]) == ("first", "normal")
    retried = client.patch(
        f"/tickets/{number}",
        json={"priority": "urgent"},
        headers={**auth(second), "If-Match": now.headers["etag"]},
    )
    assert retried.status_code == 200
    final = retried.json()
    assert (final["status"], final["assignee"], final["priority"]) == (
        "in_progress",
        "first",
        "urgent",
    )
    changes = [
        (e["field"], e["from"], e["to"], e["by"])
        for e in client.get(f"/tickets/{number}/events").json()["items"]
        if e["kind"] == "changed"
    ]
    assert changes == [
        ("status", "open", "in_progress", "first"),
        ("assignee", None, "first", "first"),
        ("priority", "normal", "urgent", "second"),
    ]


def test_comment_visibility(client):
    owner = new_key(client, "requester", "owner")
    stranger = new_key(client, "requester", "stranger")
    agent = new_key(client, "agent", "alice")
    number = ticket_in(client, "open", headers=auth(owner))
    assert (
        client.post(
            f"/tickets/{number}/comments",
            json={"body": "Toujours noir", "internal": True},
            headers=auth(owner),
        ).status_code
        == 403
    )
    posted = client.post(
        f"/tickets/{number}/comments", json={"body": "Toujours noir"}, headers=auth(owner)
    )
    assert posted.status_code == 201
    assert posted.json()["author"] == "owner" and posted.json()["internal"] is False
    note = client.post(
        f"/tickets/{number}/comments",
        json={"body": "Câble HDMI à changer", "internal": True},
        headers=auth(agent),
    )
    assert note.status_code == 201 and note.json()["internal"] is True
    reply = client.post(
        f"/tickets/{number}/comments", json={"body": "On passe à 14 h"}, headers=auth(agent)
    )
    assert reply.status_code == 201
    assert (
        client.post(
            f"/tickets/{number}/comments", json={"body": "moi aussi"}, headers=auth(stranger)
        ).status_code
        == 404
    )
    assert client.get(f"/tickets/{number}/comments", headers=auth(stranger)).status_code == 404

    def bodies(key, **params):
        page = client.get(f"/tickets/{number}/comments", params=params, headers=auth(key)).json()
        return page["total"], [c["body"] for c in page["items"]]

    assert bodies(agent) == (3, ["Toujours noir", "Câble HDMI à changer", "On passe à 14 h"])
    assert bodies(owner) == (2, ["Toujours noir", "On passe à 14 h"])
    assert bodies(owner, internal="true") == (0, [])
    assert bodies(agent, internal="false") == (2, ["Toujours noir", "On passe à 14 h"])
    assert bodies(agent, limit=1, offset=1) == (3, ["Câble HDMI à changer"])
    assert bodies(owner, sort="-created_at", limit=1) == (2, ["On passe à 14 h"])
    for bad in ({"body": ""}, {"body": "   "}, {"body": "a\x00b"}, {"body": "x", "extra": 1}):
        response = client.post(f"/tickets/{number}/comments", json=bad, headers=auth(agent))
        assert response.status_code == 422, bad
    assert client.post("/tickets/999999/comments", json={"body": "x"}).status_code == 404


def test_the_history_is_complete_and_in_order(client):
    owner = new_key(client, "requester", "owner")
    agent = new_key(client, "agent", "alice")
    created = client.post(
        "/tickets", json={"title": "Le VPN ne se connecte plus"}, headers=auth(owner)
    ).json()
    number = created["id"]
    client.patch(f"/tickets/{number}", json={"status": "in_progress"}, headers=auth(agent))
    client.patch(
        f"/tickets/{number}", json={"priority": "high", "assignee": "alice"}, headers=auth(agent)
    )
    client.post(
        f"/tickets/{number}/comments", json={"body": "Note", "internal": True}, headers=auth(agent)
    )
    client.post(f"/tickets/{number}/comments", json={"body": "Réglé ?"}, headers=auth(agent))
    client.patch(f"/tickets/{number}", json={"status": "resolved"}, headers=auth(agent))
    client.patch(f"/tickets/{number}", json={"status": "open"}, headers=auth(owner))

    events = client.get(f"/tickets/{number}/events", headers=auth(agent)).json()
    summary = [
        (e["kind"], e.get("field"), e.get("from"), e.get("to"), e["by"], e["internal"])
        for e in events["items"]
    ]
    assert summary == [
        ("created", None, None, None, "owner", False),
        ("changed", "status", "open", "in_progress", "alice", False),
        ("changed", "priority", "normal", "high", "alice", False),
        ("changed", "assignee", None, "alice", "alice", False),
        ("commented", None, None, None, "alice", True),
        ("commented", None, None, None, "alice", False),
        ("changed", "status", "in_progress", "resolved", "alice", False),
        ("changed", "status", "resolved", "open", "owner", False),
    ]
    assert events["total"] == 8
    routing = events["items"][0]["routing"]
    assert routing == {k: created[k] for k in routing}
    times = [e["at"] for e in events["items"]]
    assert times == sorted(times)
    ids = [e["id"] for e in events["items"]]
    assert ids == sorted(ids)
    comments = client.get(f"/tickets/{number}/comments", headers=auth(agent)).json()["items"]
    assert [e["comment_id"] for e in events["items"] if e["kind"] == "commented"] == [
        c["id"] for c in comments
    ]
    seen_by_owner = client.get(f"/tickets/{number}/events", headers=auth(owner)).json()
    assert seen_by_owner["total"] == 7
    assert [e for e in seen_by_owner["items"] if e["internal"]] == []
    page = client.get(f"/tickets/{number}/events", params={"limit": 2, "offset": 1}).json()
    assert [e["id"] for e in page["items"]] == ids[1:3]


def test_deletions_stay_in_the_audit_log(client):
    owner = new_key(client, "requester", "owner")
    agent = new_key(client, "agent", "alice")
    mine = ticket_in(client, "open", headers=auth(owner))
    other = ticket_in(client, "open")
    kept = ticket_in(client, "open")
    client.post(f"/tickets/{mine}/comments", json={"body": "effacez-moi"}, headers=auth(owner))
    assert client.delete(f"/tickets/{mine}", headers=auth(owner)).status_code == 204
    assert client.delete(f"/tickets/{other}").status_code == 204
    assert client.get(f"/tickets/{mine}/comments").status_code == 404
    assert client.get(f"/tickets/{mine}/events").status_code == 404
    audit = client.get("/audit").json()
    entries = [(e["ticket_id"], e["action"], e["by"]) for e in audit["items"]]
    assert entries == [(other, "deleted", client_admin_name(client)), (mine, "deleted", "owner")]
    assert audit["total"] == 2
    assert audit["items"][0]["at"] >= audit["items"][1]["at"]
    only = client.get("/audit", params={"ticket": mine}).json()
    assert [e["ticket_id"] for e in only["items"]] == [mine] and only["total"] == 1
    assert client.get("/audit", params={"ticket": kept}).json()["total"] == 0
    assert (
        client.get("/audit", params={"limit": 1, "offset": 1}).json()["items"][0]["ticket_id"]
        == mine
    )
    for key in (owner, agent):
        assert client.get("/audit", headers=auth(key)).status_code == 403
    assert "effacez-moi" not in str(client.get("/audit").json())


def client_admin_name(client) -> str:
    """The name of the admin key the ``client`` fixture sends."""
    return client.app.state.service.keys.verify(
        client.headers["Authorization"].removeprefix("Bearer ")
    ).name


def test_list_filters_and_sorts(client):
    agent = new_key(client, "agent", "alice")
    new_key(client, "agent", "bruno")
    requester = new_key(client, "requester", "rita")
    numbers = [ticket_in(client, "open", headers=auth(requester)) for _ in range(4)]
    numbers.append(ticket_in(client, "open"))
    client.patch(f"/tickets/{numbers[0]}", json={"assignee": "alice", "priority": "urgent"})
    client.patch(f"/tickets/{numbers[1]}", json={"assignee": "bruno", "priority": "low"})
    client.patch(f"/tickets/{numbers[2]}", json={"assignee": "alice", "priority": "high"})
    client.patch(f"/tickets/{numbers[3]}", json={"needs_review": True})
    client.patch(f"/tickets/{numbers[4]}", json={"needs_review": False})

    def ids(key=None, **params):
        response = client.get("/tickets", params=params, headers=auth(key) if key else None)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [t["id"] for t in body["items"]]

    assert ids(assignee="alice") == [numbers[2], numbers[0]]
    assert ids(agent, assignee="me") == [numbers[2], numbers[0]]
    assert ids(assignee="none") == [numbers[4], numbers[3]]
    assert ids(priority="low") == [numbers[1]]
    assert ids(priority="normal") == [numbers[4], numbers[3]]
    assert numbers[3] in ids(needs_review="true") and numbers[4] not in ids(needs_review="true")
    assert numbers[4] in ids(needs_review="false")
    assert ids(created_by="rita") == numbers[3::-1]
    assert ids(requester, created_by="me") == numbers[3::-1]
    assert ids(created_by="me") == [numbers[4]]
    assert ids(assignee="alice", priority="high") == [numbers[2]]
    assert ids(sort="created_at") == numbers
    assert ids(sort="-created_at") == numbers[::-1]
    # Equal priorities: newest first.
    assert ids(sort="-priority") == [numbers[0], numbers[2], numbers[4], numbers[3], numbers[1]]
    assert ids(sort="priority") == [numbers[1], numbers[4], numbers[3], numbers[2], numbers[0]]
    client.patch(f"/tickets/{numbers[1]}", json={"priority": "normal"})
    assert ids(sort="-updated_at")[0] == numbers[1]
    assert ids(sort="updated_at")[-1] == numbers[1]
    assert ids(requester, assignee="alice") == [numbers[2], numbers[0]]  # still only its own


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/tickets", {"statuss": "open"}),
        ("/tickets", {"sort": "title"}),
        ("/tickets", {"priority": "critical"}),
        ("/tickets", {"status": "done"}),
        ("/tickets", {"needs_review": "perhaps"}),
        ("/tickets/1/comments", {"page": "2"}),
        ("/tickets/1/events", {"kind": "created"}),
        ("/audit", {"ticket_id": "1"}),
        ("/tickets/1", {"verbose": "1"}),
    ],
)
def test_unknown_or_bad_query_parameters_are_422(client, path, params):
    ticket_in(client, "open")
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    name = next(iter(params))
    if name not in {"sort", "priority", "status", "needs_review"}:
        assert f"unknown query parameter {name}" in response.json()["detail"]
