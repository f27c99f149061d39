"""Only the records checklists are in the admin: records themselves are PHI and
the admin shows none."""

from django.contrib import admin

from .models import GatherItem, GatherList


class GatherItemInline(admin.TabularInline):
    model = GatherItem
    extra = 1
    fields = ["order", "title", "category", "why", "send_by_post"]


@admin.register(GatherList)
class GatherListAdmin(admin.ModelAdmin):
    list_display = ["name", "icd10_prefixes"]
    search_fields = ["name", "icd10_prefixes"]
    inlines = [GatherItemInline]
