from django.contrib import admin

from .models import Case, Price


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases in the admin show no PHI: the reference, the status and the dates.
    Nothing can be changed or deleted here (the workflow moves cases; a case is
    never deleted), and administrators read answers nowhere."""

    list_display = ["reference", "status", "urgency", "submitted_at", "due_at", "closed_at"]
    list_filter = ["status", "urgency"]
    search_fields = ["reference"]
    fields = ["reference", "status", "urgency", "created_at", "submitted_at", "due_at", "closed_at"]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        # Drafts belong to the patient alone, and only these columns are read.
        return super().get_queryset(request).exclude(status="draft").only(*self.fields, "id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    """The price list patients read before sending. A line is withdrawn by
    unticking "offered", never deleted: quotes already made keep their own copy
    of it (Case.fee_items)."""

    list_display = ["item", "amount", "currency", "active", "updated_at"]
    list_filter = ["active"]
    fields = ["item", "amount", "currency", "description", "active"]

    def has_delete_permission(self, request, obj=None):
        return False
