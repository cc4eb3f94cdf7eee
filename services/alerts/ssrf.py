"""The webhook URL guard: where livescreen may POST, checked when subscribing and at send time.

A webhook URL is user input that makes the server open connections, so it is
a server-side request forgery risk: it could reach the cloud metadata service,
a database on localhost or anything on the private network.  The rules:

* only ``http`` and ``https``, with a host and no credentials in the URL;
* every address the host resolves to must be globally routable: loopback,
  link-local (where 169.254.169.254 lives), private, unique-local, multicast,
  shared, documentation and reserved ranges are refused, also when they hide
  inside an IPv4-mapped, 6to4 or NAT64 IPv6 address;
* the check is made on the resolved address at send time and the connection
  goes to that very address (:class:`Target` carries it), so a DNS answer that
  changes between check and connect (DNS rebinding) cannot slip through;
* redirects are never followed (the webhook sender treats 3xx as a failure).

``allow_private`` (``LIVESCREEN_ALERTS_ALLOW_PRIVATE``) lifts only the address
rule, for local receivers in development and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
"""Host and port -> the IP addresses (as strings) to consider, in connection order."""

SCHEMES = {"http": 80, "https": 443}
URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
}
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURLError(ValueError):
    """The URL may not be used for a webhook; the message says which part and why."""


class ResolutionError(OSError):
    """The host name did not resolve (possibly transient: a retry may succeed)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: connect to ``address``, but speak to ``host`` (Host, TLS SNI)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def origin(self) -> str:
        """``scheme://host:port`` only: safe to log (paths and queries may carry tokens)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo), addresses deduplicated in order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ResolutionError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def safe_origin(url: str) -> str:
    """The scheme, host and port of ``url`` for messages and logs, or a placeholder."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparsable URL)"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}"


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why a webhook may not connect to ``ip`` (e.g. "a loopback address"), or None if it may."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        problem = address_problem(inner)
        return f"{problem} ({inner} embedded in an IPv6 address)" if problem else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "a unique-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "an address that is not globally routable"
    return None


def check_url(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path+query of a well-formed webhook URL; no resolution here.

    Raises :class:`UnsafeURLError` naming what is wrong.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"webhook URL {safe_origin(url)} is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = scheme or "none"
        raise UnsafeURLError(
            f"webhook URL must use http or https, not {shown!r} ({safe_origin(url)})"
        )
    if not parts.hostname:
        raise UnsafeURLError(f"webhook URL {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError(
            f"webhook URL {safe_origin(url)} must not carry a user name or password; "
            "the request is signed with the subscription's secret instead"
        )
    if any(ord(c) <= 32 or ord(c) == 127 for c in url.strip()):
        raise UnsafeURLError(
            f"webhook URL {safe_origin(url)} contains spaces or control characters"
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    # Non-ASCII (an IRI) goes out percent-encoded as UTF-8; existing escapes stay as they are.
    return scheme, parts.hostname, port or SCHEMES[scheme], quote(path, safe=URL_SAFE)


def resolve_target(
    url: str,
    *,
    allow_private: bool,
    resolver: Resolver = system_resolver,
) -> Target:
    """Check ``url`` and resolve it to the one address the request must connect to.

    Every resolved address must pass (not only the first), so a host with one
    public and one private record is refused rather than half-trusted.
    Raises :class:`UnsafeURLError` when refused and :class:`ResolutionError`
    when the name does not resolve.
    """
    scheme, host, port, path = check_url(url)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [str(literal)] if literal is not None else resolver(host, port)
    if not addresses:
        raise ResolutionError(f"host {host!r} resolved to no address")
    if not allow_private:
        for address in addresses:
            problem = address_problem(ipaddress.ip_address(address.split("%", 1)[0]))
            if problem:
                via = "" if literal is not None else f" (the host {host!r} resolves to it)"
                raise UnsafeURLError(
                    f"webhook URL {safe_origin(url)} is refused: {address} is {problem}{via}; "
                    "set LIVESCREEN_ALERTS_ALLOW_PRIVATE=1 to allow local receivers"
                )
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
