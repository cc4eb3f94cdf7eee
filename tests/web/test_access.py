"""Per-review access on SQLite and PostgreSQL: members get in, others get the 404 of a review
that does not exist, admins see everything, an install without memberships is unchanged,
and a revoked membership stops the very next request (token and page session alike)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import sign_in

Client = Callable[..., httpx.Client]


def world(env: Env) -> dict:
    """Two reviews with records; reviewers alice and bob, resolver carol, admin adm."""
    out: dict = {}
    with env.session() as s:
        for slug in ("micro", "other"):
            proto = f.protocol(slug, screening="dual", blind=False)
            env.add_protocol(proto)
            rev = f.review(s, proto)
            out[slug] = [r.id for r in f.records(s, rev, 3, start=100 if slug == "micro" else 200)]
        for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("carol", "resolver")):
            out[name] = f.user(s, name, role)
        out["adm"] = f.user(s, "adm", "admin")
        s.commit()
    return out


def grant(admin: httpx.Client, slug: str, name: str, role: str = "reviewer") -> None:
    r = admin.put(f"/api/v1/reviews/{slug}/members/{name}", json={"role": role})
    assert r.status_code == 200, r.text
    assert r.json() == {"review": slug, "user": name, "role": role}


def api_reads(slug: str, rid: int) -> list[tuple[str, str]]:
    """One route of each kind the API has for a review (summary, search, record, exports,
    PRISMA, queue and skip/undo)."""
    base = f"/api/v1/reviews/{slug}"
    return [
        ("GET", base),
        ("GET", f"{base}/records"),
        ("GET", f"{base}/records?q=record&revised=false"),
        ("GET", f"{base}/records/{rid}"),
        ("GET", f"{base}/export?format=csv"),
        ("GET", f"{base}/export?format=ris"),
        ("GET", f"{base}/prisma.svg"),
        ("POST", f"{base}/next"),
        ("POST", f"{base}/undo"),
    ]


def page_reads(slug: str, rid: int) -> list[str]:
    base = f"/reviews/{slug}"
    return [
        base,
        f"{base}/screen",
        f"{base}/records",
        f"{base}/records?q=record",
        f"{base}/records/{rid}",
        f"{base}/export.csv",
    ]


def test_without_memberships_every_user_sees_every_review(env: Env, client_for: Client) -> None:
    w = world(env)
    alice = client_for(w["alice"])
    assert [r["slug"] for r in alice.get("/api/v1/reviews").json()] == ["micro", "other"]
    for slug in ("micro", "other"):
        for method, path in api_reads(slug, w[slug][0]):
            r = alice.request(method, path)
            assert r.status_code in (200, 204), (path, r.status_code, r.text)
    page = sign_in(client_for(), w["alice"])
    for slug in ("micro", "other"):
        for path in page_reads(slug, w[slug][0]):
            assert page.get(path).status_code == 200, path
    # a resolver's account role still counts everywhere
    assert client_for(w["carol"]).get("/api/v1/reviews/other/conflicts").status_code == 200


def test_api_member_gets_in_others_get_404_admins_everywhere(env: Env, client_for: Client) -> None:
    w = world(env)
    admin = client_for(w["adm"])
    grant(admin, "micro", "alice")
    alice, bob = client_for(w["alice"]), client_for(w["bob"])
    unknown = alice.get("/api/v1/reviews/nosuch")
    assert unknown.status_code == 404
    for method, path in api_reads("micro", w["micro"][0]):
        r = alice.request(method, path)
        assert r.status_code in (200, 204), (path, r.status_code, r.text)
    for who in (alice, bob):  # bob is on no review now; the unguarded review is closed too
        for method, path in api_reads("other", w["other"][0]):
            r = who.request(method, path)
            assert r.status_code == 404, (path, r.status_code)
            # word for word the answer for a review that does not exist: no slug leaks
            assert r.json() == {"detail": "unknown review 'other'"}, path
    assert unknown.json() == {"detail": "unknown review 'nosuch'"}
    assert [r["slug"] for r in alice.get("/api/v1/reviews").json()] == ["micro"]
    assert bob.get("/api/v1/reviews").json() == []
    for slug in ("micro", "other"):
        for method, path in api_reads(slug, w[slug][0]):
            r = admin.request(method, path)
            assert r.status_code in (200, 204), (path, r.status_code, r.text)
    assert [r["slug"] for r in admin.get("/api/v1/reviews").json()] == ["micro", "other"]


def test_decisions_and_skip_are_refused_outside_a_review(env: Env, client_for: Client) -> None:
    w = world(env)
    admin = client_for(w["adm"])
    alice = client_for(w["alice"])
    held = alice.post("/api/v1/reviews/other/next").json()["id"]  # before any membership
    grant(admin, "micro", "alice")
    body = {"decision": "include"}
    r = alice.post(f"/api/v1/reviews/other/records/{held}/decisions", json=body)
    assert r.status_code == 404 and r.json() == {"detail": "unknown review 'other'"}
    assert alice.post(f"/api/v1/reviews/other/records/{held}/skip").status_code == 404
    rid = alice.post("/api/v1/reviews/micro/next").json()["id"]
    r = alice.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json=body)
    assert r.status_code == 201, r.text


def test_role_in_a_review_is_the_granted_one(env: Env, client_for: Client) -> None:
    w = world(env)
    admin = client_for(w["adm"])
    grant(admin, "micro", "bob", "resolver")  # a reviewer account, resolver here
    grant(admin, "micro", "carol", "reviewer")  # a resolver account, reviewer here
    grant(admin, "other", "carol", "resolver")
    bob, carol = client_for(w["bob"]), client_for(w["carol"])
    assert bob.get("/api/v1/reviews/micro/conflicts").status_code == 200
    assert bob.get("/api/v1/reviews/other/conflicts").status_code == 404
    r = carol.get("/api/v1/reviews/micro/conflicts")
    assert r.status_code == 403 and "you are a reviewer" in r.json()["detail"]
    assert carol.get("/api/v1/reviews/other/conflicts").status_code == 200
    bob_page, carol_page = sign_in(client_for(), w["bob"]), sign_in(client_for(), w["carol"])
    assert bob_page.get("/reviews/micro/conflicts").status_code == 200
    assert carol_page.get("/reviews/micro/conflicts").status_code == 403
    assert carol_page.get("/reviews/other/conflicts").status_code == 200


def test_pages_member_gets_in_others_get_404_dashboard_lists_visible(
    env: Env, client_for: Client
) -> None:
    w = world(env)
    grant(client_for(w["adm"]), "other", "alice")
    alice = sign_in(client_for(), w["alice"])
    for path in page_reads("other", w["other"][0]):
        assert alice.get(path).status_code == 200, path
    for path in page_reads("micro", w["micro"][0]):
        r = alice.get(path)
        assert r.status_code == 404, (path, r.status_code)
        # the page a review that does not exist gets, with only the slug changed
        missing = alice.get(path.replace("micro", "nosuch"))
        assert r.text.replace("micro", "nosuch") == missing.text, path
    index = alice.get("/").text
    assert "/reviews/other" in index and "/reviews/micro" not in index
    admin = sign_in(client_for(), w["adm"])
    index = admin.get("/").text
    assert "/reviews/other" in index and "/reviews/micro" in index
    for slug in ("micro", "other"):
        for path in page_reads(slug, w[slug][0]):
            assert admin.get(path).status_code == 200, path


def test_revoke_takes_effect_at_once(env: Env, client_for: Client) -> None:
    w = world(env)
    admin = client_for(w["adm"])
    grant(admin, "micro", "alice")
    grant(admin, "other", "alice")
    api = client_for(w["alice"])
    page = sign_in(client_for(), w["alice"])
    assert api.get("/api/v1/reviews/other").status_code == 200
    assert page.get("/reviews/other/screen").status_code == 200
    assert admin.delete("/api/v1/reviews/other/members/alice").status_code == 204
    assert api.get("/api/v1/reviews/other").status_code == 404
    assert api.post("/api/v1/reviews/other/next").status_code == 404
    assert page.get("/reviews/other/screen").status_code == 404
    assert api.get("/api/v1/reviews/micro").status_code == 200  # the other grant stays
    assert admin.delete("/api/v1/reviews/other/members/alice").status_code == 404


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_members_api_is_for_admins(env: Env, client_for: Client, who: str) -> None:
    w = world(env)
    r = client_for(w[who]).put("/api/v1/reviews/micro/members/bob", json={"role": "reviewer"})
    assert r.status_code == 403
    assert client_for(w[who]).get("/api/v1/reviews/micro/members").status_code == 403


def test_members_api_answers_bad_input_clearly(env: Env, client_for: Client) -> None:
    w = world(env)
    admin = client_for(w["adm"])
    assert admin.get("/api/v1/reviews/micro/members").json() == []
    r = admin.put("/api/v1/reviews/nosuch/members/bob", json={})
    assert r.status_code == 404 and r.json() == {"detail": "unknown review 'nosuch'"}
    r = admin.put("/api/v1/reviews/micro/members/nobody", json={})
    assert r.status_code == 404 and "nobody" in r.json()["detail"]
    r = admin.put("/api/v1/reviews/micro/members/bob", json={"role": "admin"})
    assert r.status_code == 422 and "role" in r.json()["detail"]
    r = admin.put("/api/v1/reviews/micro/members/adm", json={})
    assert r.status_code == 409 and "sees every review" in r.json()["detail"]
    r = admin.get("/api/v1/reviews/micro/members/bob")
    assert r.status_code == 404 and "not a member" in r.json()["detail"]
    grant(admin, "micro", "bob")
    grant(admin, "micro", "bob", "resolver")  # granting again changes the role
    assert admin.get("/api/v1/reviews/micro/members/bob").json()["role"] == "resolver"
    assert admin.get("/api/v1/reviews/micro/members").json() == [
        {"review": "micro", "user": "bob", "role": "resolver"}
    ]
    # a configured review without a sweep yet can be granted already
    env.add_protocol(f.protocol("later"))
    grant(admin, "later", "alice")


def test_review_list_applies_each_reviews_role(env: Env, client_for: Client) -> None:
    """A resolver account granted reviewer on a blind review is blinded there in the list too."""
    proto = f.protocol("blind", screening="dual", blind=True)
    env.add_protocol(proto)
    with env.session() as s:
        f.records(s, f.review(s, proto), 2)
        carol, adm = f.user(s, "carol", "resolver"), f.user(s, "adm", "admin")
        s.commit()
    grant(client_for(adm), "blind", "carol", "reviewer")
    carol_api = client_for(carol)
    assert carol_api.get("/api/v1/reviews/blind").json()["team"]["kappa_hidden"]
    assert carol_api.get("/api/v1/reviews").json()[0]["team"]["kappa_hidden"]
    assert not client_for(adm).get("/api/v1/reviews").json()[0]["team"]["kappa_hidden"]


def test_review_list_hides_others_not_yet_swept(env: Env, client_for: Client) -> None:
    """A configured review without records is listed as waiting only to those who may see it."""
    w = world(env)
    env.add_protocol(f.protocol("later"))
    env.add_protocol(f.protocol("secret"))
    admin = client_for(w["adm"])
    grant(admin, "later", "alice")
    alice = sign_in(client_for(), w["alice"]).get("/").text
    assert "Review later" in alice and "Review secret" not in alice
    assert "/reviews/micro" not in alice and "/reviews/other" not in alice
    bob = sign_in(client_for(), w["bob"]).get("/").text
    assert 'id="no-access"' in bob and "Review" not in bob.split("<h1>Reviews</h1>")[1]
    everything = sign_in(client_for(), w["adm"]).get("/").text
    assert "Review later" in everything and "Review secret" in everything


def guarded_routers() -> list:
    from services.web.routes import (
        alert_pages,
        api,
        exports,
        feeds,
        imports,
        members,
        pages,
        record_page,
        reports,
        search,
        subscriptions,
    )

    return [
        api.hot,
        api.router,
        exports.router,
        members.router,
        search.api_router,
        search.page_router,
        pages.router,
        record_page.router,
        feeds.router,
        subscriptions.router,
        alert_pages.router,
        imports.router,
        reports.router,
    ]


def test_every_route_naming_a_review_answers_404_to_a_non_member(
    env: Env, client_for: Client
) -> None:
    """Walks every route with ``{slug}``: a signed-in non-member meets the unknown-review 404
    before any other check (role, CSRF, body), so nothing tells the review exists."""
    from fastapi.routing import APIRoute

    w = world(env)
    grant(client_for(w["adm"]), "micro", "alice")
    api, page = client_for(w["alice"]), sign_in(client_for(), w["alice"])
    checked = 0
    for router in guarded_routers():
        for route in router.routes:
            if not isinstance(route, APIRoute) or "{slug}" not in route.path:
                continue
            path = (
                route.path.replace("{slug}", "other")
                .replace("{record_id}", str(w["other"][0]))
                .replace("{subscription_id}", "1")
                .replace("{name}", "bob")
                .replace("{fmt}", "csv")
            )
            client = api if path.startswith("/api/") else page
            for method in sorted(route.methods):
                if method == "POST" and "/decisions" in path:
                    r = client.request(method, path, json={"decision": "include"})
                else:
                    r = client.request(method, path)
                assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
                checked += 1
    assert checked >= 36  # every such route at the time of writing


def test_review_list_page_blinds_by_each_reviews_role(env: Env, client_for: Client) -> None:
    """The list of reviews shows a blind review's conflicts only to those resolving there."""
    proto = f.protocol("blind", screening="dual", blind=True)
    env.add_protocol(proto)
    with env.session() as s:
        f.records(s, f.review(s, proto), 1)
        tokens = {n: f.user(s, n) for n in ("alice", "bob")}
        tokens["carol"], tokens["adm"] = f.user(s, "carol", "resolver"), f.user(s, "adm", "admin")
        s.commit()
    admin = client_for(tokens["adm"])
    for name in ("alice", "bob"):
        grant(admin, "blind", name)
    grant(admin, "blind", "carol", "reviewer")
    for name, decision in (("alice", "include"), ("bob", "exclude")):
        voter = client_for(tokens[name])
        rid = voter.post("/api/v1/reviews/blind/next").json()["id"]
        voter.post(f"/api/v1/reviews/blind/records/{rid}/decisions", json={"decision": decision})
    assert admin.get("/api/v1/reviews/blind").json()["counts"]["conflicts"] == 1
    assert "· 1 conflicts" in sign_in(client_for(), tokens["adm"]).get("/").text
    assert "· 0 conflicts" in sign_in(client_for(), tokens["carol"]).get("/").text
    assert client_for(tokens["carol"]).get("/api/v1/reviews").json()[0]["counts"]["conflicts"] == 0
