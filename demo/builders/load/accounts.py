"""The load's coordinators and patients."""

import datetime

from allauth.mfa.totp.internal.auth import TOTP

from demo.builders.load.bulk import BATCH, with_emails
from demo.builders.load.plan import Load
from demo.data.load import (
    COORDINATORS,
    FIRST_NAMES,
    LAST_NAMES,
    LOAD_DOMAIN,
    LOAD_TOTP_SECRET,
)
from secondop.accounts.models import Role, User


def coordinators(load: Load) -> str:
    now = load.now
    users = [
        User(
            email=f"coordinator-{load.first_coordinator + i:02d}@{LOAD_DOMAIN}",
            full_name=f"{load.rng.choice(FIRST_NAMES)} {load.rng.choice(LAST_NAMES)}, RN",
            role=Role.COORDINATOR,
            password=load.password_hash,
            date_joined=now - datetime.timedelta(days=800),
        )
        for i in range(COORDINATORS)
    ]
    with_emails(users)
    for user in users:
        TOTP.activate(user, LOAD_TOTP_SECRET)
    load.coordinator_ids = [u.pk for u in users]
    return f"{len(users)} coordinators with TOTP"


def patients(load: Load) -> str:
    first_case = {}
    for case in load.planned:  # oldest first
        first_case.setdefault(case.owner, case.created_at)
    rng, oldest = load.rng, load.now - datetime.timedelta(days=740)

    def joined(n: int) -> datetime.datetime:
        # Shortly before their first request; whenever, for those who never made one.
        if n in first_case:
            return first_case[n] - rng.uniform(0.1, 3) * datetime.timedelta(hours=1)
        return oldest + rng.random() * (load.now - oldest)

    for start in range(0, len(load.patient_names), BATCH):
        users = [
            User(
                email=f"patient-{load.first_patient + n:06d}@{LOAD_DOMAIN}",
                full_name=name,
                role=Role.PATIENT,
                password=load.password_hash,
                date_joined=joined(n),
            )
            for n, name in enumerate(load.patient_names[start : start + BATCH], start)
        ]
        with_emails(users)
        load.patient_ids += [u.pk for u in users]
    return f"{len(load.patient_ids)} patients with verified email addresses"
