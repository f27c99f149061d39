from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import credentialing, profile_services
from .directory_views import photo_url
from .models import (
    Board,
    Certification,
    HeldCertification,
    LeavePeriod,
    Licence,
    SpecialistProfile,
    Specialty,
)


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


class HeldCertificationInline(admin.TabularInline):
    model = HeldCertification
    extra = 0
    autocomplete_fields = ["certification"]


class LicenceInline(admin.TabularInline):
    """Licences are verified on the credentialing page (audited, with the source
    checked), never by editing a row here; a changed number or state here makes
    the licence wait to be verified again (save_formset)."""

    model = Licence
    extra = 0
    fields = ["state", "number", "expires_on", "verification", "verified_by", "verified_at"]
    readonly_fields = ["verification", "verified_by", "verified_at"]


class LeavePeriodInline(admin.TabularInline):
    model = LeavePeriod
    extra = 0


class SpecialistProfileAdminForm(forms.ModelForm):
    """The photo is uploaded, never typed: a stored file's name is the random name
    the photo service gives it, and the file is checked with Pillow first."""

    new_photo = forms.FileField(
        label=_("upload a photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
        help_text=_("A JPEG or PNG image, smaller than 5 MB. It replaces the current photo."),
    )
    remove_photo = forms.BooleanField(label=_("remove the photo"), required=False)

    class Meta:
        model = SpecialistProfile
        fields = [
            "user",
            "credential",
            "title",
            "specialties",
            "subspecialty",
            "institution",
            "bio",
            "languages",
            "conditions",
            "insurance_networks",
            "consultation_modes",
            "accepting_cases",
            "max_open_cases",
            "turnaround_days",
        ]

    def clean_new_photo(self):
        upload = self.cleaned_data.get("new_photo")
        if upload:
            profile_services.photo_format(upload)  # raises ValidationError
        return upload


@admin.register(SpecialistProfile)
class SpecialistProfileAdmin(admin.ModelAdmin):
    form = SpecialistProfileAdminForm
    list_display = ["user", "title", "institution", "accepting_cases"]
    list_filter = ["accepting_cases", "specialties"]
    search_fields = ["user__full_name", "user__email", "institution"]
    filter_horizontal = ["specialties"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    readonly_fields = ["public_id", "current_photo"]
    inlines = [HeldCertificationInline, LicenceInline, LeavePeriodInline]

    @admin.display(description=_("current photo"))
    def current_photo(self, profile: SpecialistProfile) -> str:
        url = photo_url(profile)
        return format_html('<img src="{}" alt="" width="96" height="96">', url) if url else "—"

    def save_formset(self, request, form, formset, change):
        if formset.model is Licence:
            for licence_form in formset.forms:
                licence = licence_form.instance
                if licence.pk and {"state", "number"} & set(licence_form.changed_data):
                    credentialing.licence_reset_verification(licence)
        super().save_formset(request, form, formset, change)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Through the services, as the specialist's own page does: verified,
        # re-encoded, stored under a random name, audited.
        if form.cleaned_data.get("new_photo"):
            profile_services.specialist_photo_set(
                actor=request.user,
                profile=obj,
                upload=form.cleaned_data["new_photo"],
            )
        elif form.cleaned_data.get("remove_photo"):
            profile_services.specialist_photo_remove(actor=request.user, profile=obj)
