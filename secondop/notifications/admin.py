from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import Notification


class KindFilter(admin.SimpleListFilter):
    """The registered kinds, by their labels (the field itself has no choices)."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind.name, kind.label) for kind in registry.registered()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, for admins to see what was emailed and what gave up, and why.

    Read-only: delivery is the services' business. The in-app title and link are
    left out; the rest never holds medical detail."""

    list_display = [
        "created_at",
        "recipient",
        "kind_label",
        "email_status",
        "email_attempts",
        "next_attempt_at",
        "failure_reason",
    ]
    list_filter = ["email_status", KindFilter]
    search_fields = ["recipient__email", "reference"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "recipient",
        "kind_label",
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

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj):
        return registry.label(obj.kind)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
