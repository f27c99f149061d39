"""Load data for benchmarks: python manage.py seed_load --cases 100000.

What it makes, and how, is in demo.builders.load; its words in demo.data.load."""

import random
import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from demo.builders.load.bulk import explicit_timestamps
from demo.builders.load.plan import Load, plan
from demo.builders.load.steps import LOADED_MODELS, STEPS, analyze
from demo.data.load import LOAD_DOMAIN, LOAD_PASSWORD, LOAD_TOTP_SECRET
from secondop.accounts.models import Role, User


class Command(BaseCommand):
    help = "Fill the database in bulk for benchmarks (patients, cases at every status, staff)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=8, help="random seed (the same plan)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run with DEBUG off, or add another set to a loaded database.",
        )
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated steps to run on a loaded database, e.g. "
            "'specialists,offers' after an upgrade adds them.",
        )

    def handle(self, *args, cases, seed, force, only="", **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_load publishes a password and a TOTP secret; "
                "it runs only with DEBUG on (or --force)."
            )
        steps = STEPS
        if only:
            named = {step.__name__: step for step in STEPS}
            unknown = set(only.split(",")) - set(named)
            if unknown:
                raise CommandError(f"No such step: {', '.join(sorted(unknown))}.")
            steps = [named[name] for name in only.split(",")]
        loaded = User.objects.filter(email__endswith="@" + LOAD_DOMAIN)
        if loaded.exists() and not force and not only:
            raise CommandError(
                f"This database already has load data ({loaded.count()} "
                "accounts); --force adds another set."
            )
        if cases < 1:
            raise CommandError("--cases must be at least 1.")
        started = time.perf_counter()
        load = Load(
            cases=cases,
            rng=random.Random(seed),
            now=timezone.now(),
            password_hash=make_password(LOAD_PASSWORD),  # once: hashing is slow on purpose
            first_patient=loaded.filter(role=Role.PATIENT).count() + 1,
            first_coordinator=loaded.filter(role=Role.COORDINATOR).count() + 1,
        )
        plan(load)
        self.stdout.write(
            f"  plan: {cases} cases for {len(load.patient_names)} patients "
            f"({time.perf_counter() - started:.1f} s)"
        )
        with transaction.atomic(), explicit_timestamps(*LOADED_MODELS):
            if only:  # the later steps read what the earlier ones made
                load.coordinator_ids = list(
                    loaded.filter(role=Role.COORDINATOR).values_list("pk", flat=True)
                )
                load.specialist_ids = list(
                    loaded.filter(role=Role.SPECIALIST).values_list("pk", flat=True)
                )
            for step in steps:
                step_started = time.perf_counter()
                summary = step(load)
                self.stdout.write(
                    f"  {step.__name__}: {summary} ({time.perf_counter() - step_started:.1f} s)"
                )
        if summary := analyze():
            self.stdout.write(f"  {summary}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {cases} cases in {time.perf_counter() - started:.1f} s. Every load account "
                f"(patient-NNNNNN@{LOAD_DOMAIN}, coordinator-NN@{LOAD_DOMAIN}) signs in with "
                f"{LOAD_PASSWORD}; coordinators' TOTP secret: {LOAD_TOTP_SECRET}"
            )
        )
