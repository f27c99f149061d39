"""The demo specialists in the database: profile, specialties, certifications,
licences (verified by the demo admin unless the data says otherwise) and leave."""

import datetime
import zlib

from django.utils import timezone

from demo.builders.accounts import demo_user
from demo.data.specialists import DemoSpecialist
from secondop.accounts.models import Role, User
from specialists.models import (
    Certification,
    HeldCertification,
    LeavePeriod,
    Licence,
    SpecialistProfile,
    Specialty,
)


def licence_number(email: str, state: str) -> str:
    """A licence number in the shape the state board uses, the same on every run."""
    n = zlib.crc32(f"{email}:{state}".encode())
    shapes = {
        "NY": f"{n % 1_000_000:06d}",
        "NJ": f"25MA{n % 100_000_000:08d}",
        "CA": f"A{n % 1_000_000:06d}",
        "TX": f"{'KLMNPQR'[n % 7]}{n % 10_000:04d}",
        "FL": f"ME{n % 1_000_000:06d}",
        "PA": f"MD{n % 1_000_000:06d}",
        "MA": f"{n % 1_000_000:06d}",
        "IL": f"036.{n % 1_000_000:06d}",
    }
    return shapes.get(state, f"{state}{n % 1_000_000:06d}")


def demo_specialist(spec: DemoSpecialist, *, checker: User) -> User:
    """The specialist as the data says, made or brought up to date (idempotent);
    `checker` is the administrator who verified their licences."""
    user = demo_user(spec.email, spec.name, Role.SPECIALIST, mfa=True)
    profile, _ = SpecialistProfile.objects.update_or_create(
        user=user,
        defaults={
            "credential": spec.credential,
            "title": spec.title,
            "subspecialty": spec.focus,
            "institution": spec.institution,
            "bio": spec.bio,
            "languages": list(spec.languages),
            "conditions": list(spec.conditions),
            "insurance_networks": list(spec.networks),
            "consultation_modes": list(spec.modes),
            "accepting_cases": spec.accepting,
            "max_open_cases": spec.max_open_cases,
            "turnaround_days": spec.turnaround_days,
        },
    )
    profile.specialties.set(Specialty.objects.filter(slug__in=spec.specialties))
    slugs = dict(spec.certifications)
    profile.certifications.exclude(certification__slug__in=slugs).delete()
    for certification in Certification.objects.filter(slug__in=slugs):
        HeldCertification.objects.update_or_create(
            profile=profile,
            certification=certification,
            defaults={"year": slugs[certification.slug]},
        )
    states = dict(spec.licences)
    profile.licences.exclude(state__in=states).delete()
    checked_at = timezone.now() - datetime.timedelta(days=30)
    for state, expires_on in states.items():
        checked = (
            {
                "verification": "unverified",
                "verified_by": None,
                "verified_at": None,
                "verification_source": "",
            }
            if state in spec.unverified
            else {
                "verification": "verified",
                "verified_by": checker,
                "verified_at": checked_at,
                "verification_source": "state_board",
                "verified_expires_on": expires_on,
                "verification_note": "Active, no board actions.",
            }
        )
        Licence.objects.update_or_create(
            profile=profile,
            state=state,
            defaults={
                "number": licence_number(spec.email, state),
                "expires_on": expires_on,
                **checked,
            },
        )
    if spec.on_leave:
        # Relative to today, so it is "on leave now" whenever the demo is seeded.
        today = timezone.localdate()
        profile.leave.all().delete()
        LeavePeriod.objects.create(
            profile=profile,
            starts_on=today - datetime.timedelta(days=3),
            ends_on=today + datetime.timedelta(days=14),
        )
    return user
