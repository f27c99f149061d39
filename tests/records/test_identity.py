"""A study labelled for another person, and the same study sent twice (records.services
.identity): what verification decides, what the patient is asked and answers, and that
no member of staff sees a flagged study, its pictures, its files or a bundle of it
until the patient says it is theirs."""

import datetime
import hashlib
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from records import checking, services
from records.models import Bundle, Identity, Record, RecordFile, RecordRequest, State
from requests_app.models import CaseStatus
from requests_app.selectors import case_record_counts
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.records import samples
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

# The factory's patient: "Pat Patient", born 17 May 1970 (tests/conftest.py, CaseFactory).
THEIRS = {"patient_name": "PATIENT^PAT", "birth_date": "19700517"}
SOMEONE_ELSE = {"patient_name": "WHITAKER^ROSALIND", "birth_date": "19580214"}


@pytest.fixture
def case(patient, coordinator, specialist):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )


def upload(case, files: dict[str, bytes], *, title="CT chest", answers=None) -> Record:
    """An uploaded record whose files are in storage, checked."""
    record = Record.objects.create(
        case=case,
        uploaded_by=case.owner,
        category="imaging",
        title=title,
        is_study=True,
        state=State.UPLOADED,
        size=sum(map(len, files.values())),
        uploaded_at=timezone.now(),
        slot_expires_at=timezone.now(),
        answers=answers,
    )
    for name, data in files.items():
        file_uuid = uuid.uuid4()
        key = f"{record.prefix}{file_uuid}"
        default_storage.save(key, ContentFile(data))
        RecordFile.objects.create(
            uuid=file_uuid, record=record, key=key, name=name, size=len(data), stored_size=len(data)
        )
    checking.check_record(record.pk)
    record.refresh_from_db()
    return record


def disc(labels=None, **options) -> dict[str, bytes]:
    return samples.study_files(**{**(labels or {}), **options})


def get(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(name, args=args))


# --- What verification decides -------------------------------------------------------------
def test_a_study_labelled_for_the_patient_goes_to_the_care_team(case, client, specialist):
    record = upload(case, disc(THEIRS))
    assert (record.state, record.identity, record.labelled_as) == (State.VERIFIED, "matched", [])
    assert get(client, specialist, "records:detail", record.uuid).status_code == 200


def test_an_anonymised_study_is_no_mismatch_but_says_nothing_was_compared(case, client, specialist):
    record = upload(case, disc())
    assert (record.state, record.identity) == (State.VERIFIED, Identity.UNCHECKED)
    assert get(client, specialist, "records:detail", record.uuid).status_code == 200


def test_a_study_labelled_for_another_person_waits_for_the_patient(case, patient):
    record = upload(case, disc(SOMEONE_ELSE))
    assert record.state == State.VERIFIED and record.identity == Identity.ASKED
    assert record.labelled_as == [
        {
            "name": "ROSALIND WHITAKER",
            "birth_date": "1958-02-14",
            "name_differs": True,
            "birth_date_differs": True,
        }
    ]
    [told] = Notification.objects.filter(recipient=patient)
    assert told.url == reverse("records:case_records", args=[case.uuid])
    # The patient's notice and email say what to do, never whose name the images carry.
    for text in (told.title, told.email_subject, told.email_sentence):
        assert "WHITAKER" not in text.upper() and "1958" not in text
    assert "another person" in told.email_sentence
    flagged = AuditEvent.objects.get(action="records.record.identity_flagged")
    assert flagged.new_values == {"names_differ": 1, "birth_dates_differ": 1}


def test_the_patient_sees_the_question_with_what_the_images_say(case, client, patient):
    record = upload(case, disc(SOMEONE_ELSE), title="Chest CT from Mercy")
    html = get(client, patient, "records:case_records", case.uuid).content.decode()
    assert "Labelled for another person?" in html
    assert "A study you sent may be another person's" in html
    assert f'href="#identity-{record.uuid}"' in html
    assert "ROSALIND WHITAKER" in html and "14 February 1958" in html
    assert "It is mine" in html and "Remove it" in html
    assert reverse("records:identity", args=[record.uuid]) in html
    assert 'data-awaits="true"' in html
    detail = get(client, patient, "records:detail", record.uuid).content.decode()
    assert "ROSALIND WHITAKER" in detail and "It is mine" in detail


def test_no_member_of_staff_sees_a_flagged_study_anywhere(case, client, coordinator, specialist):
    shown = upload(case, disc(THEIRS, study="1.2.826.0.1.3680043.8.498.7"), title="Shown study")
    record = upload(case, disc(SOMEONE_ELSE), title="Flagged study")
    for person in (coordinator, specialist):
        listing = get(client, person, "records:case_records", case.uuid).content.decode()
        assert "Shown study" in listing and "Flagged study" not in listing
        assert str(record.uuid) not in listing and "WHITAKER" not in listing
        # The case manager is told one waits; the specialist is not.
        told = "1 study sent for this request is labelled for another person" in listing
        assert told == (person == coordinator)
        for name, args in [
            ("records:detail", [record.uuid]),
            ("records:thumbnail", [record.uuid]),
            ("records:series_thumbnail", [record.uuid, 1]),
            ("records:file_download", [record.uuid, record.files.first().uuid]),
        ]:
            assert get(client, person, name, *args).status_code == 404, (person.role, name)
        states = get(client, person, "records:states", case.uuid).json()["records"]
        assert str(record.uuid) not in {row["id"] for row in states}
        # A bundle of the case's records leaves it out.
        client.force_login(person)
        client.post(reverse("records:bundle_create", args=[case.uuid]))
        bundle = Bundle.objects.filter(requested_by=person).latest("created_at")
        assert list(bundle.records.all()) == [shown]
    # The counts: the case manager is told one waits, and it is not "checked".
    assert case_record_counts(case=case) == {"checked": 1, "waiting": 0, "flagged": 1}
    staff_page = get(client, coordinator, "requests_app:staff_case", case.uuid).content.decode()
    assert "1 study labelled for another person? Waiting for the patient" in staff_page
    specialist_page = get(client, specialist, "requests_app:staff_case", case.uuid).content.decode()
    assert "labelled for another person" not in specialist_page


# --- The patient's answer -------------------------------------------------------------------
def answer(client, user, record, value):
    client.force_login(user)
    return client.post(reverse("records:identity", args=[record.uuid]), {"answer": value})


def test_it_is_mine_is_recorded_and_the_care_team_then_sees_it(case, client, patient, specialist):
    record = upload(case, disc(SOMEONE_ELSE))
    response = answer(client, patient, record, "mine")
    assert response.status_code == 302
    assert response.url == reverse("records:case_records", args=[case.uuid])
    record.refresh_from_db()
    assert record.identity == Identity.CONFIRMED
    assert record.identity_answered_by == patient and record.identity_answered_at is not None
    event = AuditEvent.objects.get(action="records.record.identity_confirmed")
    assert event.actor == patient and event.new_values == {"identity": "confirmed"}
    detail = get(client, specialist, "records:detail", record.uuid)
    assert detail.status_code == 200
    assert "the patient confirmed on" in detail.content.decode()
    # A second "It is mine" (a double submit) changes nothing.
    assert answer(client, patient, record, "mine").status_code == 302
    assert AuditEvent.objects.filter(action="records.record.identity_confirmed").count() == 1


def confirm_removal(client, user, record):
    client.force_login(user)
    return client.post(reverse("records:identity_remove", args=[record.uuid]))


def test_remove_it_deletes_the_images_and_takes_it_off_every_list(
    case, client, patient, django_capture_on_commit_callbacks
):
    record = upload(case, disc(SOMEONE_ELSE))
    keys = list(record.files.values_list("key", flat=True))
    assert keys and all(default_storage.exists(k) for k in keys)
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_removal(client, patient, record)
    assert response.status_code == 302
    assert response.url == reverse("records:case_records", args=[case.uuid])
    record.refresh_from_db()
    assert record.state == State.REJECTED and record.reason == "other_person"
    assert record.dismissed_at is not None and record.study == {} and record.labelled_as == []
    assert not record.files.exists()
    assert not any(default_storage.exists(k) for k in keys)
    assert AuditEvent.objects.get(action="records.record.identity_removed").actor == patient
    listing = get(client, patient, "records:case_records", case.uuid).content.decode()
    assert f'id="record-{record.uuid}"' not in listing
    assert "was removed: nothing of it is kept" in listing


def test_remove_it_asks_first_on_a_page_of_its_own_and_nothing_goes_before_yes(
    case, client, patient
):
    record = upload(case, disc(SOMEONE_ELSE))
    records_page = get(client, patient, "records:case_records", case.uuid).content.decode()
    confirm_url = reverse("records:identity_remove", args=[record.uuid])
    # "Remove it" is a link to the question (no script needed), not a button that removes.
    assert f'href="{confirm_url}"' in records_page
    assert 'value="remove"' not in records_page
    page = get(client, patient, "records:identity_remove", record.uuid)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Remove “CT chest”?" in html
    assert "ROSALIND WHITAKER" in html and "14 February 1958" in html
    assert "deleted from SecondOp for good" in html
    assert "Yes, remove them" in html and "No, go back" in html
    # An answer of "remove" posted straight to the answer URL (an old page) asks too.
    response = answer(client, patient, record, "remove")
    assert response.status_code == 302 and response.url == confirm_url
    record.refresh_from_db()
    assert record.identity == Identity.ASKED and record.state == State.VERIFIED
    assert record.files.exists()
    assert not AuditEvent.objects.filter(action="records.record.identity_removed").exists()


def test_the_removal_question_for_a_study_that_waits_for_nothing_sends_back(case, client, patient):
    record = upload(case, disc(THEIRS))
    response = get(client, patient, "records:identity_remove", record.uuid)
    assert response.status_code == 302
    assert response.url == reverse("records:case_records", args=[case.uuid])
    assert confirm_removal(client, patient, record).status_code == 302
    record.refresh_from_db()
    assert record.state == State.VERIFIED and record.files.exists()


def test_only_the_owner_answers_everyone_else_gets_404(
    case, client, coordinator, specialist, outsider
):
    record = upload(case, disc(SOMEONE_ELSE))
    for person in (coordinator, specialist, outsider):
        assert answer(client, person, record, "mine").status_code == 404, person.role
        assert answer(client, person, record, "remove").status_code == 404, person.role
        assert get(client, person, "records:identity_remove", record.uuid).status_code == 404
        assert confirm_removal(client, person, record).status_code == 404, person.role
    record.refresh_from_db()
    assert record.identity == Identity.ASKED


def test_a_record_that_waits_for_nothing_is_not_answered(case, client, patient):
    record = upload(case, disc(THEIRS))
    response = answer(client, patient, record, "mine")
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.identity == "matched"
    client.force_login(patient)
    page = client.get(response.url).content.decode()
    assert "not waiting for your answer" in page


def test_an_answer_must_be_one_of_the_two(case, client, patient):
    record = upload(case, disc(SOMEONE_ELSE))
    response = answer(client, patient, record, "maybe")
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.identity == Identity.ASKED


def test_a_flagged_study_answers_a_request_only_once_the_patient_says_it_is_theirs(
    case, client, patient, specialist
):
    asked = RecordRequest.objects.create(
        case=case, requested_by=specialist, note="The CT", return_to=CaseStatus.IN_REVIEW
    )
    record = upload(case, disc(SOMEONE_ELSE), answers=asked)
    asked.refresh_from_db()
    assert asked.is_open
    answer(client, patient, record, "mine")
    asked.refresh_from_db()
    assert asked.fulfilled_at is not None


# --- The same study twice -------------------------------------------------------------------
def test_the_same_study_as_a_folder_then_a_zip_is_kept_once(
    case, client, patient, django_capture_on_commit_callbacks
):
    folder = upload(case, disc(THEIRS))
    first_keys = list(folder.files.values_list("key", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        again = upload(case, {"scans.zip": samples.zip_of(disc(THEIRS))}, title="Same, zipped")
    assert again.state == State.REJECTED and again.reason == "duplicate_study"
    assert again.duplicate_of == folder and again.size == 0
    assert not any(default_storage.exists(k) for k in again.files.values_list("key", flat=True))
    assert all(default_storage.exists(k) for k in first_keys)  # the first copy is kept
    day = timezone.localtime(folder.uploaded_at).strftime("%-d %B")
    words = f"You already sent this study on {day}: we kept the first copy."
    assert services.describe_record_reason(again) == words
    html = get(client, patient, "records:case_records", case.uuid).content.decode()
    assert words in html
    told = Notification.objects.filter(recipient=patient).latest("id")
    assert "we kept the first copy" in told.title and "kept the first copy" in told.email_sentence


def test_a_study_with_a_new_series_is_kept_whole(case):
    upload(case, disc(THEIRS, series=1))
    more = upload(case, disc(THEIRS, series=2), title="With the MR series")
    assert more.state == State.VERIFIED and more.duplicate_of is None


def test_a_series_with_more_images_than_was_sent_is_kept(case):
    upload(case, disc(THEIRS, series=1, instances=2))
    more = upload(case, disc(THEIRS, series=1, instances=3), title="The whole series")
    assert more.state == State.VERIFIED


def test_another_study_is_not_a_duplicate(case):
    upload(case, disc(THEIRS))
    other = upload(case, disc(THEIRS, study="1.2.826.0.1.3680043.8.498.99"))
    assert other.state == State.VERIFIED


def test_a_study_sent_in_another_case_is_not_a_duplicate(case, patient):
    upload(case, disc(THEIRS))
    other_case = CaseFactory(owner=patient, submitted=True)
    assert upload(other_case, disc(THEIRS)).state == State.VERIFIED


def test_when_the_first_copy_is_gone_the_words_still_read(case):
    first = upload(case, disc(THEIRS))
    again = upload(case, {"scans.zip": samples.zip_of(disc(THEIRS))})
    Record.objects.filter(pk=again.pk).update(duplicate_of=None)
    again.refresh_from_db()
    assert first.pk and services.describe_record_reason(again) == (
        "You already sent this study: we kept the first copy."
    )


def test_a_single_file_duplicate_still_says_exact_file(case):
    data = samples.pdf()
    RecordFactory(case=case, sha256=hashlib.sha256(data).hexdigest())
    record = Record.objects.create(
        case=case,
        uploaded_by=case.owner,
        category="labs",
        title="Again",
        state=State.UPLOADED,
        size=len(data),
        uploaded_at=timezone.now(),
        slot_expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    key = f"{record.prefix}{uuid.uuid4()}"
    default_storage.save(key, ContentFile(data))
    RecordFile.objects.create(record=record, key=key, name="a.pdf", size=len(data))
    checking.check_record(record.pk)
    record.refresh_from_db()
    assert record.reason == "duplicate"
