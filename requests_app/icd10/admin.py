from django.contrib import admin

from .models import Icd10Synonym
from .search import icd10_synonyms_changed


@admin.register(Icd10Synonym)
class Icd10SynonymAdmin(admin.ModelAdmin):
    """The everyday words the diagnosis search understands. Search caches them,
    so every change here also clears that cache (once committed)."""

    list_display = ["term", "clinical"]
    search_fields = ["term", "clinical"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        icd10_synonyms_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        icd10_synonyms_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        icd10_synonyms_changed()
