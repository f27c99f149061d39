from django.db import models
from django.db.models import Count, Max, QuerySet

from .models import AccessLog


def access_by_person(*, obj: models.Model) -> QuerySet:
    """Who opened or downloaded `obj`, one row per person: their name, role, how
    many times and when last. Read from the access log (staff reads only: a
    person reading their own record is not logged)."""
    return (
        AccessLog.objects.filter(
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            kind__in=[AccessLog.Kind.VIEW, AccessLog.Kind.DOWNLOAD],
            actor__isnull=False,
        )
        .values("actor_id", "actor__full_name", "actor__role")
        .annotate(times=Count("id"), last=Max("created_at"))
        .order_by("-last")
    )
