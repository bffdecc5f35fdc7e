"""ASGI middleware that guards every request before the application reads it.

- Trusted proxies: X-Forwarded-For / X-Forwarded-Proto are believed only from the addresses
  in TRACKER_TRUSTED_PROXIES, so the login throttle sees the real client address.
- Body limits: a request whose Content-Length exceeds its route's limit is refused with 413
  before a byte of its body is read; a body streamed without a length is cut off at the limit.
  A request without a valid token or session never has more than a small body read: the
  credentials are checked (one short query) before reading past that limit.
- Stalled bodies: a client that stops sending for TRACKER_UPLOAD_STALL_TIMEOUT_S is cut off,
  so it cannot hold a staged file or a worker forever.
- Repeated query parameters are refused on the API rather than silently resolved.
- Every answer gets X-Content-Type-Options: nosniff, and Cache-Control: no-store unless it
  set its own (answers hold marks, PDFs and personal data).
"""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from sqlmodel import Session

from app.clock import clock_of
from app.config import Settings, get_settings
from app.db import get_engine
from app.errors import NotAuthenticated
from app.storage import err_too_large
from app.tokens import user_from_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Routes that take a file; every other route takes a small JSON or form body.
UPLOAD_ROUTES = tuple(
    re.compile(p)
    for p in (
        r"^/api/v1/groups/[^/]+/milestones/[^/]+/submissions$",
        r"^/api/v1/check$",
        r"^/api/v1/courses/[^/]+/roster$",
        r"^/api/v1/courses/[^/]+/assignment-marks$",
    )
)
# Room for the multipart envelope (boundaries, part headers) around an upload.
ENVELOPE_ALLOWANCE = 64 * 1024
SESSION_COOKIE = b"tracker_session"
ERR_TOO_LARGE = "The request body is larger than this endpoint accepts ({limit} KiB)."
ERR_ANONYMOUS_BODY = "Log in first: a request without a valid token may carry at most {limit} KiB."
ERR_STALLED = "The request body stopped arriving for {seconds:g} s; the request was cut off."
ERR_BAD_LENGTH = "The Content-Length header is not a number."
ERR_REPEATED_QUERY = "The query parameter {name!r} is given more than once."


class BodyRefused(Exception):
    """The guarded body stream refuses to go on; the middleware answers with this instead."""

    def __init__(self, status: int, code: str, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or []


def body_limit(path: str, settings: Settings) -> tuple[int, str]:
    """The largest body the route at `path` accepts, in bytes, and the message that refuses a larger one."""
    if any(p.match(path) for p in UPLOAD_ROUTES):
        return settings.max_upload_bytes + ENVELOPE_ALLOWANCE, err_too_large(settings.max_upload_bytes)
    return settings.max_json_kb * 1024, ERR_TOO_LARGE.format(limit=settings.max_json_kb)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _credentials(scope: Scope) -> tuple[str, str] | None:
    auth = (_header(scope, b"authorization") or b"").decode("latin-1")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip(), "api"
    for part in (_header(scope, b"cookie") or b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE and value:
            return value.decode("latin-1"), "web"
    return None


def _is_authenticated(scope: Scope) -> bool:
    credentials = _credentials(scope)
    if credentials is None:
        return False
    app = scope.get("app")
    overrides = getattr(app, "dependency_overrides", {})
    now = clock_of(overrides)()
    with Session(get_engine()) as session:
        try:
            user_from_token(session, token=credentials[0], now=now, kind=credentials[1])
        except NotAuthenticated:
            return False
        finally:
            session.rollback()
    return True


def forwarded_scope(scope: Scope, trusted: frozenset[str]) -> Scope:
    """The scope with client address and scheme taken from a trusted proxy's X-Forwarded-* headers."""
    client = scope.get("client")
    if not trusted or not client or client[0] not in trusted:
        return scope
    scope = dict(scope)
    forwarded_for = (_header(scope, b"x-forwarded-for") or b"").decode("latin-1")
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    # The nearest hop that is not one of our proxies is the client; anything further left is the client's word.
    for hop in reversed(hops):
        if hop not in trusted:
            scope["client"] = (hop, 0)
            break
    proto = (_header(scope, b"x-forwarded-proto") or b"").decode("latin-1").strip().lower()
    if proto in ("http", "https"):
        scope["scheme"] = proto
    return scope


def _repeated_query(scope: Scope) -> str | None:
    seen: set[str] = set()
    for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if name in seen:
            return str(name)
        seen.add(name)
    return None


async def _answer(send: Send, refusal: BodyRefused, **extra: object) -> None:
    body = json.dumps({"error": refusal.code, "detail": refusal.detail, **extra}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *refusal.headers,
    ]
    await send({"type": "http.response.start", "status": refusal.status, "headers": _secured(headers, "/")})
    await send({"type": "http.response.body", "body": body})


def _secured(headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in headers}
    headers = list(headers)
    if b"x-content-type-options" not in names:
        headers.append((b"x-content-type-options", b"nosniff"))
    if b"cache-control" not in names and not path.startswith("/ui/static/"):
        headers.append((b"cache-control", b"no-store"))
    return headers


class RequestGuardMiddleware:
    """Proxy headers, body limits, stalled bodies, repeated query parameters and safe headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        scope = forwarded_scope(scope, settings.trusted_proxy_set)
        path = scope.get("path", "")
        repeated = _repeated_query(scope) if path.startswith("/api/") else None
        if repeated is not None:
            detail = ERR_REPEATED_QUERY.format(name=repeated)
            await _answer(
                send,
                BodyRefused(422, "invalid", detail),
                field=repeated,
                errors=[{"field": repeated, "message": detail}],
            )
            return
        try:
            guard = _BodyGuard(scope, receive, settings)
            await guard.admit()
        except BodyRefused as refusal:
            await _answer(send, refusal)
            return
        await self._run(scope, guard, send, path)

    async def _run(self, scope: Scope, guard: "_BodyGuard", send: Send, path: str) -> None:
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if guard.refusal is not None and not started:
                return  # the refusal is answered below instead of whatever the app made of it
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": _secured(list(message.get("headers", [])), path)}
            await send(message)

        try:
            await self.app(scope, guard.receive, guarded_send)
        except BodyRefused:
            pass
        except Exception:
            if guard.refusal is None or started:
                raise
        if guard.refusal is not None and not started:
            await _answer(send, guard.refusal)


class _BodyGuard:
    """Counts the body as the app reads it, enforcing the route's limit and the stall timeout."""

    def __init__(self, scope: Scope, receive: Receive, settings: Settings) -> None:
        self.scope, self._receive, self.settings = scope, receive, settings
        self.limit, self.too_large = body_limit(scope.get("path", ""), settings)
        self.anonymous_limit = min(self.limit, settings.max_anonymous_body_kb * 1024)
        self.authenticated: bool | None = None
        self.received = 0
        self.done = False
        self.refusal: BodyRefused | None = None

    async def _check_credentials(self) -> None:
        if self.authenticated is None:
            self.authenticated = await to_thread.run_sync(_is_authenticated, self.scope)
        if not self.authenticated:
            raise BodyRefused(
                401,
                NotAuthenticated.code,
                ERR_ANONYMOUS_BODY.format(limit=self.anonymous_limit // 1024),
                [(b"www-authenticate", b"Bearer")],
            )

    async def admit(self) -> None:
        """Refuse before reading: a declared length over the limit, or over the anonymous limit without credentials."""
        raw = _header(self.scope, b"content-length")
        if raw is None:
            return
        if not raw.strip().isdigit():
            raise BodyRefused(400, "bad_request", ERR_BAD_LENGTH)
        length = int(raw)
        if length > self.limit:
            raise BodyRefused(413, "payload_too_large", self.too_large)
        if length > self.anonymous_limit:
            await self._check_credentials()

    async def receive(self) -> Message:
        """The next message of the body, counted and timed."""
        if self.done:
            return await self._receive()  # after the body: waiting for a disconnect is normal
        try:
            message = await asyncio.wait_for(self._receive(), timeout=self.settings.upload_stall_timeout_s)
        except TimeoutError:
            seconds = self.settings.upload_stall_timeout_s
            self.refusal = BodyRefused(408, "request_timeout", ERR_STALLED.format(seconds=seconds))
            raise self.refusal from None
        if message["type"] != "http.request":
            self.done = True
            return message
        self.received += len(message.get("body", b""))
        self.done = not message.get("more_body", False)
        try:
            if self.received > self.limit:
                raise BodyRefused(413, "payload_too_large", self.too_large)
            if self.received > self.anonymous_limit:
                await self._check_credentials()
        except BodyRefused as refusal:
            self.refusal = refusal
            raise
        return message
