"""The audit services. Where the work came from (the request's IP and path, the
task, the command) is read from secondop.audit.context, set where the work
starts: no caller passes the request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db import models

from .context import current_source
from .models import AccessLog, AuditEvent

if TYPE_CHECKING:
    from secondop.accounts.models import User


def _describe(obj: models.Model | None) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return obj._meta.label_lower, str(obj.pk), str(obj)[:200]


def _signed_in(person: User | AnonymousUser | None) -> User | None:
    """The account to attribute a row to: nobody for the anonymous (a physician's
    link) and for the system."""
    if person is None or isinstance(person, AnonymousUser) or not person.is_authenticated:
        return None
    return person


def log_event(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record a change. Call it inside the transaction that makes the change."""
    object_type, object_id, object_repr = _describe(obj)
    return AuditEvent.objects.create(
        **_source_fields(),
        actor=_signed_in(actor),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        old_values=old or {},
        new_values=new or {},
    )


def log_access(
    *, viewer: User | AnonymousUser | None, obj: models.Model, kind: str = AccessLog.Kind.VIEW
) -> AccessLog:
    """Record a read or download of PHI, in the same request that serves it."""
    object_type, object_id, object_repr = _describe(obj)
    return AccessLog.objects.create(
        **_source_fields(),
        actor=_signed_in(viewer),
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
    )


def log_access_list(
    *, viewer: User | AnonymousUser | None, model: type[models.Model], shown: list[str]
) -> AccessLog | None:
    """Record a list that shows PHI (patients' names): one row per page, with what
    it showed. An empty list shows nobody and writes nothing."""
    if not shown:
        return None
    return AccessLog.objects.create(
        **_source_fields(),
        actor=_signed_in(viewer),
        kind=AccessLog.Kind.LIST,
        object_type=model._meta.label_lower,
        listed=list(shown),
    )


def _source_fields() -> dict[str, Any]:
    source = current_source()
    if source is None:
        return {"source": "", "path": "", "ip_address": None}
    return {"source": source.via, "path": source.path, "ip_address": source.ip}


def _recorded(value: Any) -> Any:
    """A value as the audit row keeps it (JSON): a related row as its pk."""
    return value.pk if isinstance(value, models.Model) else value


def audited_update(
    obj: models.Model,
    *,
    actor: User | AnonymousUser | None,
    action: str,
    changes: Mapping[str, Any],
    also: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set `changes` on `obj`, save the fields that really changed (and `also`,
    fields that follow from them and are not recorded, and `updated_at` where the
    model has one) and record the change with their old and new values, in the
    caller's transaction. Returns (old, new) of the fields that changed; both
    empty when nothing did (nothing saved, no row)."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name, value in changes.items():
        before = getattr(obj, name)
        if before != value:
            old[name], new[name] = _recorded(before), _recorded(value)
            setattr(obj, name, value)
    if not new:
        return old, new
    fields = list(new)
    for name, value in (also or {}).items():
        setattr(obj, name, value)
        fields.append(name)
    if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
        fields.append("updated_at")
    obj.save(update_fields=fields)
    log_event(actor=actor, action=action, obj=obj, old=old, new=new)
    return old, new
