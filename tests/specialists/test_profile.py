"""A specialist edits their own profile, part by part; what bad input is told;
that nobody reaches another person's profile; that every change is audited."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from secondop.audit.models import AuditEvent
from specialists import profile_services
from specialists.models import (
    Certification,
    LeavePeriod,
    Licence,
    SpecialistProfile,
    Specialty,
)
from tests.accounts.factories import UserFactory, enrol_totp
from tests.specialists.factories import SpecialistFactory, away

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def date_parts(prefix: str, day: datetime.date) -> dict:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


def _specialty_pks(*slugs):
    return Specialty.objects.filter(slug__in=slugs).values_list("pk", flat=True)


def actions(profile) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            object_type="specialists.specialistprofile", object_id=str(profile.pk)
        )
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def profile(db):
    return SpecialistFactory(institution="Lakeside University Hospital")


@pytest.fixture
def signed_in(client, profile):
    client.force_login(profile.user)
    return client


@pytest.fixture
def storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    return default_storage


def stored_photos() -> list[str]:
    try:
        return default_storage.listdir("specialists/photos")[1]
    except FileNotFoundError:
        return []


def image_file(name="me.png", image_format="PNG", size=(64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 130)).save(out, format=image_format)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


# --- The profile page --------------------------------------------------------------------
def test_the_profile_page_shows_everything_matching_reads(signed_in, profile):
    Licence.objects.filter(profile=profile).update(number="NY-998877")
    away(profile, TODAY() + datetime.timedelta(days=30), TODAY() + datetime.timedelta(days=35))
    html = signed_in.get(reverse("specialists:profile")).content.decode()
    for text in (
        "Lakeside University Hospital",
        "Medical Oncology",
        "C50",
        "Malignant neoplasm of breast",
        "NY-998877",
        "English",
        "Video consultation",
        "Accepting new cases",
    ):
        assert text in html
    assert reverse("directory:detail", args=[profile.public_id]) in html


def test_a_specialist_without_a_profile_starts_with_the_main_details(client, specialist):
    client.force_login(specialist)
    response = client.get(reverse("specialists:profile"))
    assert reverse("specialists:profile_edit") in response.content.decode()
    response = client.get(reverse("specialists:profile_licences"))
    assert response.url == reverse("specialists:profile_edit")

    response = client.post(
        reverse("specialists:profile_edit"),
        {
            "credential": "DO",
            "title": "DO, FACOI",
            "institution": "Mercy",
            "specialties": [str(pk) for pk in _specialty_pks("cardiology")],
            "languages": "english, Spanish",
            "consultation_modes": ["written"],
            "max_open_cases": "5",
            "turnaround_days": "6",
            "accepting_cases": "on",
        },
    )
    assert response.url == reverse("specialists:profile")
    profile = SpecialistProfile.objects.get(user=specialist)
    assert (profile.credential, profile.title, profile.languages) == (
        "DO",
        "DO, FACOI",
        ["English", "Spanish"],
    )
    assert [s.slug for s in profile.specialties.all()] == ["cardiology"]
    assert actions(profile) == ["specialists.profile.created"]
    event = AuditEvent.objects.get(action="specialists.profile.created")
    assert event.new_values["institution"] == "Mercy"
    assert event.new_values["specialties"] == ["cardiology"]


def test_the_specialist_changes_the_main_details_and_the_audit_row_says_what(signed_in, profile):
    response = signed_in.post(
        reverse("specialists:profile_edit"),
        {
            "credential": "MD",
            "title": "MD, PhD",
            "institution": "Lakeside University Hospital",
            "specialties": [str(pk) for pk in _specialty_pks("oncology", "hematology")],
            "subspecialty": "Breast cancer",
            "bio": "Twenty years in breast cancer.",
            "languages": "English; portuguese",
            "insurance_networks": "Aetna\n\nEmpire Health\naetna",
            "consultation_modes": ["written", "video"],
            "max_open_cases": "3",
            "turnaround_days": "4",  # accepting_cases unticked: stops offers
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.languages == ["English", "Portuguese"]
    assert profile.insurance_networks == ["Aetna", "Empire Health"]
    assert profile.consultation_modes == ["written", "video"]
    assert (profile.max_open_cases, profile.turnaround_days, profile.accepting_cases) == (
        3,
        4,
        False,
    )
    event = AuditEvent.objects.get(action="specialists.profile.updated")
    assert event.actor == profile.user
    assert event.old_values["max_open_cases"] == 8 and event.new_values["max_open_cases"] == 3
    assert event.new_values["specialties"] == ["hematology", "oncology"]
    assert "credential" not in event.new_values  # unchanged


def test_the_main_details_say_what_is_wrong(signed_in, profile):
    response = signed_in.post(
        reverse("specialists:profile_edit"),
        {
            "credential": "MD",
            "title": "",
            "institution": "X",
            "languages": " , ",
            "max_open_cases": "0",
            "turnaround_days": "many",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    for message in (
        "Enter the letters after your name",
        "Choose at least one specialty",
        "Enter at least one language",
        "Choose at least one kind of consultation",
        "Enter a number from 1 to 100",
        "Enter a whole number of days",
    ):
        assert message in html
    assert actions(profile) == []


# --- Conditions -----------------------------------------------------------------------------
def test_the_specialist_adds_a_category_and_a_code_and_removes_one(signed_in, profile):
    SpecialistProfile.objects.filter(pk=profile.pk).update(conditions=[])
    url = reverse("specialists:profile_conditions")
    page = signed_in.get(url).content.decode()
    assert "data-icd10-picker" in page and "js/icd10.js" in page

    assert signed_in.post(url, {"code": "c50"}).status_code == 302  # a category
    assert signed_in.post(url, {"code": "E11.9 Type 2 diabetes"}).status_code == 302
    profile.refresh_from_db()
    assert profile.conditions == ["C50", "E11.9"]
    html = signed_in.get(url).content.decode()
    assert "Malignant neoplasm of breast" in html

    signed_in.post(reverse("specialists:profile_condition_remove"), {"code": "E11.9"})
    profile.refresh_from_db()
    assert profile.conditions == ["C50"]
    assert actions(profile) == ["specialists.profile.condition_added"] * 2 + [
        "specialists.profile.condition_removed"
    ]


def test_an_unknown_code_or_one_already_covered_is_refused(signed_in, profile):
    url = reverse("specialists:profile_conditions")
    html = signed_in.post(url, {"code": "Q99.99X"}).content.decode()
    assert "We could not find the code “Q99.99X”" in html
    html = signed_in.post(url, {"code": "C50.911"}).content.decode()
    assert "C50.911 is already on your list (as C50)" in html
    profile.refresh_from_db()
    assert profile.conditions == ["C50"]
    assert actions(profile) == []


# --- Board certifications --------------------------------------------------------------------
def test_the_specialist_adds_a_certification_from_a_select_grouped_by_board(signed_in, profile):
    url = reverse("specialists:profile_certifications")
    html = signed_in.get(url).content.decode()
    assert '<optgroup label="American Board of Radiology">' in html
    assert '<option value="abim-medical-oncology"' not in html  # already held

    response = signed_in.post(url, {"certification": "abim-hematology", "year": "2015"})
    assert response.status_code == 302
    assert profile.certifications.filter(certification__slug="abim-hematology", year=2015).exists()
    signed_in.post(
        reverse("specialists:profile_certification_remove"),
        {"certification": "abim-medical-oncology"},
    )
    assert [h.certification.slug for h in profile.certifications.all()] == ["abim-hematology"]
    assert actions(profile) == [
        "specialists.profile.certification_added",
        "specialists.profile.certification_removed",
    ]


def test_a_year_in_the_future_or_a_certification_held_twice_is_refused(signed_in, profile):
    url = reverse("specialists:profile_certifications")
    next_year = str(TODAY().year + 1)
    html = signed_in.post(
        url, {"certification": "abim-hematology", "year": next_year}
    ).content.decode()
    assert "The year cannot be in the future." in html
    html = signed_in.post(
        url, {"certification": "abim-hematology", "year": "20x5"}
    ).content.decode()
    assert "Enter the year as 4 digits" in html
    with pytest.raises(ValidationError, match="already on your profile"):
        profile_services.specialist_certification_add(
            actor=profile.user,
            profile=profile,
            year=2010,
            certification=Certification.objects.get(slug="abim-medical-oncology"),
        )
    assert profile.certifications.count() == 1


# --- State licences ----------------------------------------------------------------------------
def test_the_specialist_adds_renews_and_removes_a_licence(signed_in, profile):
    url = reverse("specialists:profile_licences")
    expiry = datetime.date(TODAY().year + 2, 3, 31)
    response = signed_in.post(
        url, {"state": "NJ", "number": " 25MA0001 "} | date_parts("expires_on", expiry)
    )
    assert response.status_code == 302
    licence = profile.licences.get(state="NJ")
    assert (licence.number, licence.expires_on) == ("25MA0001", expiry)

    edit = reverse("specialists:profile_licence_edit", args=["NJ"])
    assert "25MA0001" in signed_in.get(edit).content.decode()
    renewed = expiry.replace(year=expiry.year + 2)
    signed_in.post(edit, {"number": "25MA0002"} | date_parts("expires_on", renewed))
    licence.refresh_from_db()
    assert (licence.number, licence.expires_on) == ("25MA0002", renewed)

    signed_in.post(reverse("specialists:profile_licence_remove"), {"state": "NJ"})
    assert not profile.licences.filter(state="NJ").exists()
    assert actions(profile) == [
        "specialists.profile.licence_added",
        "specialists.profile.licence_changed",
        "specialists.profile.licence_removed",
    ]
    event = AuditEvent.objects.get(action="specialists.profile.licence_changed")
    assert event.old_values["number"] == "25MA0001" and event.new_values["number"] == "25MA0002"


def test_an_expiry_in_the_past_or_a_second_licence_in_a_state_is_refused(signed_in, profile):
    url = reverse("specialists:profile_licences")
    yesterday = TODAY() - datetime.timedelta(days=1)
    html = signed_in.post(
        url, {"state": "NJ", "number": "1"} | date_parts("expires_on", yesterday)
    ).content.decode()
    assert "This date is in the past" in html
    html = signed_in.post(
        url,
        {"state": "NY", "number": "2"}
        | date_parts("expires_on", TODAY().replace(year=TODAY().year + 1)),
    ).content.decode()
    assert "You already have a licence in New York: change that one instead." in html
    html = signed_in.post(
        url,
        {
            "state": "NJ",
            "number": "3",
            "expires_on_day": "31",
            "expires_on_month": "2",
            "expires_on_year": "2030",
        },
    ).content.decode()
    assert "The expiry date must be a real date" in html
    assert list(profile.licences.values_list("state", flat=True)) == ["NY"]
    assert actions(profile) == []


def test_an_expired_licence_is_shown_as_expired(signed_in, profile):
    Licence.objects.create(
        profile=profile, state="CT", number="CT-1", expires_on=TODAY() - datetime.timedelta(days=10)
    )
    html = signed_in.get(reverse("specialists:profile_licences")).content.decode()
    assert html.count(">Expired<") == 1
    html = signed_in.get(reverse("specialists:profile_licence_edit", args=["CT"])).content.decode()
    assert "This licence expired on" in html


def test_a_licence_the_specialist_does_not_hold_is_not_found(signed_in):
    assert (
        signed_in.get(reverse("specialists:profile_licence_edit", args=["WY"])).status_code == 404
    )


# --- Leave ------------------------------------------------------------------------------------
def test_the_specialist_adds_and_removes_leave(signed_in, profile):
    url = reverse("specialists:profile_leave")
    start, end = TODAY() + datetime.timedelta(days=20), TODAY() + datetime.timedelta(days=27)
    response = signed_in.post(url, date_parts("starts_on", start) | date_parts("ends_on", end))
    assert response.status_code == 302
    leave = profile.leave.get()
    assert (leave.starts_on, leave.ends_on) == (start, end)
    signed_in.post(reverse("specialists:profile_leave_remove"), {"leave": str(leave.pk)})
    assert not profile.leave.exists()
    assert actions(profile) == [
        "specialists.profile.leave_added",
        "specialists.profile.leave_removed",
    ]


def test_leave_that_ends_before_it_starts_or_overlaps_is_refused(signed_in, profile):
    url = reverse("specialists:profile_leave")
    start = TODAY() + datetime.timedelta(days=20)
    html = signed_in.post(
        url,
        date_parts("starts_on", start) | date_parts("ends_on", start - datetime.timedelta(days=1)),
    ).content.decode()
    assert "The last day away must be the same as or after the first day away." in html
    away(profile, start, start + datetime.timedelta(days=5))
    html = signed_in.post(
        url,
        date_parts("starts_on", start + datetime.timedelta(days=3))
        | date_parts("ends_on", start + datetime.timedelta(days=9)),
    ).content.decode()
    assert "These dates overlap your leave" in html
    html = signed_in.post(
        url, {"starts_on_day": "1", "starts_on_month": "", "starts_on_year": "2027"}
    ).content.decode()
    assert "First day away must include a month" in html
    assert profile.leave.count() == 1
    assert actions(profile) == []


# --- Photo ------------------------------------------------------------------------------------
def test_a_photo_is_verified_stored_under_a_random_name_and_served_to_anyone(
    signed_in, profile, storage, client, django_capture_on_commit_callbacks
):
    response = signed_in.post(
        reverse("specialists:profile_photo"), {"photo": image_file("Dr Spec passport.png")}
    )
    assert response.url == reverse("specialists:profile")
    profile.refresh_from_db()
    name = profile.photo.name
    assert name.startswith("specialists/photos/") and name.endswith(".png")
    assert "passport" not in name and len(name.rsplit("/", 1)[1]) == 36
    assert stored_photos() == [name.rsplit("/", 1)[1]]

    client.logout()
    url = reverse("directory:photo", args=[name.rsplit("/", 1)[1]])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "max-age=31536000" in response["Cache-Control"]
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "PNG"

    # A new photo gets a new name; the old file goes once the change is committed.
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.force_login(profile.user)
        signed_in.post(
            reverse("specialists:profile_photo"), {"photo": image_file("new.jpg", "JPEG")}
        )
    profile.refresh_from_db()
    assert profile.photo.name.endswith(".jpg") and profile.photo.name != name
    assert stored_photos() == [profile.photo.name.rsplit("/", 1)[1]]
    assert client.get(url).status_code == 404
    assert actions(profile) == ["specialists.profile.photo_changed"] * 2


def test_a_pdf_named_like_a_photo_or_a_photo_too_big_is_refused_and_nothing_stored(
    signed_in, profile, storage
):
    url = reverse("specialists:profile_photo")
    pdf = SimpleUploadedFile(
        "me.jpg", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", content_type="image/jpeg"
    )
    html = signed_in.post(url, {"photo": pdf}).content.decode()
    assert "The photo must be a JPEG or PNG image." in html
    big = SimpleUploadedFile(
        "big.jpg", b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024), content_type="image/jpeg"
    )
    html = signed_in.post(url, {"photo": big}).content.decode()
    assert "The photo must be smaller than 5 MB." in html
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    html = signed_in.post(
        url, {"photo": SimpleUploadedFile("a.png", gif.getvalue())}
    ).content.decode()
    assert "The photo must be a JPEG or PNG image." in html
    profile.refresh_from_db()
    assert not profile.photo and stored_photos() == []
    assert actions(profile) == []


def test_the_specialist_removes_the_photo(
    signed_in, profile, storage, django_capture_on_commit_callbacks
):
    profile_services.specialist_photo_set(actor=profile.user, profile=profile, upload=image_file())
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("specialists:profile_photo_remove"))
    assert response.url == reverse("specialists:profile")
    profile.refresh_from_db()
    assert not profile.photo and stored_photos() == []
    assert actions(profile)[-1] == "specialists.profile.photo_removed"


# --- Nobody else's profile ------------------------------------------------------------------------
def test_another_specialist_only_ever_edits_their_own_profile(client, profile):
    other = UserFactory(role="specialist")
    enrol_totp(other)
    mine = away(profile, TODAY() + datetime.timedelta(days=5), TODAY() + datetime.timedelta(days=6))
    client.force_login(other)
    # The remove pages act on the signed-in specialist's own profile: another's id finds nothing.
    client.post(reverse("specialists:profile_leave_remove"), {"leave": str(mine.pk)})
    client.post(reverse("specialists:profile_licence_remove"), {"state": "NY"})
    assert LeavePeriod.objects.filter(pk=mine.pk).exists()
    assert profile.licences.filter(state="NY").exists()
    # Editing makes their own profile, never touches this one.
    client.post(
        reverse("specialists:profile_edit"),
        {
            "credential": "MD",
            "title": "MD",
            "institution": "Elsewhere",
            "languages": "English",
            "specialties": [str(pk) for pk in _specialty_pks("oncology")],
            "consultation_modes": ["video"],
            "max_open_cases": "2",
            "turnaround_days": "3",
        },
    )
    assert SpecialistProfile.objects.get(user=other).institution == "Elsewhere"
    profile.refresh_from_db()
    assert profile.institution == "Lakeside University Hospital"
    assert actions(profile) == []
    # And the services refuse it outright.
    with pytest.raises(PermissionDenied):
        profile_services.specialist_leave_remove(actor=other, profile=profile, leave_id=mine.pk)
    with pytest.raises(PermissionDenied):
        profile_services.specialist_profile_update(
            actor=other, profile=profile, data={"institution": "Hijacked"}
        )


@pytest.mark.parametrize("role", ["patient", "coordinator"])
def test_other_roles_are_refused_the_profile_pages(client, role, patient, coordinator):
    client.force_login({"patient": patient, "coordinator": coordinator}[role])
    for name in ("profile", "profile_edit", "profile_conditions", "profile_photo"):
        assert client.get(reverse(f"specialists:{name}")).status_code == 403


# --- The Django admin ------------------------------------------------------------------------------
def test_an_admin_edits_a_profile_with_its_certifications_licences_and_leave(
    client, admin_user, profile, storage
):
    client.force_login(admin_user)
    profile_services.specialist_photo_set(actor=profile.user, profile=profile, upload=image_file())
    profile.refresh_from_db()
    url = reverse("admin:specialists_specialistprofile_change", args=[profile.pk])
    html = client.get(url).content.decode()
    for inline in ("certifications-TOTAL_FORMS", "licences-TOTAL_FORMS", "leave-TOTAL_FORMS"):
        assert inline in html
    assert 'name="new_photo"' in html
    assert f">{profile.photo.name}<" not in html  # the upload, never a stored file name


def test_an_admin_uploads_a_photo_through_the_same_checks_and_service(
    client, admin_user, profile, storage
):
    client.force_login(admin_user)
    url = reverse("admin:specialists_specialistprofile_change", args=[profile.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name not in ("specialties", "new_photo", "remove_photo") and value is not None
    }
    data |= {
        "user": profile.user_id,
        "languages": '["English"]',
        "conditions": '["C50"]',
        "insurance_networks": "[]",
        "consultation_modes": '["video"]',
        "specialties": [s.pk for s in profile.specialties.all()],
        "accepting_cases": "on",
    }
    for prefix, count in (
        ("certifications", profile.certifications.count()),
        ("licences", profile.licences.count()),
        ("leave", profile.leave.count()),
    ):
        data |= {f"{prefix}-TOTAL_FORMS": count, f"{prefix}-INITIAL_FORMS": count}
    for i, held in enumerate(profile.certifications.all()):
        data |= {
            f"certifications-{i}-id": held.pk,
            f"certifications-{i}-profile": profile.pk,
            f"certifications-{i}-certification": held.certification_id,
            f"certifications-{i}-year": held.year,
        }
    for i, licence in enumerate(profile.licences.all()):
        data |= {
            f"licences-{i}-id": licence.pk,
            f"licences-{i}-profile": profile.pk,
            f"licences-{i}-state": licence.state,
            f"licences-{i}-number": licence.number,
            f"licences-{i}-expires_on": licence.expires_on.isoformat(),
        }

    pdf = SimpleUploadedFile("me.png", b"%PDF-1.7\n%%EOF", content_type="image/png")
    response = client.post(url, data | {"new_photo": pdf})
    assert response.status_code == 200 and "The photo must be a JPEG or PNG image." in (
        response.content.decode()
    )
    assert stored_photos() == []

    response = client.post(url, data | {"new_photo": image_file("from the admin.png")})
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile.refresh_from_db()
    assert (
        profile.photo.name.startswith("specialists/photos/") and "admin" not in profile.photo.name
    )
    event = AuditEvent.objects.get(action="specialists.profile.photo_changed")
    assert event.actor == admin_user
