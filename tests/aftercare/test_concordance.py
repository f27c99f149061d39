"""The concordance page: coded opinions of released reports, by specialty and
period, with counts and percentages, beside the published figures; CSV."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from requests_app.aftercare import selectors
from specialists.models import Specialty
from tests.aftercare.factories import delivered_case, release_report

pytestmark = pytest.mark.django_db

URL = "/aftercare/concordance/"


def at(days_ago: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days_ago)


@pytest.fixture
def reports(patient, specialist):
    """Oncology: 2 agree, 1 refined, 1 different; cardiology: 1 cannot determine.
    Treatment: 3 agree, 1 changes, 1 alternative."""
    cardiology = Specialty.objects.get(slug="cardiology")
    made = [
        delivered_case(owner=patient, specialist=specialist, delivered_at=at(3),
                       diagnosis_opinion="agrees", treatment_opinion="agrees"),
        delivered_case(owner=patient, specialist=specialist, delivered_at=at(3),
                       diagnosis_opinion="agrees", treatment_opinion="agrees"),
        delivered_case(owner=patient, specialist=specialist, delivered_at=at(10),
                       diagnosis_opinion="refined", treatment_opinion="changes"),
        delivered_case(owner=patient, specialist=specialist, delivered_at=at(40),
                       diagnosis_opinion="different", treatment_opinion="alternative"),
        delivered_case(owner=patient, specialist=specialist, delivered_at=at(3),
                       specialty=cardiology, diagnosis_opinion="undetermined",
                       treatment_opinion="agrees"),
    ]
    return made


def cells(row):
    return {opinion: (n, percent) for opinion, n, percent in row.diagnosis_cells()}


def test_it_counts_each_opinion_by_specialty(reports):
    rows, total = selectors.concordance()
    assert [(r.specialty, r.total) for r in rows] == [("Medical Oncology", 4), ("Cardiology", 1)]
    oncology = cells(rows[0])
    assert oncology == {"agrees": (2, 50.0), "refined": (1, 25.0), "different": (1, 25.0),
                        "undetermined": (0, 0.0)}
    assert rows[0].treatment_changed == 2 and rows[0].treatment_changed_percent == 50.0
    assert total.total == 5 and cells(total)["undetermined"] == (1, 20.0)
    assert total.treatment_changed == 2 and total.treatment_changed_percent == 40.0


def test_the_period_is_the_first_release(reports, specialist):
    today = timezone.localdate()
    _rows, total = selectors.concordance(start=today - datetime.timedelta(days=14), end=today)
    assert total.total == 4  # the one released 40 days ago is out
    # An amendment released today keeps its report in the period of its first release,
    # and the report counts once, with the amended opinion.
    old = reports[3]
    release_report(case=old, author=specialist, diagnosis_opinion="refined",
                   treatment_opinion="agrees")
    _rows, total = selectors.concordance(start=today - datetime.timedelta(days=14), end=today)
    assert total.total == 4
    _rows, everything = selectors.concordance()
    assert everything.total == 5
    assert cells(everything)["different"] == (0, 0.0)
    assert cells(everything)["refined"] == (2, 40.0)


def test_no_reports_no_percentages(db):
    rows, total = selectors.concordance()
    assert rows == [] and total.total == 0
    assert all(percent is None for _o, _n, percent in total.diagnosis_cells())


def test_the_page_shows_counts_percentages_and_the_published_figures(client, reports,
                                                                      coordinator):
    client.force_login(coordinator)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Medical Oncology" in html and "Cardiology" in html
    assert "2 <span class=\"percent\">(50.0%)</span>" in html
    assert "Van Such et al. 2017, Mayo Clinic, 286 patients" in html
    assert "66%" in html and "14.8%" in html and "37.4%" in html
    # No PHI: no patient, no reference, no diagnosis in words.
    for case in reports:
        assert case.reference not in html
    assert "Pat Patient" not in html and "Early-stage breast cancer" not in html


def test_the_date_filter(client, reports, coordinator):
    client.force_login(coordinator)
    today = timezone.localdate()
    start = today - datetime.timedelta(days=5)
    response = client.get(URL, {"start_day": start.day, "start_month": start.month,
                                "start_year": start.year})
    assert response.status_code == 200
    assert "3 reports released from" in response.content.decode()
    bad = client.get(URL, {"start_day": "31", "start_month": "2", "start_year": "2026"})
    assert bad.status_code == 400


def test_the_first_day_must_come_first(client, coordinator):
    client.force_login(coordinator)
    response = client.get(URL, {"start_day": "2", "start_month": "3", "start_year": "2026",
                                "end_day": "1", "end_month": "3", "end_year": "2026"})
    assert response.status_code == 400
    assert "The first day must be on or before the last day." in response.content.decode()


@pytest.mark.parametrize("year", ["9999", "0001", "1899"])
def test_a_year_out_of_range_is_the_forms_error(client, coordinator, year):
    client.force_login(coordinator)
    response = client.get(URL, {"end_day": "31", "end_month": "12", "end_year": year})
    assert response.status_code == 400
    assert "Enter a year from 2000 to 2100." in response.content.decode()
    response = client.get(URL, {"start_day": "31", "start_month": "12", "start_year": year,
                                "format": "csv"})
    assert response.status_code == 400


def test_it_exports_csv_without_phi(client, reports, coordinator):
    client.force_login(coordinator)
    response = client.get(URL, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[0]
    assert header[:4] == ["specialty", "reports", "diagnosis_agrees", "diagnosis_agrees_percent"]
    by_specialty = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_specialty["Medical Oncology"]["reports"] == "4"
    assert by_specialty["Medical Oncology"]["diagnosis_different"] == "1"
    assert by_specialty["All specialties"]["treatment_changed_percent"] == "40.0"
    body = response.content.decode()
    assert all(case.reference not in body for case in reports) and "Pat" not in body


def test_coordinators_and_admins_only(client, patient, specialist, admin_user):
    client.force_login(admin_user)
    assert client.get(URL).status_code == 200  # counts only: see the view's comment
    for person in (patient, specialist):
        client.force_login(person)
        assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302
