"""Where the work being audited comes from: a web request (its IP and path), a
Celery task or a management command. Set once, where the work starts, and read
by the audit services, so that no service needs the request to write a full row.

- `AuditContextMiddleware` sets it for every request, before any view runs;
- the Celery signals in secondop/celery.py set it for every task (`task:<name>`);
- manage.py sets it for a management command (`command:<name>`);
- `audit_source(...)` sets it anywhere else (a shell session, a test).

A context variable, not a thread-local: each request, task and thread has its
own, and a task run eagerly inside a request gets its own source and gives the
request's back when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

WEB = "web"


@dataclass(frozen=True)
class Source:
    """`via`: "web", "task:<task name>", "command:<command name>" or another
    short word naming the process; `ip` and `path` for a web request only (the
    path alone: a query string can hold what someone searched for)."""

    via: str
    ip: str | None = None
    path: str = ""


_current: ContextVar[Source | None] = ContextVar("audit_source", default=None)


def current_source() -> Source | None:
    """The source set for the work in progress, or None (nothing set it)."""
    return _current.get()


def current_ip() -> str | None:
    source = _current.get()
    return source.ip if source is not None else None


@contextmanager
def audit_source(via: str, *, ip: str | None = None, path: str = "") -> Iterator[Source]:
    """Set the source for the work inside the block, and give back the one before."""
    source = Source(via=via, ip=ip, path=path[:500])
    token = _current.set(source)
    try:
        yield source
    finally:
        _current.reset(token)


def source_for_request(request: HttpRequest) -> Source:
    return Source(via=WEB, ip=client_ip(request), path=request.path[:500])


@contextmanager
def request_audit_source(request: HttpRequest) -> Iterator[Source]:
    """The source of a web request for the work inside the block."""
    source = source_for_request(request)
    token = _current.set(source)
    try:
        yield source
    finally:
        _current.reset(token)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, resolved as allauth resolves it for rate limits:
    REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the nearest
    trusted proxy saw (what a client writes into X-Forwarded-For itself is
    never believed)."""
    if request is None:
        return None
    from allauth.account.adapter import get_adapter
    from django.core.exceptions import ImproperlyConfigured, PermissionDenied

    try:
        return get_adapter(request).get_client_ip(request)
    except (ImproperlyConfigured, PermissionDenied):  # no usable address
        return None


class AuditContextMiddleware:
    """Every request's source, set before any other middleware or view may audit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_audit_source(request):
            return self.get_response(request)
