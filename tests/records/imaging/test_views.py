"""records.imaging.views: the viewer page, its frames, the preset and state
endpoints, and the patient's "Your scans": who may open them, what each opening
logs, and what a frame not ready (or of another case) answers."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from records.imaging import viewer_selectors as viewing
from records.imaging.models import FrameSet, Preset
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from tests.accounts.factories import UserFactory, enrol_totp
from tests.records.imaging.rendered import render, study_record
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator, specialist):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )


@pytest.fixture
def study(case):
    return study_record(case)


def viewer_url(series, **query):
    url = reverse("imaging:viewer", args=[series.uuid])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def frame_url(series, index=0, preset="stored", size=1024):
    return reverse("imaging:frame", args=[series.uuid, preset, size, index])


def series_rows(series=None):
    rows = AccessLog.objects.filter(object_type="imaging.series")
    return rows.filter(object_id=str(series.pk)) if series is not None else rows


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- Who may open it -------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["patient", "coordinator", "specialist"])
def test_it_opens_for_the_care_team(client, request, study, who):
    _record, (ct, mr) = study
    response = get(client, request.getfixturevalue(who), viewer_url(ct))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Image 1 of 12" in html
    assert frame_url(ct) in html  # the frame itself, without JavaScript
    assert viewer_url(ct, i=1) in html  # and the next one
    assert "Brain T2 axial" in html and viewer_url(mr) in html  # the series beside it
    assert "Chest, lung detail" in html and "2 March 2026" in html  # the study


def _other_coordinator():
    user = UserFactory(role="coordinator", email="other@example.com")
    enrol_totp(user)
    return user


def _unassigned_specialist():
    user = UserFactory(role="specialist", email="far@example.com")
    enrol_totp(user)
    return user


@pytest.mark.parametrize("who", ["outsider", "other_coordinator", "unassigned_specialist"])
def test_everyone_else_gets_404_for_the_viewer_its_frames_state_and_presets(
    client, request, study, who
):
    _record, (ct, _mr) = study
    person = {
        "other_coordinator": _other_coordinator,
        "unassigned_specialist": _unassigned_specialist,
    }.get(who, lambda: request.getfixturevalue(who))()
    client.force_login(person)
    for url in (
        viewer_url(ct),
        frame_url(ct),
        frame_url(ct, size=512),
        reverse("imaging:state", args=[ct.uuid]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("imaging:preset", args=[ct.uuid]), {"preset": "lung"}).status_code
        == 404
    )
    assert not FrameSet.objects.filter(preset="lung").exists()
    assert series_rows().count() == 0


def test_a_signed_out_visitor_is_sent_to_sign_in_for_a_frame(client, study):
    _record, (ct, _mr) = study
    response = client.get(frame_url(ct))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_care_team_of_one_case_gets_404_for_another_cases_series(
    client, patient, specialist, study
):
    other_case = CaseFactory(submitted=True, status=CaseStatus.IN_REVIEW)
    _record, (elsewhere, _mr) = study_record(other_case, title="Someone else's CT")
    for person in (patient, specialist):
        client.force_login(person)
        assert client.get(viewer_url(elsewhere)).status_code == 404
        assert client.get(frame_url(elsewhere)).status_code == 404


def test_staff_lose_the_viewer_when_the_request_is_withdrawn(client, specialist, case, study):
    _record, (ct, _mr) = study
    case.status = CaseStatus.WITHDRAWN
    case.save(update_fields=["status"])
    client.force_login(specialist)
    assert client.get(viewer_url(ct)).status_code == 404
    assert client.get(frame_url(ct)).status_code == 404


def test_a_dismissed_or_unchecked_study_shows_nothing(client, specialist, patient, study):
    record, (ct, _mr) = study
    record.state = "scanning"
    record.save(update_fields=["state"])
    for person in (specialist, patient):
        client.force_login(person)
        assert client.get(viewer_url(ct)).status_code == 404
        assert client.get(frame_url(ct)).status_code == 404


# --- Frames ------------------------------------------------------------------------------------
def test_a_frame_is_the_webp_with_private_cache_headers_and_no_storage_url(
    client, specialist, study
):
    _record, (ct, _mr) = study
    response = get(client, specialist, frame_url(ct, index=11, size=512))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WEBP"
    # PHI: no copy in any cache, the browser's included (the viewer keeps them in memory).
    assert {"private", "no-store"} <= {v.strip() for v in response["Cache-Control"].split(",")}
    assert "Location" not in response
    # A frame is checked every time and logs nothing: the viewer page logged the opening.
    assert series_rows().count() == 0


def test_a_frame_not_ready_or_past_the_end_or_of_a_preset_not_made_is_404(
    client, specialist, study
):
    _record, (ct, mr) = study
    render(ct, Preset.LUNG, ready=3)
    client.force_login(specialist)
    assert client.get(frame_url(ct, index=2, preset="lung")).status_code == 200
    assert client.get(frame_url(ct, index=3, preset="lung")).status_code == 404  # not yet
    assert client.get(frame_url(ct, index=12)).status_code == 404  # past the end
    assert client.get(frame_url(ct, preset="bone")).status_code == 404  # never asked for
    assert client.get(frame_url(mr, preset="lung")).status_code == 404  # not offered (MR)
    assert client.get(frame_url(ct, preset="nonsense")).status_code == 404
    assert client.get(frame_url(ct, size=300)).status_code == 404


def _page_token(client, user, series) -> str:
    client.force_login(user)
    html = client.get(viewer_url(series)).content.decode()
    return re.search(r'data-frame-token="([^"]+)"', html).group(1)


def test_the_page_gives_a_frame_token_that_skips_the_case_check_for_its_series(
    client, specialist, study, django_assert_max_num_queries
):
    _record, (ct, _mr) = study
    token = _page_token(client, specialist, ct)
    client.get(frame_url(ct, 1))  # the session's and the MFA's reads warmed
    with django_assert_max_num_queries(12) as whole:
        plain = client.get(frame_url(ct, 2))
    with django_assert_max_num_queries(12) as short:
        tokened = client.get(frame_url(ct, 2) + f"?t={token}")
    assert plain.status_code == tokened.status_code == 200
    assert plain.content == tokened.content
    # The whole check is two queries more (the case's visibility and the record shown).
    assert len(short.captured_queries) <= len(whole.captured_queries) - 1
    # The whole check hands out a fresh token; the short one does not need to.
    assert plain["X-Frame-Token"] and "X-Frame-Token" not in tokened
    # Still only what exists: past the end, a preset not made, a preset not offered.
    assert client.get(frame_url(ct, 12) + f"?t={token}").status_code == 404
    assert client.get(frame_url(ct, preset="bone") + f"?t={token}").status_code == 404


def test_a_frame_token_is_no_use_to_anyone_else_or_for_another_series(client, specialist, study):
    _record, (ct, mr) = study
    token = _page_token(client, specialist, ct)
    outsider = UserFactory(role="specialist", email="far@example.com")
    enrol_totp(outsider)
    client.force_login(outsider)
    assert client.get(frame_url(ct) + f"?t={token}").status_code == 404
    client.logout()
    response = client.get(frame_url(ct) + f"?t={token}")
    assert response.status_code == 302 and "/accounts/login/" in response.url
    # For another series (here the same person's) it is the whole check again.
    client.force_login(specialist)
    response = client.get(frame_url(mr) + f"?t={token}")
    assert response.status_code == 200 and response["X-Frame-Token"]
    assert client.get(frame_url(ct) + "?t=forged").status_code == 200  # whole check


def test_an_expired_frame_token_runs_the_whole_check_again(client, specialist, study, monkeypatch):
    _record, (ct, _mr) = study
    token = _page_token(client, specialist, ct)
    monkeypatch.setattr(viewing, "FRAME_TOKEN_SECONDS", -1)
    response = client.get(frame_url(ct) + f"?t={token}")
    assert response.status_code == 200 and response["X-Frame-Token"]  # the whole check


@pytest.mark.parametrize("ended", ["withdrawn", "reassigned", "record dismissed"])
def test_access_ended_reaches_an_open_viewer_at_its_next_frame(
    client, specialist, case, study, ended
):
    """The token spares the case lookup, not the rules: a viewer already open is
    refused its next frame once the case is withdrawn, given to another specialist,
    or the record dismissed, token or not."""
    record, (ct, _mr) = study
    token = _page_token(client, specialist, ct)
    assert client.get(frame_url(ct) + f"?t={token}").status_code == 200
    if ended == "withdrawn":
        case.status = CaseStatus.WITHDRAWN
        case.save(update_fields=["status"])
    elif ended == "reassigned":
        other = UserFactory(role="specialist", email="next@example.com")
        case.specialist = other
        case.save(update_fields=["specialist"])
    else:
        record.dismissed_at = timezone.now()
        record.save(update_fields=["dismissed_at"])
    assert client.get(frame_url(ct, 1) + f"?t={token}").status_code == 404
    assert client.get(frame_url(ct, 1)).status_code == 404


def test_a_frame_whose_file_is_missing_is_404(client, specialist, study):
    from django.core.files.storage import default_storage

    _record, (ct, _mr) = study
    default_storage.delete(FrameSet.objects.get(series=ct, preset="stored", size=1024).key(0))
    assert get(client, specialist, frame_url(ct)).status_code == 404


# --- What opening it logs ----------------------------------------------------------------------
def test_each_series_opened_by_staff_is_one_access_log_row(client, specialist, coordinator, study):
    _record, (ct, mr) = study
    client.force_login(specialist)
    client.get(viewer_url(ct))
    for index in range(12):  # scrolling: frames, no rows
        assert client.get(frame_url(ct, index=index)).status_code == 200
    client.get(reverse("imaging:state", args=[ct.uuid]))
    assert series_rows(ct).count() == 1
    client.get(viewer_url(mr))
    assert series_rows(mr).count() == 1
    row = series_rows(ct).get()
    assert row.actor == specialist and row.kind == "view" and row.source == "web"
    assert row.path == viewer_url(ct) and row.ip_address
    get(client, coordinator, viewer_url(ct))
    assert series_rows(ct).count() == 2
    assert series_rows().count() == 3


def test_the_patient_opening_their_own_series_is_one_row_per_series_not_per_frame(
    client, patient, study
):
    record, (ct, mr) = study
    get(client, patient, viewer_url(ct))
    for index in range(4):
        assert client.get(frame_url(ct, index)).status_code == 200
    client.get(reverse("imaging:state", args=[ct.uuid]))
    row = series_rows(ct).get()
    assert row.actor == patient and row.kind == "view" and row.path == viewer_url(ct)
    get(client, patient, viewer_url(mr))
    assert series_rows().count() == 2
    # Shown in "who looked" as the patient's own, beside the care team's openings.
    html = get(client, patient, reverse("records:detail", args=[record.uuid])).content.decode()
    looked = html.split("Who has looked at this record", 1)[1]
    assert "You: looked at the images" in looked
    assert "Pat Patient" not in looked
    listing = get(client, patient, reverse("records:case_records", args=[record.case.uuid]))
    assert "You, looked at the images" in listing.content.decode()


def test_the_patient_sees_who_looked_at_the_images(client, patient, specialist, study):
    record, (ct, _mr) = study
    get(client, specialist, viewer_url(ct))
    html = get(client, patient, reverse("records:detail", args=[record.uuid])).content.decode()
    looked = html.split("Who has looked at this record", 1)[1]
    assert "Dr. Spec (Specialist): looked at the images" in looked
    html = get(client, patient, reverse("records:case_records", args=[record.case.uuid]))
    assert "looked at the images" in html.content.decode()


# --- Presets -------------------------------------------------------------------------------
def test_asking_for_a_preset_makes_it_and_comes_back_to_it(
    client, specialist, study, django_capture_on_commit_callbacks
):
    _record, (ct, _mr) = study
    client.force_login(specialist)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("imaging:preset", args=[ct.uuid]), {"preset": "lung", "i": "5"}
        )
    assert response.status_code == 302
    assert response["Location"] == viewer_url(ct, i=5, preset="lung")
    sets = FrameSet.objects.filter(series=ct, preset="lung")
    assert sorted(sets.values_list("size", flat=True)) == [512, 1024]
    assert len(queued) == 2  # one render task per size, after the commit
    # Until its frames are ready the page shows it as being prepared, on the stored window.
    html = client.get(viewer_url(ct, i=5, preset="lung")).content.decode()
    assert "preparing" in html and frame_url(ct, index=5) in html
    # Asking again changes nothing.
    client.post(reverse("imaging:preset", args=[ct.uuid]), {"preset": "lung"})
    assert sets.count() == 2


def test_the_viewer_shows_a_ready_preset(client, specialist, study):
    _record, (ct, _mr) = study
    render(ct, Preset.LUNG)
    html = get(client, specialist, viewer_url(ct, i=3, preset="lung")).content.decode()
    assert frame_url(ct, index=3, preset="lung") in html
    assert 'value="lung"' in html and 'aria-pressed="true"' in html


def test_asking_with_json_answers_the_state(client, specialist, study):
    _record, (ct, _mr) = study
    client.force_login(specialist)
    response = client.post(
        reverse("imaging:preset", args=[ct.uuid]),
        {"preset": "bone"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    state = response.json()
    assert state["images"] == 12
    assert state["presets"]["bone"]["asked"] is True
    assert state["presets"]["stored"]["ready"] == {"1024": 12, "512": 12}


def test_a_preset_the_series_does_not_offer_is_refused_with_a_message(client, specialist, study):
    _record, (_ct, mr) = study
    client.force_login(specialist)
    response = client.post(
        reverse("imaging:preset", args=[mr.uuid]), {"preset": "lung"}, follow=True
    )
    assert "not available for this series" in response.content.decode()
    assert not FrameSet.objects.filter(series=mr, preset="lung").exists()
    answer = client.post(
        reverse("imaging:preset", args=[mr.uuid]),
        {"preset": "lung"},
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 404 and "not available" in answer.json()["message"]


# --- While it is being prepared --------------------------------------------------------------
def test_while_rendering_it_shows_what_is_ready_and_says_so(client, specialist, study):
    _record, (ct, _mr) = study
    render(ct, Preset.STORED, ready=4)
    html = get(client, specialist, viewer_url(ct, i=9)).content.decode()
    assert "Images are being prepared: 4 of 12 ready" in html
    assert "Image 4 of 12" in html  # as far as is ready
    assert frame_url(ct, index=3) in html
    state = client.get(reverse("imaging:state", args=[ct.uuid])).json()
    assert state["presets"]["stored"]["ready"]["1024"] == 4


def test_with_nothing_ready_yet_it_says_the_first_images_are_coming(client, specialist, study):
    _record, (ct, _mr) = study
    FrameSet.objects.filter(series=ct).update(ready_count=0, state="pending")
    response = get(client, specialist, viewer_url(ct))
    assert response.status_code == 200
    assert "The first images are being prepared" in response.content.decode()


# --- Your scans ----------------------------------------------------------------------------------
def test_your_scans_lists_the_patients_series_with_a_plain_sentence(client, patient, case, study):
    _record, (ct, mr) = study
    html = get(client, patient, reverse("imaging:scans", args=[case.uuid])).content.decode()
    assert "These are the pictures from your scans" in html
    assert viewer_url(ct) in html and viewer_url(mr) in html
    assert frame_url(ct, index=6, size=512) in html  # the middle image as its picture
    assert "12 images" in html and "4 images" in html


def test_your_scans_leaves_out_a_study_waiting_for_the_patients_answer(
    client, patient, case, study
):
    record, (ct, _mr) = study
    record.identity = "asked"
    record.save(update_fields=["identity"])
    html = get(client, patient, reverse("imaging:scans", args=[case.uuid])).content.decode()
    assert viewer_url(ct) not in html


def test_your_scans_says_when_there_are_none(client, patient, case):
    html = get(client, patient, reverse("imaging:scans", args=[case.uuid])).content.decode()
    assert "You have no scans here yet" in html


@pytest.mark.parametrize("who", ["outsider", "coordinator", "specialist"])
def test_your_scans_is_the_patients_own(client, request, case, study, who):
    response = get(client, request.getfixturevalue(who), reverse("imaging:scans", args=[case.uuid]))
    assert response.status_code == 404


def test_a_series_that_could_not_be_prepared_says_why(client, specialist, study):
    _record, (ct, _mr) = study
    FrameSet.objects.filter(series=ct).update(ready_count=0, state="failed", reason="damaged")
    html = get(client, specialist, viewer_url(ct)).content.decode()
    assert "These images could not be prepared for viewing here." in html
    assert "missing or damaged" in html
    assert "The first images are being prepared" not in html
