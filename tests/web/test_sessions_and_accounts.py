"""Page sessions end when they should (sign-out, disable, new token, lifetime, idle), cookies and
headers are safe, and the last admin cannot be locked out."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.web.conftest import Env
from tests.web.test_auth import csrf_of, sign_in, world

Client = Callable[..., httpx.Client]


def replay(base: str, cookies: dict[str, str]) -> int:
    """What a captured cookie gets from a fresh client (another browser, an attacker)."""
    with httpx.Client(base_url=base, cookies=cookies) as other:
        return other.get("/").status_code


def captured(browser: httpx.Client) -> dict[str, str]:
    return dict(browser.cookies)


def test_a_cookie_captured_before_sign_out_no_longer_signs_in(env: Env, client_for: Client) -> None:
    w = world(env)
    browser = sign_in(client_for(), w["reviewer"])
    elsewhere = sign_in(client_for(), w["reviewer"])  # the same person on a second device
    cookies = captured(browser)
    base = str(browser.base_url)
    assert replay(base, cookies) == 200
    token = csrf_of(browser.get("/reviews/micro/screen").text)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    assert replay(base, cookies) == 401
    assert elsewhere.get("/").status_code == 401  # sign-out ends every session of the user
    assert sign_in(client_for(), w["reviewer"]).get("/").status_code == 200  # and a new one works


def test_disable_and_a_new_token_end_sessions_and_the_old_token(
    env: Env, client_for: Client
) -> None:
    w = world(env)
    admin = client_for(w["admin"])
    browser = sign_in(client_for(), w["reviewer"])
    cookies, base = captured(browser), str(browser.base_url)
    r = admin.post("/api/v1/users/rev/token")
    assert r.status_code == 200
    new_token = r.json()["token"]
    assert replay(base, cookies) == 401
    assert client_for(w["reviewer"]).get("/api/v1/reviews").status_code == 401
    assert client_for(new_token).get("/api/v1/reviews").status_code == 200

    browser = sign_in(client_for(), new_token)
    cookies = captured(browser)
    assert admin.post("/api/v1/users/rev/disable").status_code == 200
    assert admin.post("/api/v1/users/rev/enable").status_code == 200
    assert replay(base, cookies) == 401  # enabling again does not revive old sessions
    assert client_for(new_token).get("/api/v1/reviews").status_code == 200


def test_sessions_expire_after_their_lifetime_and_when_idle(env: Env, client_for: Client) -> None:
    w = world(env)
    browser = sign_in(client_for(), w["reviewer"])
    assert browser.get("/").status_code == 200
    env.runtime.settings.session_idle_minutes = 1 / 60  # one second without use
    time.sleep(2.1)
    assert browser.get("/").status_code == 401
    env.runtime.settings.session_idle_minutes = 60
    env.runtime.settings.session_hours = 1 / 3600  # one second in all
    browser = sign_in(client_for(), w["reviewer"])
    assert browser.get("/").status_code == 200
    time.sleep(2.1)
    assert browser.get("/").status_code == 401


def test_secure_cookies_when_the_public_url_is_https(env: Env, client_for: Client) -> None:
    env.runtime.settings.public_url = "https://review.example.org"
    assert env.runtime.settings.cookies_secure
    cookie = client_for().get("/login").headers["set-cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie
    env.runtime.settings.secure_cookies = False
    assert not env.runtime.settings.cookies_secure


def test_security_headers_on_pages_and_api(env: Env, client_for: Client) -> None:
    w = world(env)
    for response in (
        client_for().get("/login"),
        client_for(w["reviewer"]).get("/api/v1/reviews"),
        sign_in(client_for(), w["reviewer"]).get("/reviews/micro/screen"),
    ):
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    docs = client_for().get("/api/v1/docs")
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_the_last_active_admin_cannot_be_disabled(env: Env, client_for: Client) -> None:
    w = world(env)
    admin = client_for(w["admin"])
    r = admin.post("/api/v1/users/adm/disable")
    assert r.status_code == 409 and "last active admin" in r.json()["detail"]
    users = admin.get("/api/v1/users")
    assert users.status_code == 200  # still an admin
    assert all(u["created_at"].endswith("+00:00") for u in users.json())  # UTC, both databases
    made = admin.post("/api/v1/users", json={"name": "second", "role": "admin"})
    assert made.status_code == 201
    assert admin.post("/api/v1/users/adm/disable").status_code == 200
    assert admin.get("/api/v1/users").status_code == 401
    second = client_for(made.json()["token"])
    assert second.post("/api/v1/users/second/disable").status_code == 409
    assert second.post("/api/v1/users/nobody/enable").status_code == 404


def test_user_names_follow_one_rule(env: Env, client_for: Client) -> None:
    w = world(env)
    admin = client_for(w["admin"])
    for bad in ("x/y", " ", "two words", "nul\x00", "-dash-first"):
        r = admin.post("/api/v1/users", json={"name": bad})
        assert r.status_code == 422, bad
        assert "user name" in r.json()["detail"] or "control" in r.json()["detail"]
    assert admin.post("/api/v1/users", json={"name": "Zoë.o'"}).status_code == 422
    assert admin.post("/api/v1/users", json={"name": "zoe.k@lab-2"}).status_code == 201
    assert admin.post("/api/v1/users", json={"name": "zoe.k@lab-2"}).status_code == 409
