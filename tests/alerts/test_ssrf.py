"""The webhook URL guard: which destinations are refused, and with what message."""

from __future__ import annotations

import pytest

from services.alerts.ssrf import UnsafeURLError, resolve_target


def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://[::1]:8080/hook", "::1 is a loopback address"),
        ("http://localhost:9/hook", "is a loopback address (the host 'localhost' resolves to it)"),
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
        ("http://192.168.0.10/", "192.168.0.10 is a private address"),
        ("http://169.254.10.1/", "169.254.10.1 is a link-local address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://[fd12:3456::1]/", "fd12:3456::1 is a unique-local address"),
        ("http://224.0.0.251/", "224.0.0.251 is a multicast address"),
        ("http://100.64.0.1/", "100.64.0.1 is an address that is not globally routable"),
        ("http://0.0.0.0:8000/", "0.0.0.0 is an unspecified address"),
        ("http://[::ffff:127.0.0.1]/", "loopback address (127.0.0.1 embedded in an IPv6 address)"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
    ],
)
def test_internal_addresses_are_refused_unless_allowed(url: str, message: str):
    with pytest.raises(UnsafeURLError) as refused:
        resolve_target(url, allow_private=False)
    assert message in str(refused.value)
    assert "LIVESCREEN_ALERTS_ALLOW_PRIVATE=1" in str(refused.value)

    allowed = resolve_target(url, allow_private=True)
    assert allowed.address  # resolved, and that address is what the sender connects to


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "must use http or https, not 'file'"),
        ("gopher://example.org/", "must use http or https, not 'gopher'"),
        ("example.org/hook", "must use http or https, not 'none'"),
        ("http:///hook", "has no host"),
        ("https://user:pw@example.org/hook", "must not carry a user name or password"),
        ("http://example.org:99999/", "is malformed"),
    ],
)
def test_malformed_or_non_http_urls_are_refused_even_when_private_is_allowed(
    url: str, message: str
):
    for allow in (False, True):
        with pytest.raises(UnsafeURLError, match="webhook URL") as refused:
            resolve_target(url, allow_private=allow, resolver=public)
        assert message in str(refused.value)


def test_messages_never_repeat_the_password():
    with pytest.raises(UnsafeURLError) as refused:
        resolve_target("https://user:hunter2@example.org/", allow_private=False)
    assert "hunter2" not in str(refused.value)


def test_a_public_host_is_pinned_to_its_resolved_address():
    target = resolve_target(
        "https://hooks.example.org/in?x=1", allow_private=False, resolver=public
    )
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.org", 443)
    assert target.path == "/in?x=1"
    assert target.address == "93.184.215.14"
    assert target.origin == "https://hooks.example.org:443"


def test_one_private_answer_among_public_ones_refuses_the_host():
    def mixed(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "127.0.0.1"]

    with pytest.raises(UnsafeURLError, match="127.0.0.1 is a loopback address"):
        resolve_target("https://hooks.example.org/", allow_private=False, resolver=mixed)


def test_a_numeric_host_spelling_is_judged_by_what_it_resolves_to():
    """'2130706433' is 127.0.0.1 to the system resolver; the check follows the resolver."""
    with pytest.raises(UnsafeURLError, match="127.0.0.1 is a loopback address"):
        resolve_target("http://2130706433/", allow_private=False)


def test_paths_are_sent_percent_encoded_and_controls_are_refused():
    target = resolve_target(
        "https://hooks.example.org/ä/in?q=x%20y&z=ü", allow_private=False, resolver=public
    )
    assert target.path == "/%C3%A4/in?q=x%20y&z=%C3%BC"
    with pytest.raises(UnsafeURLError, match="contains spaces or control characters") as refused:
        resolve_target("https://hooks.example.org/in?token=abc def", allow_private=False)
    assert "abc" not in str(refused.value)
