"""Security headers on every response: no inline script, no framing, no MIME sniffing.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``) so the reviewer's hot
path pays for a few header tuples, not for an extra task and stream per request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages load their script and style from /static only; evidence highlights are markup,
# the progress bar a <progress> element, so nothing inline is needed.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The API docs page (Swagger UI) runs an inline bootstrap script; it shows no review data.
DOCS_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
DOCS_PATH = "/api/v1/docs"

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
PAGE_HEADERS = [*COMMON, (b"content-security-policy", PAGE_POLICY.encode())]
DOCS_HEADERS = [*COMMON, (b"content-security-policy", DOCS_POLICY.encode())]


class SecurityHeaders:
    """Adds the headers above to every HTTP response the app sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = DOCS_HEADERS if scope.get("path", "").startswith(DOCS_PATH) else PAGE_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
