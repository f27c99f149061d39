from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Board, Certification, SpecialistProfile, Specialty


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["certifications"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "certifications":
            # Every option names its board: one query, not one per option.
            kwargs["queryset"] = Certification.objects.select_related("board")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReferenceDataAdmin(admin.ModelAdmin):
    """Boards and certifications come from specialists/data and other records
    name them by their code: the code is fixed once saved, and nothing is
    deleted (a certification is retired by unticking "offered")."""

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Board)
class BoardAdmin(ReferenceDataAdmin):
    list_display = ["name", "slug", "certification_count"]
    search_fields = ["name", "slug"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(certification_count=Count("certifications"))

    @admin.display(description=_("certifications"), ordering="certification_count")
    def certification_count(self, board: Board) -> int:
        return board.certification_count


@admin.register(Certification)
class CertificationAdmin(ReferenceDataAdmin):
    """The ABMS certificates. The ICD-10-CM ranges are the field to tune:
    matching reads them as a hint to which certificates fit a diagnosis."""

    list_display = ["name", "board", "kind", "parent", "active", "icd10_ranges"]
    list_filter = ["board", "kind", "active"]
    search_fields = ["name", "slug", "board__name"]
    autocomplete_fields = ["board", "parent"]
    fields = ["board", "name", "slug", "kind", "parent", "icd10_ranges", "active"]

    def get_queryset(self, request):
        # Every row names its board, in the list and in the "builds on" search alike.
        return super().get_queryset(request).select_related("board", "parent__board")


@admin.register(SpecialistProfile)
class SpecialistProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "institution", "accepting_cases"]
    list_filter = ["accepting_cases", "specialties"]
    search_fields = ["user__full_name", "user__email", "institution"]
    filter_horizontal = ["specialties"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
