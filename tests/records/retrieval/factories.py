"""Sources at each step: listed, signed, sent (by fax, a given number of days ago)."""

import datetime

import factory
from django.utils import timezone

from records.retrieval import letter
from records.retrieval.models import Kind, RecordSource, SentBy


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecordSource

    class Params:
        signed = factory.Trait(
            letter_version=letter.VERSION,
            signed_name=factory.LazyAttribute(lambda o: o.case.patient_name),
            signed_at=factory.LazyFunction(timezone.now),
            signed_ip="127.0.0.1",
        )

    case = None
    added_by = factory.LazyAttribute(lambda o: o.case.owner)
    name = "Mercy Hospital"
    kind = Kind.DIAGNOSING_HOSPITAL
    email = "records@mercy.example"
    fax = "617 555 0100"
    wanted = factory.LazyFunction(lambda: ["pathology_report", "imaging_dicom", "visit_notes"])


def sent_source(*, case, days_ago: int = 0, by: str = SentBy.FAX, **kwargs) -> RecordSource:
    """A signed request, sent `days_ago` days ago: its clock running."""
    sent_on = timezone.localdate() - datetime.timedelta(days=days_ago)
    return SourceFactory(
        case=case,
        signed=True,
        sent_by=by,
        sent_at=timezone.now() - datetime.timedelta(days=days_ago),
        sent_on=sent_on,
        due_on=sent_on + datetime.timedelta(days=30),
        **kwargs,
    )
