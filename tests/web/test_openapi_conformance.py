"""The API does what its OpenAPI document says: schemathesis generates requests for every
operation from the document and checks each answer (no 500; status code, content type and
body as documented), in a bounded run on a live server over PostgreSQL, whose text and
integer limits are the stricter ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.web import factories as f
from tests.web.conftest import Env

schemathesis = pytest.importorskip("schemathesis")

Client = Callable[..., httpx.Client]
EXAMPLES = 50  # per operation: bounded, so the suite stays within its time


def violations(operation: Any, base: str, headers: dict[str, str]) -> list[str]:
    """Schemathesis's findings for one operation (empty when it answers as documented)."""
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base, headers=headers)

    try:
        check()
    except BaseException as exc:  # schemathesis raises a group of its failures
        if isinstance(exc, KeyboardInterrupt):
            raise
        found.append(f"{operation.label}: {str(exc)[:1500]}")
    return found


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_operation_answers_as_documented(env: Env, client_for: Client) -> None:
    proto = f.protocol(screening="dual")
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.records(s, rev, 20)
        admin = f.user(s, "root", "admin")
        f.user(s, "alice")
        s.commit()
    base = str(client_for(admin).base_url)
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {admin}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15  # every route of the API is in the document
    problems = [p for op in operations for p in violations(op, base, headers)]
    assert not problems, "\n\n".join(problems)
