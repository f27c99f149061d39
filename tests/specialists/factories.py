"""Specialists as matching sees them. `SpecialistFactory()` is an oncologist in
New York who passes every check for CaseFactory's cases; change one thing to
make them fail one check."""

import datetime

import factory
from django.utils import timezone

from specialists.models import (
    Certification,
    HeldCertification,
    LeavePeriod,
    Licence,
    SpecialistProfile,
    Specialty,
)
from tests.accounts.factories import UserFactory, enrol_totp


class SpecialistFactory(factory.django.DjangoModelFactory):
    """Extra keywords: licensed_in (states), licence_expires, licence_verification
    ("verified" by an administrator, or "unverified"/"refused"), certified (slugs),
    specialty_slugs."""

    class Meta:
        model = SpecialistProfile

    user = factory.SubFactory(UserFactory, role="specialist")
    credential = "MD"
    title = "MD"
    institution = factory.Sequence(lambda n: f"Hospital number {n}")
    languages = factory.LazyFunction(lambda: ["English"])
    conditions = factory.LazyFunction(lambda: ["C50"])
    consultation_modes = factory.LazyFunction(lambda: ["written", "video", "in_person"])
    accepting_cases = True
    max_open_cases = 8
    turnaround_days = 7

    @classmethod
    def _create(
        cls,
        model_class,
        *args,
        licensed_in=("NY",),
        licence_expires=datetime.date(2030, 1, 1),
        licence_verification="verified",
        certified=("abim-medical-oncology",),
        specialty_slugs=("oncology",),
        **kwargs,
    ):
        if certified and not Certification.objects.exists():
            # Transactional tests (e2e) flush the tables the migrations filled.
            from specialists.services import certifications_load, specialties_load

            specialties_load()
            certifications_load()
        profile = super()._create(model_class, *args, **kwargs)
        enrol_totp(profile.user)
        checked = {}
        if licensed_in and licence_verification != "unverified":
            checked = {
                "verified_by": credentialing_admin(),
                "verified_at": timezone.now(),
                "verification_source": "state_board",
            }
            if licence_verification == "verified":
                checked["verified_expires_on"] = licence_expires
        for state in licensed_in:
            Licence.objects.create(
                profile=profile,
                state=state,
                number=f"{state}-{profile.pk}",
                expires_on=licence_expires,
                verification=licence_verification,
                **checked,
            )
        for slug in certified:
            HeldCertification.objects.create(
                profile=profile, year=2010, certification=Certification.objects.get(slug=slug)
            )
        profile.specialties.set(Specialty.objects.filter(slug__in=specialty_slugs))
        return profile


def credentialing_admin():
    """The administrator who verified the factories' licences (one per database)."""
    from secondop.accounts.models import User

    admin = User.objects.filter(email="credentialing@example.test").first()
    return admin or UserFactory(email="credentialing@example.test", role="admin", is_staff=True)


def away(profile, starts: datetime.date, ends: datetime.date) -> LeavePeriod:
    return LeavePeriod.objects.create(profile=profile, starts_on=starts, ends_on=ends)
