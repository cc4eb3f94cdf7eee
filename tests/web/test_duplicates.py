"""Duplicate groups on the pages: the primary's record and screening pages list the other
copies (source, title, ids, a link to each), a duplicate's page names its primary, and a
resolver or admin splits a wrong member with a CSRF-checked form, after which the member
is queued on its own. Through a live server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlmodel import select

from services.db.imports import SPLIT, DuplicateMember
from services.imports.commands import run_import
from services.pipeline.dedup import list_groups
from services.protocols import Protocol
from tests.imports.test_import_store import NBIB, RIS
from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import csrf_of, sign_in

Client = Callable[..., httpx.Client]


def grouped(env: Env, tmp_path: Path) -> dict[str, object]:
    """A review whose RIS import and nbib import hold the same trial: one group, the nbib
    record (it has a PMID) its primary, the RIS record its duplicate."""
    env.add_protocol(Protocol(slug="micro", title="Micro", query="psilocybin"))
    (tmp_path / "zotero.ris").write_text(RIS, encoding="utf-8")
    (tmp_path / "pubmed.nbib").write_text(NBIB, encoding="utf-8")
    run_import(env.runtime, slug="micro", path=tmp_path / "zotero.ris", fmt=None, screen=False)
    run_import(env.runtime, slug="micro", path=tmp_path / "pubmed.nbib", fmt=None, screen=False)
    with env.session() as s:
        review_id = s.exec(select(DuplicateMember.review_id)).first()
        assert review_id is not None
        (group,) = list_groups(session=s, review_id=review_id)
        duplicate = next(m["record_id"] for m in group.members if m["role"] == "duplicate")
        out = {
            "group": group.id,
            "primary": group.primary_record_id,
            "duplicate": duplicate,
            "reviewer": f.user(s, "rita"),
            "resolver": f.user(s, "ross", "resolver"),
            "admin": f.user(s, "ada", "admin"),
        }
        s.commit()
    return out


def section(html: str) -> str:
    match = re.search(r'<section class="card duplicates".*?</section>', html, re.S)
    assert match, "no duplicates section"
    return match.group(0)


def test_the_primary_lists_its_copies_and_a_copy_names_its_primary(
    env: Env, client_for: Client, tmp_path: Path
) -> None:
    w = grouped(env, tmp_path)
    browser = sign_in(client_for(), str(w["reviewer"]))
    page = browser.get(f"/reviews/micro/records/{w['primary']}")
    assert page.status_code == 200
    listed = section(page.text)
    assert "Duplicates of this record (1)" in listed
    assert f'href="/reviews/micro/records/{w["duplicate"]}"' in listed
    assert "Psilocybin microdosing and mood: a randomised trial" in listed  # the copy's title
    assert "zotero.ris (ris)" in listed and "doi:10.1000/psi.1" in listed.lower()
    assert "matched on" in listed
    assert "split-form" not in listed  # a reviewer may look, not split

    copy = browser.get(f"/reviews/micro/records/{w['duplicate']}")
    shown = section(copy.text)
    assert "A duplicate" in shown and "not queued on its own" in shown
    assert f'id="duplicate-primary" href="/reviews/micro/records/{w["primary"]}"' in shown
    assert "PMID 30000001" in shown and "pubmed.nbib (nbib)" in shown

    screen = browser.get("/reviews/micro/screen")
    assert screen.status_code == 200
    if f'data-record-id="{w["primary"]}"' in screen.text:  # the queue's head is the primary
        assert f'href="/reviews/micro/records/{w["duplicate"]}"' in section(screen.text)
    assert f'id="screen" data-record-id="{w["duplicate"]}"' not in screen.text  # never claimed


def test_the_screening_page_shows_the_copies_of_the_record_on_screen(
    env: Env, client_for: Client, tmp_path: Path
) -> None:
    w = grouped(env, tmp_path)
    browser = sign_in(client_for(), str(w["reviewer"]))
    seen = set()
    for _ in range(3):  # the queue holds the primary and the unrelated record
        page = browser.get("/reviews/micro/screen")
        rid = int(re.search(r'id="screen" data-record-id="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
        seen.add(rid)
        if rid == w["primary"]:
            listed = section(page.text)
            assert f'href="/reviews/micro/records/{w["duplicate"]}"' in listed
            break
        assert 'class="card duplicates"' not in page.text
        browser.post(f"/reviews/micro/records/{rid}/skip", data={"csrf_token": csrf_of(page.text)})
    assert w["primary"] in seen and w["duplicate"] not in seen


def test_a_resolver_splits_a_wrong_member_and_it_is_queued_on_its_own(
    env: Env, client_for: Client, tmp_path: Path
) -> None:
    w = grouped(env, tmp_path)
    url = f"/reviews/micro/duplicates/{w['group']}/split"
    here = f"/reviews/micro/records/{w['primary']}"

    reviewer = sign_in(client_for(), str(w["reviewer"]))
    token = csrf_of(reviewer.get(here).text)
    refused = reviewer.post(url, data={"record_id": w["duplicate"], "csrf_token": token})
    assert refused.status_code == 403 and "resolver" in refused.text

    resolver = sign_in(client_for(), str(w["resolver"]))
    page = resolver.get(here)
    assert "split-form" in section(page.text)
    no_csrf = resolver.post(url, data={"record_id": w["duplicate"]})
    assert no_csrf.status_code == 403  # a cross-site post carries the cookie, not the token
    token = csrf_of(page.text)
    wrong = resolver.post(
        f"/reviews/micro/duplicates/{w['group']}/split",
        data={"record_id": 999, "csrf_token": token},
    )
    assert wrong.status_code == 404
    done = resolver.post(url, data={"record_id": w["duplicate"], "csrf_token": token, "next": here})
    assert done.status_code == 303 and done.headers["location"] == here
    after = resolver.get(here)
    assert f"Split record {w['duplicate']}" in after.text  # the flash
    assert 'class="card duplicates"' not in after.text  # the group has no other member now
    alone = resolver.get(f"/reviews/micro/records/{w['duplicate']}")
    assert 'class="card duplicates"' not in alone.text
    with env.session() as s:
        member = s.get(DuplicateMember, (w["group"], w["duplicate"]))
        assert member is not None and member.role == SPLIT

    # the split copy is in the queue now: the reviewer reaches it
    claimed = set()
    for _ in range(4):
        page = reviewer.get("/reviews/micro/screen")
        found = re.search(r'id="screen" data-record-id="(\d+)"', page.text)
        if found is None:
            break
        rid = int(found.group(1))
        claimed.add(rid)
        reviewer.post(
            f"/reviews/micro/records/{rid}/decide",
            data={"decision": "include", "csrf_token": csrf_of(page.text)},
        )
    assert {w["primary"], w["duplicate"]} <= claimed


def test_an_admin_splits_a_duplicate_from_its_own_page(
    env: Env, client_for: Client, tmp_path: Path
) -> None:
    w = grouped(env, tmp_path)
    admin = sign_in(client_for(), str(w["admin"]))
    here = f"/reviews/micro/records/{w['duplicate']}"
    page = admin.get(here)
    form = section(page.text)
    assert f'action="/reviews/micro/duplicates/{w["group"]}/split"' in form
    assert f'name="record_id" value="{w["duplicate"]}"' in form
    done = admin.post(
        f"/reviews/micro/duplicates/{w['group']}/split",
        data={"record_id": w["duplicate"], "csrf_token": csrf_of(page.text), "next": here},
    )
    assert done.status_code == 303
    assert 'class="card duplicates"' not in admin.get(here).text
    again = admin.get(f"/reviews/micro/records/{w['primary']}")
    assert 'class="card duplicates"' not in again.text
