"""The ABMS board certifications: the data file, what migration 0004 loads from
it, the selectors matching reads and the admin."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from requests_app.icd10.ranges import parse_icd10_ranges
from specialists.models import (
    Board,
    Certification,
    CertificationKind,
    Specialty,
)
from specialists.selectors import certifications_for_specialty, certifications_treating
from specialists.services import certifications_data, certifications_load
from specialists.specialties import ALL_SPECIALTIES

pytestmark = pytest.mark.django_db

ABMS_BOARDS = {
    "Allergy and Immunology",
    "Anesthesiology",
    "Colon and Rectal Surgery",
    "Dermatology",
    "Emergency Medicine",
    "Family Medicine",
    "Internal Medicine",
    "Medical Genetics and Genomics",
    "Neurological Surgery",
    "Nuclear Medicine",
    "Obstetrics and Gynecology",
    "Ophthalmology",
    "Orthopaedic Surgery",
    "Otolaryngology\N{EN DASH}Head and Neck Surgery",
    "Pathology",
    "Pediatrics",
    "Physical Medicine and Rehabilitation",
    "Plastic Surgery",
    "Preventive Medicine",
    "Psychiatry and Neurology",
    "Radiology",
    "Surgery",
    "Thoracic Surgery",
    "Urology",
}


def certification(slug: str) -> Certification:
    return Certification.objects.select_related("board", "parent").get(slug=slug)


# The data the migration loaded


def test_it_loads_the_24_abms_member_boards():
    assert {board.short_name for board in Board.objects.all()} == ABMS_BOARDS
    assert Board.objects.count() == 24


def test_it_loads_every_certification_in_the_file():
    in_file = [
        row["slug"] for board in certifications_data()["boards"] for row in board["certifications"]
    ]
    assert len(in_file) == len(set(in_file)), "a slug is used twice"
    assert set(Certification.objects.values_list("slug", flat=True)) == set(in_file)
    assert len(in_file) > 150


def test_it_gives_every_board_a_primary_specialty():
    for board in Board.objects.all():
        assert board.certifications.filter(kind=CertificationKind.SPECIALTY).exists(), board


@pytest.mark.parametrize(
    ("name", "board", "kind"),
    [
        ("Medical Oncology", "Internal Medicine", "subspecialty"),
        ("Cardiovascular Disease", "Internal Medicine", "subspecialty"),
        ("Neuroradiology", "Radiology", "subspecialty"),
        ("Radiation Oncology", "Radiology", "specialty"),
        # The ABPN issues Child Neurology as a primary certificate, beside Neurology.
        ("Child Neurology", "Psychiatry and Neurology", "specialty"),
        ("Epilepsy", "Psychiatry and Neurology", "subspecialty"),
        ("Complex General Surgical Oncology", "Surgery", "subspecialty"),
        ("Vascular Surgery", "Surgery", "specialty"),
        ("Gynecologic Oncology", "Obstetrics and Gynecology", "subspecialty"),
        ("Pediatric Hematology-Oncology", "Pediatrics", "subspecialty"),
        ("Congenital Cardiac Surgery", "Thoracic Surgery", "subspecialty"),
    ],
)
def test_it_files_well_known_certificates_under_their_board(name, board, kind):
    found = Certification.objects.get(name=name, board__name=f"American Board of {board}")
    assert found.kind == kind


def test_it_lists_a_certificate_that_several_boards_issue_once_per_board():
    hand = Certification.objects.filter(name="Surgery of the Hand")
    assert {each.board.short_name for each in hand} == {
        "Orthopaedic Surgery",
        "Plastic Surgery",
        "Surgery",
    }
    assert {str(each) for each in hand} == {
        "Surgery of the Hand (Orthopaedic Surgery)",
        "Surgery of the Hand (Plastic Surgery)",
        "Surgery of the Hand (Surgery)",
    }


def test_a_subspecialty_builds_only_on_a_primary_specialty_of_its_own_board():
    medical_oncology = certification("abim-medical-oncology")
    assert medical_oncology.parent == certification("abim-internal-medicine")
    for each in Certification.objects.filter(parent__isnull=False).select_related("parent"):
        assert each.kind == CertificationKind.SUBSPECIALTY, each
        assert each.parent.kind == CertificationKind.SPECIALTY, each
        assert each.parent.board_id == each.board_id, each


def test_a_slug_starts_with_its_board():
    for each in Certification.objects.select_related("board"):
        assert each.slug.startswith(f"{each.board.slug}-"), each.slug


def test_every_range_in_the_file_reads():
    for board in certifications_data()["boards"]:
        for row in board["certifications"]:
            parse_icd10_ranges(", ".join(row["icd10"]))


def test_a_medical_physicist_s_certificate_is_not_offered():
    physics = Certification.objects.filter(name__endswith="Medical Physics")
    assert physics.count() == 3
    assert not physics.filter(active=True).exists()


# The patient-facing specialties


def test_every_patient_facing_specialty_maps_to_an_offered_certification():
    mapping = certifications_data()["specialties"]
    assert set(mapping) == {slug for slug, _name, _description in ALL_SPECIALTIES}
    for specialty in Specialty.objects.all():
        assert certifications_for_specialty(specialty=specialty).exists(), specialty


def test_cardiology_means_the_cardiology_certificates():
    cardiology = Specialty.objects.get(slug="cardiology")
    slugs = set(certifications_for_specialty(specialty=cardiology).values_list("slug", flat=True))
    assert {
        "abim-cardiovascular-disease",
        "abim-interventional-cardiology",
        "abim-clinical-cardiac-electrophysiology",
        "abim-advanced-heart-failure-and-transplant-cardiology",
    } <= slugs
    assert "abim-medical-oncology" not in slugs


def test_medical_oncology_leaves_hematology_to_the_hematology_choice():
    oncology = certifications_for_specialty(specialty=Specialty.objects.get(slug="oncology"))
    hematology = certifications_for_specialty(specialty=Specialty.objects.get(slug="hematology"))
    assert "abim-medical-oncology" in {each.slug for each in oncology}
    assert "abim-hematology" not in {each.slug for each in oncology}
    assert "abim-hematology" in {each.slug for each in hematology}


def test_a_certification_no_longer_offered_leaves_the_specialty_list():
    cardiology = Specialty.objects.get(slug="cardiology")
    Certification.objects.filter(slug="abim-interventional-cardiology").update(active=False)
    slugs = {each.slug for each in certifications_for_specialty(specialty=cardiology)}
    assert "abim-interventional-cardiology" not in slugs
    assert "abim-cardiovascular-disease" in slugs


# Loading again


def test_loading_again_changes_nothing_and_keeps_the_admin_s_edits():
    oncology = certification("abim-medical-oncology")
    oncology.icd10_ranges = "C00-C96"
    oncology.active = False
    oncology.save()
    cardiology = Specialty.objects.get(slug="cardiology")
    cardiology.certifications.remove(certification("abp-pediatric-cardiology"))
    counts = (
        Board.objects.count(),
        Certification.objects.count(),
        Specialty.certifications.through.objects.count(),
    )

    certifications_load()

    assert (
        Board.objects.count(),
        Certification.objects.count(),
        Specialty.certifications.through.objects.count(),
    ) == counts
    oncology.refresh_from_db()
    assert (oncology.icd10_ranges, oncology.active) == ("C00-C96", False)
    assert not cardiology.certifications.filter(slug="abp-pediatric-cardiology").exists()


def test_loading_into_empty_tables_links_the_specialties():
    Specialty.certifications.through.objects.all().delete()
    Certification.objects.filter(parent__isnull=False).delete()
    Certification.objects.all().delete()
    Board.objects.all().delete()

    certifications_load()

    assert Board.objects.count() == 24
    assert certification("abim-medical-oncology").treats("C50.911")
    assert (
        Specialty.objects.get(slug="oncology")
        .certifications.filter(slug="abim-medical-oncology")
        .exists()
    )


# Certifications treating a code


def test_breast_cancer_is_treated_by_medical_oncology_not_cardiology():
    slugs = {each.slug for each in certifications_treating(icd10_code="C50.911")}
    assert {
        "abim-medical-oncology",
        "abr-radiation-oncology",
        "abs-general-surgery",
        "abs-complex-general-surgical-oncology",
    } <= slugs
    assert "abim-cardiovascular-disease" not in slugs
    assert "abim-hematology" not in slugs


def test_heart_failure_is_treated_by_cardiology():
    slugs = {each.slug for each in certifications_treating(icd10_code="I50.22")}
    assert {
        "abim-cardiovascular-disease",
        "abim-advanced-heart-failure-and-transplant-cardiology",
    } <= slugs
    assert "abim-medical-oncology" not in slugs


def test_a_certification_no_longer_offered_treats_nothing():
    Certification.objects.filter(slug="abim-medical-oncology").update(active=False)
    slugs = {each.slug for each in certifications_treating(icd10_code="C50.911")}
    assert "abim-medical-oncology" not in slugs


def test_a_string_that_is_not_a_code_is_treated_by_nobody():
    assert certifications_treating(icd10_code="breast cancer") == []


def test_it_reads_the_certifications_in_one_query():
    with CaptureQueriesContext(connection) as queries:
        found = certifications_treating(icd10_code="C50.911")
        [str(each) for each in found]
    assert len(queries.captured_queries) == 1


# What the database and the model refuse


def test_a_primary_specialty_builds_on_nothing():
    surgery = certification("abs-general-surgery")
    with pytest.raises(IntegrityError), transaction.atomic():
        Certification.objects.filter(slug="abs-vascular-surgery").update(parent=surgery)


def test_a_board_names_a_certificate_once():
    internal_medicine = certification("abim-internal-medicine")
    with pytest.raises(IntegrityError), transaction.atomic():
        Certification.objects.create(
            board=internal_medicine.board,
            name="Medical Oncology",
            slug="abim-medical-oncology-2",
            kind="subspecialty",
        )


def test_a_subspecialty_cannot_build_on_another_board_s_specialty():
    oncology = certification("abim-medical-oncology")
    oncology.parent = certification("abp-pediatrics")
    with pytest.raises(ValidationError) as refused:
        oncology.full_clean()
    assert "parent" in refused.value.message_dict


# The admin


def test_it_lists_the_certifications_for_an_admin(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:specialists_certification_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Medical Oncology" in html
    assert "C00-D49" in html
    # 100 rows, each naming its board and what it builds on, without a query per row.
    assert len(queries.captured_queries) <= 10


def test_it_filters_by_board_and_kind(client, admin_user):
    client.force_login(admin_user)
    radiology = Board.objects.get(slug="abr")
    response = client.get(
        reverse("admin:specialists_certification_changelist"),
        {"board__id__exact": radiology.pk, "kind__exact": "subspecialty"},
    )
    assert response.status_code == 200
    shown = {each.slug for each in response.context["cl"].result_list}
    assert "abr-neuroradiology" in shown
    assert "abr-diagnostic-radiology" not in shown
    assert "abim-medical-oncology" not in shown


def test_it_searches_the_certifications(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:specialists_certification_changelist"), {"q": "hand"})
    assert response.status_code == 200
    assert response.content.decode().count("Surgery of the Hand") >= 3


def test_it_explains_the_range_syntax_and_refuses_a_range_it_cannot_read(client, admin_user):
    client.force_login(admin_user)
    oncology = certification("abim-medical-oncology")
    url = reverse("admin:specialists_certification_change", args=[oncology.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "D49.9 is in, D50 is not" in response.content.decode()

    response = client.post(
        url,
        {
            "board": oncology.board_id,
            "name": oncology.name,
            "slug": oncology.slug,
            "kind": oncology.kind,
            "parent": oncology.parent_id,
            "icd10_ranges": "C00-D49, D49-C00",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "Not a code or a range of codes: D49-C00" in response.content.decode()
    oncology.refresh_from_db()
    assert oncology.icd10_ranges == "C00-D49"


def test_an_admin_edits_the_ranges(client, admin_user):
    client.force_login(admin_user)
    oncology = certification("abim-medical-oncology")
    response = client.post(
        reverse("admin:specialists_certification_change", args=[oncology.pk]),
        {
            "board": oncology.board_id,
            "name": oncology.name,
            "slug": oncology.slug,
            "kind": oncology.kind,
            "parent": oncology.parent_id,
            "icd10_ranges": "C00-C96, D37-D49",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert not certification("abim-medical-oncology").treats("D10.0")


def test_an_admin_adds_a_certification(client, admin_user):
    client.force_login(admin_user)
    internal_medicine = certification("abim-internal-medicine")
    response = client.post(
        reverse("admin:specialists_certification_add"),
        {
            "board": internal_medicine.board_id,
            "name": "Hospital Medicine",
            "slug": "abim-hospital-medicine",
            "kind": "subspecialty",
            "parent": internal_medicine.pk,
            "icd10_ranges": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    added = certification("abim-hospital-medicine")
    assert added.parent == internal_medicine
    assert certifications_treating(icd10_code="C50.911")  # an empty list treats nothing


def test_an_admin_cannot_give_a_primary_specialty_a_parent(client, admin_user):
    client.force_login(admin_user)
    vascular = certification("abs-vascular-surgery")
    response = client.post(
        reverse("admin:specialists_certification_change", args=[vascular.pk]),
        {
            "board": vascular.board_id,
            "name": vascular.name,
            "slug": vascular.slug,
            "kind": vascular.kind,
            "parent": certification("abs-general-surgery").pk,
            "icd10_ranges": vascular.icd10_ranges,
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "Only a subspecialty builds on another certificate." in response.content.decode()
    assert certification("abs-vascular-surgery").parent is None


def test_the_specialty_form_offers_the_certifications(client, admin_user):
    client.force_login(admin_user)
    cardiology = Specialty.objects.get(slug="cardiology")
    url = reverse("admin:specialists_specialty_change", args=[cardiology.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cardiovascular Disease (Internal Medicine)" in html
    assert "selectfilter" in html
    assert len(queries.captured_queries) <= 10


def test_it_lists_the_boards(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:specialists_board_changelist"))
    assert response.status_code == 200
    assert "American Board of Internal Medicine" in response.content.decode()


def test_it_keeps_the_codes_and_deletes_nothing(client, admin_user):
    client.force_login(admin_user)
    oncology = certification("abim-medical-oncology")
    response = client.post(
        reverse("admin:specialists_certification_change", args=[oncology.pk]),
        {
            "board": oncology.board_id,
            "name": oncology.name,
            "slug": "renamed",
            "kind": oncology.kind,
            "parent": oncology.parent_id,
            "icd10_ranges": "C00-D49",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert Certification.objects.filter(slug="abim-medical-oncology").exists()
    for name, pk in [
        ("admin:specialists_certification_delete", oncology.pk),
        ("admin:specialists_board_delete", oncology.board_id),
    ]:
        assert client.post(reverse(name, args=[pk]), {"post": "yes"}).status_code == 403
    assert Certification.objects.filter(pk=oncology.pk).exists()


def test_other_staff_do_not_find_it(client, coordinator):
    client.force_login(coordinator)
    for name in (
        "admin:specialists_certification_changelist",
        "admin:specialists_board_changelist",
    ):
        assert client.get(reverse(name)).status_code == 404
