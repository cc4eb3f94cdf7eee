"""A registration on the reviewer pages links to ClinicalTrials.gov, not to PubMed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import lxml.html

from services.web.views import source_link
from tests.web import factories as f
from tests.web.conftest import Env, client_for, env  # noqa: F401 (fixtures)
from tests.web.test_auth import sign_in

Client = Callable[..., httpx.Client]


def test_source_link_by_key() -> None:
    assert source_link("NCT09900001") == {
        "url": "https://clinicaltrials.gov/study/NCT09900001",
        "link_text": "NCT09900001",
    }
    assert source_link("30000001") == {
        "url": "https://pubmed.ncbi.nlm.nih.gov/30000001/",
        "link_text": "PMID 30000001",
    }


def test_record_page_and_api_link_a_registration_to_the_registry(
    env: Env,  # noqa: F811
    client_for: Client,  # noqa: F811
) -> None:
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        rec = f.record(s, rev, "NCT09900001", title="Low-Dose Psilocybin for Low Mood")
        token = f.user(s, "alice")
        s.commit()
        record_id = rec.id
    browser = sign_in(client_for(), token)
    page = lxml.html.fromstring(browser.get(f"/reviews/micro/records/{record_id}").text)
    (link,) = page.xpath('//p[@class="meta"]/a')
    assert link.get("href") == "https://clinicaltrials.gov/study/NCT09900001"
    assert link.text_content() == "NCT09900001"
    assert page.findtext(".//title").startswith("NCT09900001")
    detail = client_for(token).get(f"/api/v1/reviews/micro/records/{record_id}").json()
    assert detail["url"] == "https://clinicaltrials.gov/study/NCT09900001"
