"""Who may read a case, and the access log every staff read writes."""

import re

import pytest
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone

from requests_app import access, selectors
from secondop.audit.models import AccessLog, AuditEvent
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _views_of(case):
    return AccessLog.objects.filter(object_type="requests_app.case", object_id=str(case.pk))


def test_a_specialist_sees_no_case_until_one_is_assigned_to_them(patient, specialist):
    CaseFactory(owner=patient, submitted=True)
    assert not access.case_list(viewer=specialist).exists()
    mine = CaseFactory(owner=patient, submitted=True, specialist=specialist)
    assert list(access.case_list(viewer=specialist)) == [mine]


def test_coordinators_see_sent_requests_but_never_drafts(patient, coordinator):
    draft = CaseFactory(owner=patient, complete=True)
    sent = CaseFactory(owner=patient, submitted=True)
    assert list(access.case_list(viewer=coordinator)) == [sent]
    assert draft not in access.case_list(viewer=coordinator)


def test_administrators_see_no_case(patient, admin_user):
    CaseFactory(owner=patient, submitted=True)
    assert not access.case_list(viewer=admin_user).exists()


def test_the_staff_case_page_shows_every_answer_and_logs_the_read(client, patient, coordinator):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(coordinator)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Early-stage breast cancer" in html and "Whether I really need surgery" in html
    row = _views_of(case).get()
    assert (row.actor, row.kind) == (coordinator, AccessLog.Kind.VIEW)
    assert row.path == reverse("requests_app:staff_case", args=[case.uuid])


def test_the_assigned_specialist_reads_the_case_and_is_logged(client, patient, specialist):
    case = CaseFactory(owner=patient, submitted=True, status="in_review", specialist=specialist)
    client.force_login(specialist)
    assert client.get(reverse("requests_app:staff_case", args=[case.uuid])).status_code == 200
    assert _views_of(case).get().actor == specialist


@pytest.mark.parametrize("who", ["specialist", "admin_user", "outsider"])
def test_anyone_else_gets_404_and_reads_nothing(client, request, patient, who):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("requests_app:staff_case", args=[case.uuid]))
    assert response.status_code == 404
    assert "breast" not in response.content.decode()
    assert not _views_of(case).exists()


def test_a_patient_reading_their_own_case_is_not_logged(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    assert client.get(reverse("requests_app:case_detail", args=[case.uuid])).status_code == 200
    assert not AccessLog.objects.exists()


def test_the_coordinators_list_with_names_is_one_logged_read(client, patient, coordinator):
    cases = [CaseFactory(owner=patient, submitted=True) for _ in range(3)]
    client.force_login(coordinator)
    html = client.get(reverse("requests_app:coordinator_home")).content.decode()
    assert patient.full_name in html
    row = AccessLog.objects.get()
    assert row.kind == AccessLog.Kind.LIST and row.actor == coordinator
    assert sorted(row.listed) == sorted(c.reference for c in cases)


def test_an_empty_list_shows_nobody_and_logs_nothing(client, coordinator):
    client.force_login(coordinator)
    client.get(reverse("requests_app:coordinator_home"))
    assert not AccessLog.objects.exists()


def test_the_patient_sees_who_on_the_care_team_has_looked(client, patient, coordinator, specialist):
    case = CaseFactory(owner=patient, submitted=True, specialist=specialist)
    page = reverse("requests_app:staff_case", args=[case.uuid])
    client.force_login(coordinator)
    client.get(page)
    client.get(page)
    client.force_login(specialist)
    client.get(page)
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    section = html[html.index("Who on the care team has looked") :]
    assert coordinator.full_name in section and "Coordinator" in section
    assert specialist.full_name in section and "Specialist" in section
    rows = selectors.case_care_team_views(case=case)
    assert [(r["actor__full_name"], r["times"]) for r in rows] == [
        (specialist.full_name, 1),
        (coordinator.full_name, 2),
    ]


def test_nobody_has_looked_yet_says_so(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "No one on the care team has opened your request yet" in html


# --- Identifiers ------------------------------------------------------------------------
def test_no_integer_id_or_reference_appears_in_any_case_link(client, patient, coordinator):
    drafts = [CaseFactory(owner=patient, complete=True)]
    sent = [CaseFactory(owner=patient, submitted=True) for _ in range(3)]
    pages = [reverse("requests_app:dashboard")]
    for case in drafts + sent:
        pages += [reverse("requests_app:case_detail", args=[case.uuid])]
    pages += [
        reverse("requests_app:case_check", args=[drafts[0].uuid]),
        reverse("requests_app:case_withdraw", args=[sent[0].uuid]),
    ]
    client.force_login(patient)
    links = []
    for page in pages:
        links += re.findall(
            r'(?:href|action)="(/requests/[^"]*)"', client.get(page).content.decode()
        )
    client.force_login(coordinator)
    html = client.get(reverse("requests_app:coordinator_home")).content.decode()
    links += re.findall(r'href="(/requests/[^"]*)"', html)
    case_links = [link for link in links if link.count("/") > 3 or "care/" in link]
    assert case_links, "the pages link to cases"
    uuid = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/")
    for link in case_links:
        segments = [s for s in uuid.sub("/UUID/", link).split("/") if s]
        assert not any(s.isdigit() for s in segments), link
        assert not any(s.startswith("SO-") for s in segments), link
        if link not in ("/requests/start/", "/requests/coordinator/", "/requests/icd10/search/"):
            assert uuid.search(link), link


def test_an_integer_id_in_a_case_url_is_404(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    assert client.get(f"/requests/{case.pk}/").status_code == 404
    assert client.get(f"/requests/{case.reference}/").status_code == 404


# --- The Django admin -------------------------------------------------------------------
def test_the_case_admin_shows_no_answers_and_cannot_delete(client, patient, admin_user):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(admin_user)
    for name, args in [
        ("admin:requests_app_case_changelist", []),
        ("admin:requests_app_case_change", [case.pk]),
    ]:
        response = client.get(reverse(name, args=args))
        html = response.content.decode()
        assert response.status_code == 200 and case.reference in html
        for answer in ("breast", "1970", "Mastectomy", "212 555 0123", patient.full_name):
            assert answer not in html, (name, answer)
    response = client.post(
        reverse("admin:requests_app_case_delete", args=[case.pk]), {"post": "yes"}
    )
    assert response.status_code in (403, 404)
    assert type(case).objects.filter(pk=case.pk).exists()


def test_the_user_admin_cannot_delete_add_or_set_a_password(client, patient, admin_user):
    client.force_login(admin_user)
    for name, args in [
        ("admin:accounts_user_delete", [patient.pk]),
        ("admin:accounts_user_add", []),
    ]:
        response = client.post(reverse(name, args=args), {"post": "yes"})
        assert response.status_code in (403, 404), name
    response = client.post(
        reverse("admin:auth_user_password_change", args=[patient.pk]),
        {"password1": "x" * 20, "password2": "x" * 20},
    )
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.check_password("correct-horse-battery-staple")
    assert patient.is_active


def test_role_changes_and_deactivation_in_the_admin_are_audited(client, specialist, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[specialist.pk])
    client.post(url, {"role": "coordinator", "is_active": "on"})
    specialist.refresh_from_db()
    assert specialist.role == "coordinator"
    event = AuditEvent.objects.get(action="accounts.user.role_changed")
    assert (event.actor, event.old_values, event.new_values) == (
        admin_user,
        {"role": "specialist"},
        {"role": "coordinator"},
    )
    client.post(url, {"role": "coordinator"})  # the box unticked
    specialist.refresh_from_db()
    assert not specialist.is_active
    assert AuditEvent.objects.filter(action="accounts.user.deactivated").exists()


def test_a_patient_cannot_be_made_staff(client, patient, admin_user):
    client.force_login(admin_user)
    client.post(
        reverse("admin:accounts_user_change", args=[patient.pk]),
        {"role": "coordinator", "is_active": "on"},
    )
    patient.refresh_from_db()
    assert patient.role == "patient"
    assert not AuditEvent.objects.filter(action="accounts.user.role_changed").exists()


def test_case_relation_names_what_each_person_is_to_the_case(
    patient, coordinator, specialist, outsider
):
    from tests.accounts.factories import UserFactory

    other_coordinator = UserFactory(role="coordinator")
    case = CaseFactory(owner=patient, submitted=True, case_manager=coordinator)
    assert access.case_relation(patient, case) == access.Relation.OWNER
    assert access.case_relation(coordinator, case) == access.Relation.CASE_MANAGER
    assert access.case_relation(other_coordinator, case) == access.Relation.OTHER_COORDINATOR
    assert access.case_relation(specialist, case) == access.Relation.NONE
    assert access.case_relation(outsider, case) == access.Relation.NONE
    case.specialist = specialist
    assert access.case_relation(specialist, case) == access.Relation.ASSIGNED_SPECIALIST
    assert {r for r in access.Relation if r in access.CARE_TEAM} == {
        access.Relation.OWNER,
        access.Relation.CASE_MANAGER,
        access.Relation.ASSIGNED_SPECIALIST,
    }


def test_the_care_teams_predicates_name_one_member_each(patient, coordinator, specialist):
    case = CaseFactory(
        owner=patient, submitted=True, case_manager=coordinator, specialist=specialist
    )
    people = (patient, coordinator, specialist)
    assert [access.is_owner(p, case) for p in people] == [True, False, False]
    assert [access.is_case_manager(p, case) for p in people] == [False, True, False]
    assert [access.is_assigned_specialist(p, case) for p in people] == [False, False, True]


def test_for_viewer_hides_from_outsiders_refuses_insiders_without_the_right_and_logs(
    patient, coordinator, outsider
):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from requests_app.messaging.models import Message

    case = CaseFactory(owner=patient, submitted=True, case_manager=coordinator)
    message = Message.objects.create(case=case, author=patient, body="Hello")
    with pytest.raises(Http404):
        access.for_viewer(Message, message.uuid, outsider)
    with pytest.raises(Http404):
        access.for_viewer(Message, "not-a-uuid", coordinator)
    with pytest.raises(PermissionDenied):
        access.for_viewer(Message, message.uuid, patient, needs={access.Relation.CASE_MANAGER})
    before = AccessLog.objects.count()
    found = access.for_viewer(Message, message.uuid, coordinator)
    assert found == message and found.case == case
    # The case's read and the object's: the loader writes them, not the view.
    assert AccessLog.objects.count() == before + 2


def test_a_patient_case_page_is_the_owners_alone_shown_in_their_states_zone(
    rf, patient, outsider, coordinator
):
    case = CaseFactory(owner=patient, submitted=True, patient_state="CA")
    zones = []

    @access.patient_case_page
    def page(request, case):
        zones.append(timezone.get_current_timezone_name())
        return HttpResponse(case.reference)

    request = rf.get("/")
    try:
        request.user = patient
        assert page(request, ref=case.uuid).content.decode() == case.reference
        assert zones == ["America/Los_Angeles"]
        for other in (outsider, coordinator):  # the coordinator sees the case, elsewhere
            request.user = other
            with pytest.raises(Http404):
                page(request, ref=case.uuid)
        assert len(zones) == 1
    finally:
        timezone.deactivate()
