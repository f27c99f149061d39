"""The concordance page: coded opinions of released reports, by specialty and
month, with counts and percentages (none under 11, none that can be worked out),
beside the published figures; CSV."""

import csv
import datetime
import io
import re

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
        delivered_case(
            owner=patient,
            specialist=specialist,
            delivered_at=at(3),
            diagnosis_opinion="agrees",
            treatment_opinion="agrees",
        ),
        delivered_case(
            owner=patient,
            specialist=specialist,
            delivered_at=at(3),
            diagnosis_opinion="agrees",
            treatment_opinion="agrees",
        ),
        delivered_case(
            owner=patient,
            specialist=specialist,
            delivered_at=at(10),
            diagnosis_opinion="refined",
            treatment_opinion="changes",
        ),
        delivered_case(
            owner=patient,
            specialist=specialist,
            delivered_at=at(40),
            diagnosis_opinion="different",
            treatment_opinion="alternative",
        ),
        delivered_case(
            owner=patient,
            specialist=specialist,
            delivered_at=at(3),
            specialty=cardiology,
            diagnosis_opinion="undetermined",
            treatment_opinion="agrees",
        ),
    ]
    return made


def cells(row):
    return {opinion: (n, percent) for opinion, n, percent in row.diagnosis_cells()}


def test_it_counts_each_opinion_by_specialty(reports):
    rows, total = selectors.concordance()
    assert [(r.specialty, r.total) for r in rows] == [("Medical Oncology", 4), ("Cardiology", 1)]
    oncology = cells(rows[0])
    assert oncology == {
        "agrees": (2, 50.0),
        "refined": (1, 25.0),
        "different": (1, 25.0),
        "undetermined": (0, 0.0),
    }
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
    release_report(
        case=old, author=specialist, diagnosis_opinion="refined", treatment_opinion="agrees"
    )
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


@pytest.fixture
def many(patient, specialist):
    """42 reports. Oncology (29): diagnosis 14 agree, 12 refined, 3 different;
    treatment 14 agree, 12 changes, 3 alternative. Cardiology (13): 12 agree and
    1 cannot determine; treatment 13 agree."""
    cardiology = Specialty.objects.get(slug="cardiology")
    made = []
    for n, diagnosis, treatment, specialty in (
        (14, "agrees", "agrees", None),
        (12, "refined", "changes", None),
        (3, "different", "alternative", None),
        (12, "agrees", "agrees", cardiology),
        (1, "undetermined", "agrees", cardiology),
    ):
        extra = {"specialty": specialty} if specialty else {}
        made += [
            delivered_case(
                owner=patient,
                specialist=specialist,
                delivered_at=at(3),
                diagnosis_opinion=diagnosis,
                treatment_opinion=treatment,
                **extra,
            )
            for _ in range(n)
        ]
    return made


SHOWN_COUNT = re.compile(r'<td class="num">(?:<strong>)?(\d+)')


def our_tables(html: str) -> str:
    """The page up to the published studies' figures (theirs, not ours)."""
    return html.split('id="published-title"')[0]


def test_fewer_than_11_reports_show_no_figures(client, reports, coordinator):
    client.force_login(coordinator)
    html = client.get(URL).content.decode()
    assert "Fewer than 11 reports were released in this period" in html
    assert "Medical Oncology" not in our_tables(html)
    assert not SHOWN_COUNT.findall(our_tables(html))
    rows = list(csv.reader(io.StringIO(client.get(URL, {"format": "csv"}).content.decode())))
    assert rows == [["reports"], ["fewer than 11"]]


def test_the_page_hides_every_count_under_11_and_shows_the_published_figures(
    client, many, coordinator
):
    client.force_login(coordinator)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Medical Oncology" in html and "Cardiology" in html
    assert "42 reports released so far." in html
    counts = [int(n) for n in SHOWN_COUNT.findall(our_tables(html))]
    assert counts and all(n == 0 or n >= 11 for n in counts)
    assert "fewer than 11" in html and "hidden" in html
    assert '14 <span class="percent">(48.3%)</span>' in html  # oncology agrees: 14 of 29
    assert "Van Such et al. 2017, Mayo Clinic, 286 patients" in html
    assert "66%" in html and "14.8%" in html and "37.4%" in html
    # No PHI: no patient, no reference, no diagnosis in words.
    assert not [case for case in many if case.reference in html]
    assert "Pat Patient" not in html and "Early-stage breast cancer" not in html


def test_the_csv_hides_what_the_page_hides(client, many, coordinator):
    client.force_login(coordinator)
    response = client.get(URL, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[0]
    assert header[:4] == ["specialty", "reports", "diagnosis_agrees", "diagnosis_agrees_percent"]
    by_specialty = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_specialty["Medical Oncology"]["reports"] == "29"
    assert by_specialty["Medical Oncology"]["diagnosis_different"] == "fewer than 11"
    assert by_specialty["Medical Oncology"]["diagnosis_different_percent"] == ""
    assert by_specialty["Cardiology"]["diagnosis_undetermined"] == "fewer than 11"
    numbers = [
        int(v)
        for row in rows[1:]
        for k, v in zip(header, row, strict=True)
        if v.isdigit() and not k.endswith("percent")
    ]
    assert all(n == 0 or n >= 11 for n in numbers)
    body = response.content.decode()
    assert all(case.reference not in body for case in many) and "Pat" not in body


def test_the_period_is_whole_calendar_months(client, coordinator):
    client.force_login(coordinator)
    assert client.get(URL, {"start": "2026-01", "end": "November 2026"}).status_code == 200
    bad = client.get(URL, {"start": "2026-13"})
    assert bad.status_code == 400
    assert "Enter a month like 2026-11 or November 2026." in bad.content.decode()
    backwards = client.get(URL, {"start": "2026-03", "end": "2026-02"})
    assert backwards.status_code == 400
    assert "The first month must be on or before the last month." in backwards.content.decode()
    # A day is not a period any more: a date is refused, not silently used.
    assert client.get(URL, {"start": "2026-03-02"}).status_code == 400


def test_a_month_counts_from_its_first_to_its_last_day(reports):
    from requests_app.aftercare.forms import ConcordanceFilterForm

    form = ConcordanceFilterForm({"start": "2026-02", "end": "2026-02"})
    assert form.is_valid()
    assert (form.cleaned_data["start"], form.cleaned_data["end"]) == (
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
    )


@pytest.mark.parametrize("year", ["9999", "0001", "1899"])
def test_a_year_out_of_range_is_the_forms_error(client, coordinator, year):
    client.force_login(coordinator)
    response = client.get(URL, {"end": f"{year}-12"})
    assert response.status_code == 400
    assert "Enter a year from 2000 to 2100." in response.content.decode()
    response = client.get(URL, {"start": f"{year}-12", "format": "csv"})
    assert response.status_code == 400


def test_coordinators_and_admins_only(client, patient, specialist, admin_user):
    client.force_login(admin_user)
    assert client.get(URL).status_code == 200  # counts only: see the view's comment
    for person in (patient, specialist):
        client.force_login(person)
        assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302
