"""Authorisation: no token is 401 everywhere, wrong role is 403, forms need the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi.routing import APIRoute

from services.web.routes import api, exports, members, pages
from tests.web import factories as f
from tests.web.conftest import Env, LiveServer

Client = Callable[..., httpx.Client]
PUBLIC = {
    "/healthz",
    "/login",
    "/logout",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/oauth2-redirect",
}


def world(env: Env) -> dict:
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        rec = f.record(s, rev, "1", p_include=0.7)
        out = {
            "rid": rec.id,
            "reviewer": f.user(s, "rev"),
            "resolver": f.user(s, "res", "resolver"),
            "admin": f.user(s, "adm", "admin"),
        }
        s.commit()
    return out


def concrete(path: str, rid: int) -> str:
    return path.replace("{slug}", "micro").replace("{record_id}", str(rid)).replace("{name}", "rev")


def routes() -> list[tuple[str, str]]:
    """Every route of the reviewer side (the app mounts exactly these routers)."""
    out = []
    reviewer_side = (api.hot, api.router, exports.router, members.router, pages.router)
    for route in (route for router in reviewer_side for route in router.routes):
        if isinstance(route, APIRoute) and route.path not in PUBLIC:
            out += [(m, route.path) for m in sorted(route.methods)]
    return out


def test_every_route_without_credentials_is_401(env: Env, client_for: Client) -> None:
    w = world(env)
    anonymous = client_for()
    checked = 0
    for method, path in routes():
        r = anonymous.request(method, concrete(path, w["rid"]))
        assert r.status_code == 401, (method, path, r.status_code)
        if path.startswith("/api/"):
            assert r.headers["www-authenticate"] == "Bearer"
        else:
            assert 'name="token"' in r.text  # people get the sign-in form
        checked += 1
    assert checked >= 24
    bogus = client_for("not-a-token")
    assert bogus.get("/api/v1/reviews").status_code == 401
    assert anonymous.get("/healthz").status_code == 200


def test_roles(env: Env, client_for: Client) -> None:
    w = world(env)
    reviewer, resolver, admin = (client_for(w[k]) for k in ("reviewer", "resolver", "admin"))
    admin_only = [
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("POST", "/api/v1/users/rev/disable"),
    ]
    for method, path in admin_only:
        assert reviewer.request(method, path, json={"name": "x"}).status_code == 403
        assert resolver.request(method, path, json={"name": "x"}).status_code == 403
    assert admin.get("/api/v1/users").status_code == 200
    resolver_only = [
        ("GET", "/api/v1/reviews/micro/conflicts"),
        ("POST", f"/api/v1/reviews/micro/records/{w['rid']}/resolution"),
        ("GET", "/reviews/micro/conflicts"),
    ]
    signed_in = sign_in(client_for(), w["reviewer"])
    for method, path in resolver_only:
        who = signed_in if not path.startswith("/api/") else reviewer
        r = who.request(method, path, json={"decision": "include"})
        assert r.status_code == 403, path
        assert "resolver" in r.text
    assert resolver.get("/api/v1/reviews/micro/conflicts").status_code == 200


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def sign_in(client: httpx.Client, token: str) -> httpx.Client:
    form = client.get("/login")
    r = client.post("/login", data={"token": token, "csrf_token": csrf_of(form.text), "next": "/"})
    assert r.status_code == 303, r.text
    return client


def test_sign_in_cookie_and_csrf(env: Env, client_for: Client) -> None:
    w = world(env)
    browser = client_for()
    form = browser.get("/login")
    cookie = form.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    # a sign-in form posted from elsewhere (no CSRF token) is refused
    assert browser.post("/login", data={"token": w["reviewer"]}).status_code == 403
    wrong = browser.post("/login", data={"token": "nope", "csrf_token": csrf_of(form.text)})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    sign_in(browser, w["reviewer"])
    page = browser.get("/reviews/micro/screen")
    assert page.status_code == 200
    token = csrf_of(page.text)
    decide = f"/reviews/micro/records/{w['rid']}/decide"
    # cross-site posts carry the cookie but cannot know the token
    assert browser.post(decide, data={"decision": "include"}).status_code == 403
    assert (
        browser.post(decide, data={"decision": "include", "csrf_token": "x" * 43}).status_code
        == 403
    )
    assert browser.post(f"/reviews/micro/records/{w['rid']}/skip", data={}).status_code == 403
    assert browser.post("/reviews/micro/undo", data={}).status_code == 403
    assert browser.post("/logout", data={}).status_code == 403
    ok = browser.post(decide, data={"decision": "include", "csrf_token": token})
    assert ok.status_code == 303
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    assert browser.get("/reviews/micro").status_code == 401


def test_disabled_user_loses_page_session(env: Env, client_for: Client) -> None:
    w = world(env)
    browser = sign_in(client_for(), w["reviewer"])
    assert browser.get("/").status_code == 200
    assert client_for(w["admin"]).post("/api/v1/users/rev/disable").status_code == 200
    assert browser.get("/").status_code == 401


def test_sign_in_redirect_stays_on_site(env: Env, client_for: Client) -> None:
    w = world(env)
    browser = client_for()
    form = browser.get("/login")
    r = browser.post(
        "/login",
        data={"token": w["reviewer"], "csrf_token": csrf_of(form.text), "next": "//evil.example/"},
    )
    assert r.headers["location"] == "/"


def test_generated_session_key_survives_restarts(env: Env, client_for: Client) -> None:
    from services.web.app import session_secret

    first = session_secret(env.runtime)
    assert len(first) >= 40 and session_secret(env.runtime) == first
    w = world(env)
    browser = sign_in(client_for(), w["reviewer"])
    cookies = dict(browser.cookies)
    restarted = LiveServer(env.app())  # a second start on the same database
    with restarted as other, httpx.Client(base_url=other, cookies=cookies) as again:
        assert again.get("/").status_code == 200
