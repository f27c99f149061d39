"""Demo data for a newcomer: python manage.py seed_demo (safe to run again).

The people and their words are in demo.data; demo.builders makes them."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.builders.seed import seed_demo
from demo.data.accounts import (
    ADMIN,
    COORDINATOR,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    OTHER_PATIENT,
    PATIENT,
)
from demo.data.specialists import SPECIALISTS


class Command(BaseCommand):
    help = "Create the demo patients, coordinator, specialists and admin (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even when DEBUG is off (never on a real deployment).",
        )

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo publishes passwords and a TOTP secret; "
                "it runs only with DEBUG on (or --force)."
            )
        seed_demo()
        self._print_summary()

    def _print_summary(self) -> None:
        w = self.stdout.write
        w(self.style.SUCCESS("Demo data is ready. Every demo account's password: " + DEMO_PASSWORD))
        w(f"  patient      {PATIENT[0]}   (a report shared with her doctor, a follow-up question)")
        w(f"  patient      {OTHER_PATIENT[0]}   (a case in review)")
        w(f"  coordinator  {COORDINATOR[0]}   (two-factor)")
        w(f"  admin        {ADMIN[0]}   (two-factor, Django admin at /admin/)")
        for spec in SPECIALISTS[:4]:
            w(f"  specialist   {spec.email}   (two-factor)")
        w(
            f"  and {len(SPECIALISTS) - 4} more specialists (two-factor), in the directory at "
            "/specialists/, e.g. priya.raman@demo.secondop.test"
        )
        w(
            "Staff sign in with a 6-digit code: add this secret to an authenticator app "
            f"(type 'time-based', account 'SecondOp demo'): {DEMO_TOTP_SECRET}"
        )
        w(f"  or scan: otpauth://totp/SecondOp:demo?secret={DEMO_TOTP_SECRET}&issuer=SecondOp")
