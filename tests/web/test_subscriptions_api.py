"""Alert subscriptions through the API: admins only, secrets shown once, private targets refused,
a signed sample reaches a real receiver, and a stopped subscription's feed token stops working."""

from __future__ import annotations

from collections.abc import Callable

import feedparser
import httpx

from tests.alerts.receiver import running_receiver
from tests.web import factories as f
from tests.web.conftest import Env

Client = Callable[..., httpx.Client]
BASE = "/api/v1/reviews/micro/subscriptions"


def setup(env: Env) -> tuple[str, str]:
    proto = f.protocol("micro")
    env.add_protocol(proto)
    with env.session() as s:
        f.review(s, proto)
        admin, reviewer = f.user(s, "ada", "admin"), f.user(s, "rex", "reviewer")
        s.commit()
    return admin, reviewer


def test_admins_manage_subscriptions_and_the_secret_is_shown_once(
    env: Env, client_for: Client
) -> None:
    admin_token, reviewer_token = setup(env)
    env.runtime.settings.alerts_allow_private = True
    admin, reviewer = client_for(admin_token), client_for(reviewer_token)
    assert reviewer.get(BASE).status_code == 403
    assert reviewer.post(BASE, json={"channel": "atom"}).status_code == 403

    with running_receiver("api-secret") as hook:
        made = admin.post(
            BASE,
            json={"channel": "webhook", "target": hook.url(), "secret": "api-secret"},
        )
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["secret"] is None  # given by the caller: not echoed
        sub_id = body["subscription"]["id"]
        tested = admin.post(f"{BASE}/{sub_id}/test")
        assert tested.json()["status"] == "delivered"
        assert "url-token-xyz" not in tested.json()["reason"]  # a URL's query is never echoed
        assert len(hook.received) == 1 and hook.received[0].signature_ok

    generated = admin.post(BASE, json={"channel": "webhook", "target": "http://127.0.0.1:9/h"})
    secret = generated.json()["secret"]
    assert isinstance(secret, str) and len(secret) >= 32
    listed = admin.get(BASE).json()
    assert [s["channel"] for s in listed] == ["webhook", "webhook"]
    assert secret not in httpx.Response(200, json=listed).text  # never shown again
    assert all("secret" not in s and "token_hash" not in s for s in listed)


def test_private_targets_are_refused_with_the_reason(env: Env, client_for: Client) -> None:
    admin_token, _ = setup(env)
    admin = client_for(admin_token)
    for target in ("http://127.0.0.1/hook", "http://169.254.169.254/", "file:///etc/passwd"):
        refused = admin.post(BASE, json={"channel": "webhook", "target": target})
        assert refused.status_code == 422, target
        assert refused.json()["detail"]
    bad = admin.post(BASE, json={"channel": "pigeon"})
    assert bad.status_code == 422
    no_address = admin.post(BASE, json={"channel": "email", "target": "not an address"})
    assert no_address.status_code == 422


def test_a_stopped_feed_subscription_revokes_its_url(env: Env, client_for: Client) -> None:
    admin_token, _ = setup(env)
    admin = client_for(admin_token)
    made = admin.post(BASE, json={"channel": "atom"}).json()
    feed_url = made["feed_url"]
    assert feed_url.startswith("http") and "/reviews/micro/feed.atom?token=" in feed_url
    path = feed_url[feed_url.index("/reviews/") :]
    anonymous = client_for()
    feed = anonymous.get(path)
    assert feed.status_code == 200
    assert feedparser.parse(feed.text).bozo == 0
    stopped = admin.delete(f"{BASE}/{made['subscription']['id']}")
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    assert anonymous.get(path).status_code in (403, 404)
    assert admin.delete(f"{BASE}/999999").status_code == 404
    assert admin.post(f"{BASE}/999999/test").status_code == 404
