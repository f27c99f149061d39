from django.contrib import admin

from .models import AccessLog, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """The logs are append-only: the admin can read them and nothing else."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Who did what to which object, and when. The old and new values stay out of
    the admin: they can hold answers (an amendment's diagnosis, a reason)."""

    fields = [
        "created_at",
        "action",
        "actor",
        "object_type",
        "object_id",
        "object_repr",
        "ip_address",
    ]
    list_display = ["created_at", "action", "actor", "object_repr", "ip_address"]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "object_repr", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "actor", "object_repr", "path", "ip_address"]
    list_filter = ["kind", "object_type"]
    search_fields = ["object_id", "object_repr", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
