from django.contrib import admin

from .models import SpecialistProfile, Specialty


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SpecialistProfile)
class SpecialistProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "institution", "accepting_cases"]
    list_filter = ["accepting_cases", "specialties"]
    search_fields = ["user__full_name", "user__email", "institution"]
    filter_horizontal = ["specialties"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
