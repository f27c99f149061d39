from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, for admins to see what was emailed and what gave up, and why.

    Read-only: delivery is the services' business. The in-app title and link are
    left out; the rest never holds medical detail."""

    list_display = [
        "created_at",
        "recipient",
        "kind",
        "email_status",
        "email_attempts",
        "next_attempt_at",
        "failure_reason",
    ]
    list_filter = ["email_status", "kind"]
    search_fields = ["recipient__email", "reference"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "recipient",
        "kind",
        "reference",
        "delivered_at",
        "read_at",
        "email_status",
        "email_attempts",
        "emailed_at",
        "next_attempt_at",
        "lease_until",
        "failure_reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
