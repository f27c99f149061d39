"""The load's specialists (with their licences and certifications) and offers."""

import datetime

from allauth.mfa.totp.internal.auth import TOTP

from demo.builders.load.bulk import BATCH, bulk_insert, with_emails
from demo.builders.load.plan import Load
from demo.data.load import (
    ASSIGNED,
    CITIES,
    FIRST_NAMES,
    HOSPITALS,
    LAST_NAMES,
    LOAD_DOMAIN,
    LOAD_TOTP_SECRET,
    SPECIALISTS_PER_CASE,
)
from requests_app.models import (
    Case,
    CaseStatus,
)
from secondop.accounts.models import Role, User
from specialists.models import Specialty


def specialists(load: Load) -> str:
    """One specialist per hundred cases (TOTP like the coordinators), each with one to
    three specialties and their certifications, licences in two to six states,
    conditions, languages and modes; then the cases in review and after are
    assigned among them."""
    from secondop.us_states import USState
    from specialists.models import HeldCertification, Licence, SpecialistProfile

    rng, now = load.rng, load.now
    first = User.objects.filter(role=Role.SPECIALIST, email__endswith="@" + LOAD_DOMAIN).count()
    users = [
        User(
            email=f"specialist-{first + i + 1:04d}@{LOAD_DOMAIN}",
            full_name=f"Dr. {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            role=Role.SPECIALIST,
            password=load.password_hash,
            date_joined=now - datetime.timedelta(days=rng.randint(30, 2000)),
        )
        for i in range(max(5, min(1000, round(load.cases * SPECIALISTS_PER_CASE))))
    ]
    with_emails(users)
    for user in users:
        TOTP.activate(user, LOAD_TOTP_SECRET)
    choices = list(Specialty.objects.prefetch_related("certifications"))
    states = [s.value for s in USState]
    profiles = [
        SpecialistProfile(
            user=user,
            credential=rng.choice(["MD", "MD", "MD", "DO"]),
            title="MD",
            institution=f"{rng.choice(CITIES)} {rng.choice(HOSPITALS)}",
            languages=[
                "English",
                *rng.sample(
                    ["Spanish", "French", "Mandarin", "Arabic", "Portuguese", "Russian"],
                    rng.randint(0, 2),
                ),
            ],
            conditions=[],
            consultation_modes=rng.sample(["written", "video", "in_person"], rng.randint(1, 3)),
            accepting_cases=rng.random() > 0.1,
            max_open_cases=rng.randint(40, 80),
            turnaround_days=rng.randint(3, 10),
        )
        for user in users
    ]
    bulk_insert(SpecialistProfile, profiles)
    # Licences are verified by an administrator (nine in ten; the rest wait), as
    # matching counts only verified ones.
    checker = User.objects.filter(role=Role.ADMIN).order_by(
        "pk"
    ).first() or User.objects.create_user(
        email=f"credentialing@{LOAD_DOMAIN}",
        full_name="Load Credentialing",
        role=Role.ADMIN,
        is_staff=True,
        password=None,
    )
    chosen, held, licences = [], [], []
    for profile in profiles:
        for specialty in rng.sample(choices, rng.randint(1, 3)):
            chosen.append(
                SpecialistProfile.specialties.through(
                    specialistprofile_id=profile.pk, specialty_id=specialty.pk
                )
            )
            certifications = list(specialty.certifications.all())
            if certifications:
                held.append(
                    HeldCertification(
                        profile=profile,
                        certification=rng.choice(certifications),
                        year=rng.randint(1995, 2024),
                    )
                )
        for state in rng.sample(states, rng.randint(2, 6)):
            verified = rng.random() < 0.9
            expires_on = datetime.date(rng.randint(2027, 2030), 6, 30)
            licences.append(
                Licence(
                    profile=profile,
                    state=state,
                    number=f"{state}{rng.randint(100000, 999999)}",
                    expires_on=expires_on,
                    verified_expires_on=expires_on if verified else None,
                    verification="verified" if verified else "unverified",
                    verified_by=checker if verified else None,
                    verified_at=now - datetime.timedelta(days=rng.randint(1, 400))
                    if verified
                    else None,
                    verification_source="state_board" if verified else "",
                )
            )
    bulk_insert(SpecialistProfile.specialties.through, chosen)
    HeldCertification.objects.bulk_create(held, batch_size=BATCH, ignore_conflicts=True)
    bulk_insert(Licence, licences)
    load.specialist_ids = [u.pk for u in users]
    assigned = list(
        Case.objects.filter(status__in=ASSIGNED, specialist__isnull=True).values_list(
            "pk", flat=True
        )
    )
    ids = load.specialist_ids
    for start in range(0, len(assigned), BATCH):
        chunk = [
            Case(pk=pk, specialist_id=ids[pk % len(ids)]) for pk in assigned[start : start + BATCH]
        ]
        Case.objects.bulk_update(chunk, ["specialist_id"], batch_size=BATCH)
    return (
        f"{len(users)} specialists, {len(licences)} licences, {len(held)} certifications; "
        f"{len(assigned)} cases assigned"
    )


def offers(load: Load) -> str:
    """An open offer for every case waiting for an answer, and the accepted one
    behind every assigned case."""
    from specialists.models import Offer, OfferStatus

    rng, now, ids = load.rng, load.now, load.specialist_ids
    coordinators = load.coordinator_ids

    def rows():
        # Only cases without offers: a second load (--force) adds to the first.
        waiting = Case.objects.filter(status=CaseStatus.OFFERED, offers__isnull=True).values_list(
            "pk", flat=True
        )
        for pk in waiting.iterator():
            yield Offer(
                case_id=pk,
                specialist_id=ids[pk % len(ids)],
                offered_by_id=rng.choice(coordinators),
                status=OfferStatus.OPEN,
                deadline=now + datetime.timedelta(hours=rng.randint(1, 47)),
            )
        taken = Case.objects.filter(status__in=ASSIGNED, offers__isnull=True).values_list(
            "pk", "specialist_id"
        )
        for pk, specialist in taken.iterator():
            yield Offer(
                case_id=pk,
                specialist_id=specialist,
                offered_by_id=rng.choice(coordinators),
                status=OfferStatus.ACCEPTED,
                conflict_attested=True,
                deadline=now,
                answered_at=now,
            )

    return f"{bulk_insert(Offer, rows())} offers"
