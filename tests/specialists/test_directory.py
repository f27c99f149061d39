"""The public directory: anyone browses and filters it, it shows public fields
only, and a patient names a specialist from it on their own request."""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from PIL import Image

from specialists import profile_services
from specialists.models import Licence, SpecialistProfile
from tests.helpers import assert_constant_queries
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory, away

pytestmark = pytest.mark.django_db

LIST = reverse("directory:list")


def detail(profile) -> str:
    return reverse("directory:detail", args=[profile.public_id])


def names(response) -> list[str]:
    return [profile.user.full_name for profile, _photo in response.context["entries"]]


def make(name: str, **kwargs) -> SpecialistProfile:
    profile = SpecialistFactory(**kwargs)
    profile.user.full_name = name
    profile.user.save(update_fields=["full_name"])
    return profile


@pytest.fixture
def marsh(db):
    profile = make(
        "Dr. Helen Marsh",
        institution="Lakeside University Hospital",
        subspecialty="Breast cancer",
        bio="Twenty years of breast cancer care.",
        languages=["English", "Spanish"],
        insurance_networks=["Empire Health"],
        licensed_in=("NY", "NJ"),
        max_open_cases=7,
    )
    Licence.objects.filter(profile=profile, state="NY").update(number="NY-281734")
    away(
        profile,
        timezone.localdate() + datetime.timedelta(days=40),
        timezone.localdate() + datetime.timedelta(days=44),
    )
    return profile


@pytest.fixture
def haddad(db):
    return make(
        "Dr. Omar Haddad",
        specialty_slugs=("cardiology",),
        certified=("abim-cardiovascular-disease",),
        languages=["English", "Arabic"],
        licensed_in=("CA",),
        consultation_modes=["written"],
    )


def test_anyone_browses_every_active_specialist_by_name(client, marsh, haddad):
    gone = make("Dr. Gone Away")
    gone.user.is_active = False
    gone.user.save(update_fields=["is_active"])
    response = client.get(LIST)
    assert response.status_code == 200
    assert names(response) == ["Dr. Helen Marsh", "Dr. Omar Haddad"]
    assert "Dr. Gone Away" not in response.content.decode()
    assert client.get(detail(gone)).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"specialty": "oncology"}, ["Dr. Helen Marsh"]),
        ({"specialty": "cardiology"}, ["Dr. Omar Haddad"]),
        ({"language": "Arabic"}, ["Dr. Omar Haddad"]),
        ({"language": "English"}, ["Dr. Helen Marsh", "Dr. Omar Haddad"]),
        ({"state": "NJ"}, ["Dr. Helen Marsh"]),
        ({"state": "CA", "mode": "written"}, ["Dr. Omar Haddad"]),
        ({"mode": "video"}, ["Dr. Helen Marsh"]),
        ({"state": "TX"}, []),
    ],
)
def test_patients_filter_by_specialty_language_state_and_consultation(
    client, marsh, haddad, query, expected
):
    assert names(client.get(LIST, query)) == expected


def test_a_licence_that_has_expired_does_not_count_for_its_state(client, marsh):
    Licence.objects.filter(profile=marsh, state="NJ").update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert names(client.get(LIST, {"state": "NJ"})) == []
    html = client.get(detail(marsh)).content.decode()
    assert "New York" in html and "New Jersey" not in html


def test_a_bad_filter_is_said_and_the_others_still_apply(client, marsh, haddad):
    response = client.get(LIST, {"specialty": "astrology", "language": "Arabic"})
    html = response.content.decode()
    assert "There is a problem" in html
    assert names(response) == ["Dr. Omar Haddad"]


def test_entries_show_public_fields_only(client, marsh):
    for url in (LIST, detail(marsh)):
        html = client.get(url).content.decode()
        for shown in (
            "Dr. Helen Marsh",
            "Lakeside University Hospital",
            "Medical Oncology",
            "Breast cancer",
            "Spanish",
            "Twenty years of breast cancer care.",
        ):
            assert shown in html, (url, shown)
        leave = date_format(marsh.leave.get().starts_on, "j F Y")
        for hidden in ("NY-281734", marsh.user.email, "Empire Health", leave):
            assert hidden not in html, (url, hidden)
    html = client.get(detail(marsh)).content.decode()
    assert "American Board of Internal Medicine" in html  # the certifying board


def test_a_specialist_not_taking_cases_is_listed_and_says_so(client, marsh):
    SpecialistProfile.objects.filter(pk=marsh.pk).update(accepting_cases=False)
    for url in (LIST, detail(marsh)):
        assert "Not taking new cases right now" in client.get(url).content.decode()


def test_the_directory_has_pages_of_20_with_the_same_queries_for_each(client):
    def grow(n):
        while SpecialistProfile.objects.count() < n:
            SpecialistFactory()

    assert_constant_queries(client, lambda n: LIST, grow, sizes=(2, 45))
    first, third = client.get(LIST), client.get(LIST, {"page": "3"})
    assert len(first.context["entries"]) == 20 and len(third.context["entries"]) == 5
    assert "Page 1 of 3" in first.content.decode()
    # The filters stay on the next page's link.
    html = client.get(LIST, {"specialty": "oncology"}).content.decode()
    assert "?specialty=oncology&amp;page=2" in html


def test_the_detail_page_and_the_photo_are_addressed_by_public_ids(client, marsh, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    assert str(marsh.pk) not in detail(marsh).split("/")
    assert (
        client.get(
            reverse("directory:detail", args=["00000000-0000-4000-8000-000000000000"])
        ).status_code
        == 404
    )
    out = io.BytesIO()
    Image.new("RGB", (30, 30)).save(out, format="JPEG")
    profile_services.specialist_photo_set(
        actor=marsh.user, profile=marsh, upload=SimpleUploadedFile("x.jpg", out.getvalue())
    )
    marsh.refresh_from_db()
    photo = reverse("directory:photo", args=[marsh.photo.name.rsplit("/", 1)[1]])
    assert photo in client.get(detail(marsh)).content.decode()
    assert photo in client.get(LIST).content.decode()
    response = client.get(photo)
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    # An inactive specialist's photo is gone with them; a name no photo has is not found.
    marsh.user.is_active = False
    marsh.user.save(update_fields=["is_active"])
    assert client.get(photo).status_code == 404
    assert client.get(reverse("directory:photo", args=["settings.py"])).status_code == 404
    assert default_storage.exists(marsh.photo.name)


# --- Naming a preferred specialist ---------------------------------------------------------
def test_a_patient_asks_for_a_specialist_on_their_request(client, patient, outsider, marsh):
    draft = CaseFactory(owner=patient)
    theirs = CaseFactory(owner=outsider)
    CaseFactory(owner=patient, withdrawn=True)  # closed: nothing to change
    client.force_login(patient)
    html = client.get(detail(marsh)).content.decode()
    section = reverse("requests_app:case_section", args=[draft.uuid, "specialist"])
    link = f"{section}?preferred={marsh.public_id}"
    assert "Ask for Dr. Helen Marsh on my request" in html
    assert link in html
    assert str(theirs.uuid) not in html

    page = client.get(link).content.decode()
    assert f'<option value="{marsh.pk}" selected>' in page
    assert "Dr. Helen Marsh, MD · Lakeside University Hospital" in page
    draft.refresh_from_db()
    assert draft.preferred_specialist is None  # chosen on the page, saved by the patient

    client.post(section, {"preferred_specialist": str(marsh.pk), "draft": "1"})
    draft.refresh_from_db()
    assert draft.preferred_specialist == marsh


def test_a_patient_with_several_requests_chooses_which_one(client, patient, marsh):
    sent = CaseFactory(owner=patient, submitted=True)
    CaseFactory(owner=patient)
    client.force_login(patient)
    html = client.get(detail(marsh)).content.decode()
    assert f"Ask for Dr. Helen Marsh on request {sent.reference}" in html
    assert "Ask for Dr. Helen Marsh on my draft request of" in html


def test_no_ask_link_for_a_specialist_not_taking_cases_nor_for_a_bad_id(client, patient, marsh):
    draft = CaseFactory(owner=patient)
    SpecialistProfile.objects.filter(pk=marsh.pk).update(accepting_cases=False)
    client.force_login(patient)
    assert "?preferred=" not in client.get(detail(marsh)).content.decode()
    section = reverse("requests_app:case_section", args=[draft.uuid, "specialist"])
    for bad in (str(marsh.public_id), "not-a-uuid"):
        page = client.get(section, {"preferred": bad}).content.decode()
        assert f'<option value="{marsh.pk}" selected>' not in page


def test_anonymous_people_are_asked_to_start_a_request_and_staff_see_no_offer(
    client, marsh, coordinator
):
    html = client.get(detail(marsh)).content.decode()
    assert reverse("account_signup") in html and "?preferred=" not in html
    client.force_login(coordinator)
    assert "Would you like" not in client.get(detail(marsh)).content.decode()


def test_the_home_page_and_the_specialist_section_link_to_the_directory(client, patient):
    assert LIST in client.get(reverse("home")).content.decode()
    draft = CaseFactory(owner=patient)
    client.force_login(patient)
    html = client.get(
        reverse("requests_app:case_section", args=[draft.uuid, "specialist"])
    ).content.decode()
    assert f'<a href="{LIST}">Browse our specialists</a>' in html
