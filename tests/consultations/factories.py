"""`ConsultationFactory(case=case)`: a video consultation booked three days ahead
by a specialist of its own (set `specialist=` to the case's). Made directly, not
through the services: for pages and the permission matrix."""

import datetime
import secrets

import factory
from django.utils import timezone

from requests_app.consultations.models import Consultation, Slot


def _start():
    return (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


class ConsultationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consultation
        skip_postgeneration_save = True

    case = factory.SubFactory(
        "tests.requests_app.factories.CaseFactory", submitted=True, consultation_type="video"
    )
    specialist = factory.SubFactory("tests.accounts.factories.UserFactory", role="specialist")
    mode = "video"
    status = "booked"
    patient_time_zone = "America/New_York"
    video_room = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    starts_at = factory.LazyFunction(_start)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=30))
    booked_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    sequence = 2

    @factory.post_generation
    def slots(self, create, extracted, **kwargs):
        if create:
            Slot.objects.create(
                consultation=self, round=self.round, starts_at=self.starts_at, ends_at=self.ends_at
            )
            Slot.objects.create(
                consultation=self,
                round=self.round,
                starts_at=self.starts_at + datetime.timedelta(days=1),
                ends_at=self.ends_at + datetime.timedelta(days=1),
            )
