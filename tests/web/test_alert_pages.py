"""The alerts page (admins only): subscribe, see a secret once, send a test, stop."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from lxml import html
from sqlmodel import select

from services.db.alerts import Subscription
from tests.alerts.receiver import running_receiver
from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import csrf_of, sign_in

Client = Callable[..., httpx.Client]


def test_admins_manage_alerts_from_the_page_and_reviewers_cannot(
    env: Env, client_for: Client
) -> None:
    proto = f.protocol("micro")
    env.add_protocol(proto)
    env.runtime.settings.alerts_allow_private = True
    with env.session() as s:
        f.review(s, proto)
        admin, reviewer = f.user(s, "ada", "admin"), f.user(s, "rex")
        s.commit()
    rex = sign_in(client_for(), reviewer)
    assert rex.get("/reviews/micro/alerts").status_code == 403
    assert "alerts-link" not in rex.get("/reviews/micro").text
    ada = sign_in(client_for(), admin)
    assert "alerts-link" in ada.get("/reviews/micro").text
    page = ada.get("/reviews/micro/alerts")
    with running_receiver("unused") as hook:
        made = ada.post(
            "/reviews/micro/alerts",
            data={"channel": "webhook", "target": hook.url(), "csrf_token": csrf_of(page.text)},
        )
        assert made.status_code == 303
        shown = html.fromstring(ada.get("/reviews/micro/alerts").text)
        secret = shown.get_element_by_id("shown-once").text_content()
        assert secret.startswith("Webhook secret (shown only now): ")
        again = ada.get("/reviews/micro/alerts").text
        assert "shown-once" not in again  # once only
        with env.session() as s:
            (row,) = s.exec(select(Subscription)).all()
            hook.secret = row.secret
        tested = ada.post(
            f"/reviews/micro/alerts/{row.id}/test", data={"csrf_token": csrf_of(again)}
        )
        assert tested.status_code == 303
        assert len(hook.received) == 1 and hook.received[0].signature_ok
    env.runtime.settings.alerts_allow_private = False  # as deployed: private targets refused
    refused = ada.post(
        "/reviews/micro/alerts",
        data={
            "channel": "webhook",
            "target": "http://169.254.169.254/",
            "csrf_token": csrf_of(again),
        },
    )
    assert refused.status_code == 303
    assert "Not subscribed:" in ada.get("/reviews/micro/alerts").text
    assert ada.post(f"/reviews/micro/alerts/{row.id}/stop", data={}).status_code == 403  # no CSRF
    stopped = ada.post(f"/reviews/micro/alerts/{row.id}/stop", data={"csrf_token": csrf_of(again)})
    assert stopped.status_code == 303
    with env.session() as s:
        assert s.get(Subscription, row.id).active is False  # type: ignore[union-attr]
