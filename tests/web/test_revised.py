"""A record PubMed revised after a human decided it is flagged on its page and in the
records list, with a word diff of what changed; deciding again clears the flag. The
revision goes through the sweep's own store, as in production (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import lxml.html

from services.pipeline.store import ensure_review, store_records
from services.records import Record as ParsedRecord
from services.web.revision import tokens, word_diff
from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import sign_in

Client = Callable[..., httpx.Client]
API = "/api/v1/reviews/micro"
BEFORE = "Adults took 1 mg psilocybin or placebo. Mood improved."
AFTER = "Adults took 10 mg psilocybin or placebo. Mood did not change."


def store(env: Env, *records: ParsedRecord) -> None:
    """Store as a sweep does: new content becomes a new RecordVersion."""
    proto = env.runtime.protocols["micro"]
    with env.session() as s:
        review = ensure_review(session=s, protocol=proto)
        assert review.id is not None
        store_records(session=s, records=records, review_id=review.id, sweep_id=None)
        s.commit()


def setup(env: Env, *, blind: bool, screening: str = "single") -> dict[str, str]:
    env.add_protocol(f.protocol(blind=blind, screening=screening))
    store(
        env,
        ParsedRecord(pmid="501", title="Low dose psilocybin trial", abstract=BEFORE),
        ParsedRecord(pmid="502", title="Another trial", abstract="Unchanged."),
    )
    with env.session() as s:
        users = {"alice": f.user(s, "alice"), "bob": f.user(s, "bob")}
        users["carol"] = f.user(s, "carol", "resolver")
        s.commit()
    return users


def decide_all(client: httpx.Client) -> dict[str, int]:
    """Claim and include every record; their ids by PMID."""
    ids = {}
    while (r := client.post(f"{API}/next")).status_code == 200:
        rid = r.json()["id"]
        ids[r.json()["pmid"]] = rid
        d = client.post(f"{API}/records/{rid}/decisions", json={"decision": "include"})
        assert d.status_code == 201, d.text
    return ids


def revised_in_list(client: httpx.Client) -> dict[str, bool]:
    return {i["pmid"]: i["revised"] for i in client.get(f"{API}/records").json()["items"]}


def test_word_diff_marks_words_lost_and_gained() -> None:
    assert word_diff("a 1 mg dose", "a 10 mg dose") == "a <del>1 </del><ins>10 </ins>mg dose"
    assert word_diff("same text", "same text") == "same text"
    assert word_diff("", "new words") == "<ins>new words</ins>"
    assert word_diff("x <b>", "x <i>") == "x <del>&lt;b&gt;</del><ins>&lt;i&gt;</ins>"
    assert "".join(tokens("  two  words ")) == "  two  words "


def test_a_record_revised_after_a_decision_is_flagged_with_a_diff(
    env: Env, client_for: Client
) -> None:
    users = setup(env, blind=False)
    alice = client_for(users["alice"])
    ids = decide_all(alice)
    assert revised_in_list(alice) == {"501": False, "502": False}

    store(env, ParsedRecord(pmid="501", title="Low dose psilocybin trial", abstract=AFTER))
    assert revised_in_list(alice) == {"501": True, "502": False}

    page = sign_in(client_for(), users["alice"])
    listing = lxml.html.fromstring(page.get("/reviews/micro/records").text)
    flagged = listing.xpath('//tr[.//span[contains(@class, "revised")]]/td[1]/text()')
    assert flagged == ["501"]

    doc = lxml.html.fromstring(page.get(f"/reviews/micro/records/{ids['501']}").text)
    assert "Changed since you decided" in doc.get_element_by_id("revised-flag").text_content()
    diff = doc.get_element_by_id("revised-abstract")
    assert [d.text_content().strip() for d in diff.xpath(".//del")] == ["1", "improved."]
    assert [i.text_content().strip() for i in diff.xpath(".//ins")] == ["10", "did not change."]
    assert not doc.get_element_by_id("revised-title").xpath(".//ins|.//del")
    assert doc.get_element_by_id("record-abstract").text_content() == AFTER
    unchanged = page.get(f"/reviews/micro/records/{ids['502']}").text
    assert 'id="revised"' not in unchanged

    # another reviewer (not blind) is told a reviewer decided on older text
    other = sign_in(client_for(), users["bob"])
    seen = other.get(f"/reviews/micro/records/{ids['501']}").text
    assert "Changed since a reviewer decided" in seen

    # deciding again on the new text clears the flag
    r = alice.post(f"{API}/records/{ids['501']}/decisions", json={"decision": "exclude"})
    assert r.status_code == 201, r.text
    assert revised_in_list(alice) == {"501": False, "502": False}


def test_blind_reviewers_are_flagged_only_for_their_own_decisions(
    env: Env, client_for: Client
) -> None:
    users = setup(env, blind=True)
    decide_all(client_for(users["alice"]))
    store(env, ParsedRecord(pmid="501", title="Low dose psilocybin trial", abstract=AFTER))
    assert revised_in_list(client_for(users["alice"]))["501"] is True
    assert revised_in_list(client_for(users["bob"]))["501"] is False  # alice's timing is hidden
    assert revised_in_list(client_for(users["carol"]))["501"] is True  # resolvers see decisions


def test_the_screening_page_flags_a_record_revised_since_the_other_reviewer_decided(
    env: Env, client_for: Client
) -> None:
    users = setup(env, blind=False, screening="dual")
    decide_all(client_for(users["alice"]))
    store(env, ParsedRecord(pmid="501", title="Low dose psilocybin trial (update)", abstract=AFTER))
    page = sign_in(client_for(), users["bob"])
    html = page.get("/reviews/micro/screen").text
    while "PMID 501" not in html:  # bob's queue order: skip to the revised record
        rid = lxml.html.fromstring(html).get_element_by_id("screen").get("data-record-id")
        csrf = lxml.html.fromstring(html).xpath('//input[@name="csrf_token"]/@value')[0]
        page.post(f"/reviews/micro/records/{rid}/skip", data={"csrf_token": csrf})
        html = page.get("/reviews/micro/screen").text
    doc = lxml.html.fromstring(html)
    assert (
        "Changed since a reviewer decided" in doc.get_element_by_id("revised-flag").text_content()
    )
    assert [i.text_content() for i in doc.get_element_by_id("revised-title").xpath(".//ins")] == [
        "(update)"
    ]
