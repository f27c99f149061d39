import json
from pathlib import Path

from django.db import transaction

from .specialties import SPECIALTIES

CERTIFICATIONS_FILE = Path(__file__).resolve().parent / "data" / "abms_certifications.json"


def specialties_load(model=None) -> int:
    """Create or update the specialties list. The migration passes its historical model."""
    if model is None:
        from .models import Specialty as model
    for slug, name, description in SPECIALTIES:
        model.objects.update_or_create(slug=slug, defaults={"name": name, "description": description})
    return len(SPECIALTIES)


def certifications_data() -> dict:
    with CERTIFICATIONS_FILE.open(encoding="utf-8") as file:
        return json.load(file)


@transaction.atomic
def certifications_load(*, board_model=None, certification_model=None, specialty_model=None) -> int:
    """Create or update the boards and certifications from the data file, and
    link the specialties that exist to the certifications they mean. Migration
    0004 passes its historical models; tests that flush the tables call it bare.

    Running it again adds what is new and updates only what the file owns: a
    board's name, and a certification's board, name, kind and parent. A
    certification's ICD-10-CM ranges, whether it is offered and which
    specialties it is linked to are set when it is created and are the admin's
    after that, so a reload never undoes an edit made there."""
    if board_model is None:
        from .models import Board as board_model
        from .models import Certification as certification_model
        from .models import Specialty as specialty_model
    data = certifications_data()
    by_slug, created = {}, set()
    for board_row in data["boards"]:
        board, _ = board_model.objects.update_or_create(
            slug=board_row["slug"], defaults={"name": board_row["name"]}
        )
        # Primary specialties first, so that a subspecialty's parent exists when it is saved.
        rows = sorted(board_row["certifications"], key=lambda row: row["kind"] != "specialty")
        for row in rows:
            owned = {"board": board, "name": row["name"], "kind": row["kind"],
                     "parent": by_slug[row["parent"]] if row.get("parent") else None}
            certification, is_new = certification_model.objects.update_or_create(
                slug=row["slug"], defaults=owned,
                create_defaults={**owned, "icd10_ranges": ", ".join(row["icd10"]),
                                 "active": row.get("active", True)},
            )
            by_slug[row["slug"]] = certification
            if is_new:
                created.add(row["slug"])
    for specialty in specialty_model.objects.filter(slug__in=data["specialties"]):
        new_links = [by_slug[slug] for slug in data["specialties"][specialty.slug] if slug in created]
        specialty.certifications.add(*new_links)
    return len(by_slug)
