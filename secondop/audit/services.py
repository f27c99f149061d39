"""The audit services. Where the work came from (the request's IP and path, the
task, the command) is read from secondop.audit.context, set where the work
starts: no caller passes the request."""

from typing import Any

from django.db import models

from .context import current_source
from .models import AccessLog, AuditEvent


def _describe(obj: models.Model | None) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return obj._meta.label_lower, str(obj.pk), str(obj)[:200]


def log_event(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record a change. Call it inside the transaction that makes the change."""
    object_type, object_id, object_repr = _describe(obj)
    return AuditEvent.objects.create(
        **_source_fields(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        old_values=old or {},
        new_values=new or {},
    )


def log_access(*, viewer, obj: models.Model, kind: str = AccessLog.Kind.VIEW) -> AccessLog:
    """Record a read or download of PHI, in the same request that serves it."""
    object_type, object_id, object_repr = _describe(obj)
    return AccessLog.objects.create(
        **_source_fields(),
        actor=viewer if getattr(viewer, "is_authenticated", False) else None,
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
    )


def log_access_list(*, viewer, model: type[models.Model], shown: list[str]) -> AccessLog | None:
    """Record a list that shows PHI (patients' names): one row per page, with what
    it showed. An empty list shows nobody and writes nothing."""
    if not shown:
        return None
    return AccessLog.objects.create(
        **_source_fields(),
        actor=viewer if getattr(viewer, "is_authenticated", False) else None,
        kind=AccessLog.Kind.LIST,
        object_type=model._meta.label_lower,
        listed=list(shown),
    )


def _source_fields() -> dict[str, Any]:
    source = current_source()
    if source is None:
        return {"source": "", "path": "", "ip_address": None}
    return {"source": source.via, "path": source.path, "ip_address": source.ip}
