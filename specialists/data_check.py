"""Read-only questions about the certification taxonomy, for tests and the admin."""

from .models import Certification


def certification_covering_nothing(*, exclude) -> str:
    """The slug of an active certification with no ICD-10-CM ranges that is not in
    `exclude`: a specialist holding only it fits a case through its specialty alone."""
    return (
        Certification.objects.filter(active=True, icd10_ranges="")
        .exclude(slug__in=exclude)
        .order_by("slug")
        .values_list("slug", flat=True)
        .first()
    )
