"""Demo data for a newcomer: python manage.py seed_demo (safe to run again)."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from requests_app import authorisation, services
from requests_app.models import Case, CaseQuestion, CaseSection, SectionState
from requests_app.sections import SECTIONS
from secondop.accounts.models import Role, User
from specialists.models import SpecialistProfile, Specialty

DEMO_PASSWORD = "SecondOp-demo-2026"  # noqa: S105 (published demo credentials)
# One published secret for every demo staff account, so a person adds a single
# entry to their authenticator app. Demo data only: never on a real deployment.
DEMO_TOTP_SECRET = "SECONDOPDEMOTOTPSECRET234567ABCD"  # noqa: S105

PATIENT = ("patient@demo.secondop.test", "Maria Alvarez")
COORDINATOR = ("coordinator@demo.secondop.test", "Grace Okafor, RN")
ADMIN = ("admin@demo.secondop.test", "Sam Patel")
SPECIALISTS = [
    # email, name, title, specialty slugs, subspecialty, institution, languages, states
    ("oncologist@demo.secondop.test", "Dr. Helen Marsh", "MD, PhD", ["oncology"],
     "Breast cancer", "Lakeside University Hospital", ["en"], ["NY", "NJ", "CT", "PA"]),
    ("cardiologist@demo.secondop.test", "Dr. Omar Haddad", "MD, FACC", ["cardiology"],
     "Heart failure", "Riverside Heart Institute", ["en", "ar"], ["CA", "OR", "WA", "NV"]),
    ("neurologist@demo.secondop.test", "Dr. Lucia Romero", "MD", ["neurology"],
     "Multiple sclerosis", "Bayview Neurological Center", ["en", "es"], ["TX", "FL", "NY"]),
    ("orthopedist@demo.secondop.test", "Dr. James Whitfield", "MD", ["orthopedics"],
     "Spine surgery", "Summit Orthopedic Clinic", ["en"], ["CO", "UT", "AZ", "NM"]),
]


class Command(BaseCommand):
    help = "Create the demo patient, coordinator, specialists and admin (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Run even when DEBUG is off (never on a real deployment).")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo publishes passwords and a TOTP secret; "
                               "it runs only with DEBUG on (or --force).")
        patient = self._user(*PATIENT, Role.PATIENT)
        self._user(*COORDINATOR, Role.COORDINATOR, mfa=True)
        self._user(*ADMIN, Role.ADMIN, mfa=True)
        for email, name, title, slugs, sub, institution, languages, states in SPECIALISTS:
            user = self._user(email, name, Role.SPECIALIST, mfa=True)
            profile, _ = SpecialistProfile.objects.update_or_create(
                user=user,
                defaults={"title": title, "subspecialty": sub, "institution": institution,
                          "languages": languages, "licensed_states": states},
            )
            profile.specialties.set(Specialty.objects.filter(slug__in=slugs))
        if not patient.cases.exists():
            self._cases(patient)
        self._print_summary()

    def _cases(self, patient: User) -> None:
        """A lived-in account: a half-done draft, one sent, one withdrawn."""
        import datetime

        from django.utils import timezone


        base = {
            "relationship": "self", "patient_name": patient.full_name,
            "patient_dob": datetime.date(1968, 4, 12), "patient_sex": "female",
            "patient_phone": "(718) 555-0142", "patient_state": "NY",
            "preferred_language": "English",
        }
        draft = Case.objects.create(
            owner=patient, **base, diagnosis="High blood pressure that is hard to control",
        )
        CaseSection.objects.bulk_create([
            CaseSection(case=draft, section="who", state=SectionState.COMPLETED),
            CaseSection(case=draft, section="about", state=SectionState.COMPLETED),
            CaseSection(case=draft, section="diagnosis", state=SectionState.IN_PROGRESS),
        ])

        def complete(**fields) -> Case:
            case = Case.objects.create(
                owner=patient, **base, **fields,
                reasons=["confirm_diagnosis", "compare_treatments"],
                treatment_started="no", consultation_type="video",
                pcp_name="Dr. Ana Reyes", pcp_practice="Queens Family Medicine",
                pcp_email="a.reyes@example.org", pcp_referred="yes", pcp_consent_to_share=True,
                payment="insurance", insurance_carrier="Empire Health",
                insurance_member_id="EH123456789", insurance_policyholder=patient.full_name,
                symptoms="A lump in the left breast, found in August.",
                medications="Lisinopril 10 mg once a day", allergies="Penicillin",
                specialty=Specialty.objects.get(slug="oncology"),
                authorisation_version=authorisation.VERSION,
                authorisation_signed_name=patient.full_name,
                authorisation_signed_at=timezone.now(),
            )
            CaseQuestion.objects.create(case=case, position=1,
                                        text="Is a mastectomy my only option?")
            CaseQuestion.objects.create(case=case, position=2,
                                        text="Would radiation alone be enough?")
            CaseSection.objects.bulk_create(
                CaseSection(case=case, section=s.key, state=SectionState.COMPLETED)
                for s in SECTIONS
            )
            return case

        sent = complete(
            concerns="Whether I really need to lose the whole breast, and what it means for "
                     "my job and my daughters.",
            diagnosis="Early-stage breast cancer (invasive ductal carcinoma)",
            diagnosed_on=datetime.date(2026, 10, 2), proposed_treatment="Mastectomy",
            diagnosing_physician="Dr. Paul Grant", diagnosing_institution="Metro General",
        )
        services.case_submit(actor=patient, case_ref=sent.uuid)
        withdrawn = complete(
            concerns="I am worried about a long recovery.",
            diagnosis="Knee pain, told I need a replacement",
            proposed_treatment="Total knee replacement",
        )
        services.case_submit(actor=patient, case_ref=withdrawn.uuid)
        services.case_withdraw(actor=patient, case_ref=withdrawn.uuid,
                               reason="My own surgeon answered my questions.")

    def _user(self, email, name, role, *, mfa=False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, full_name=name, role=role,
                is_staff=(role == Role.ADMIN), is_superuser=(role == Role.ADMIN),
            )
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if mfa and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
            RecoveryCodes.activate(user)
        return user

    def _print_summary(self) -> None:
        w = self.stdout.write
        w(self.style.SUCCESS("Demo data is ready. Every demo account's password: " + DEMO_PASSWORD))
        w(f"  patient      {PATIENT[0]}")
        w(f"  coordinator  {COORDINATOR[0]}   (two-factor)")
        w(f"  admin        {ADMIN[0]}   (two-factor, Django admin at /admin/)")
        for s in SPECIALISTS:
            w(f"  specialist   {s[0]}   (two-factor)")
        w("Staff sign in with a 6-digit code: add this secret to an authenticator app "
          f"(type 'time-based', account 'SecondOp demo'): {DEMO_TOTP_SECRET}")
        w(f"  or scan: otpauth://totp/SecondOp:demo?secret={DEMO_TOTP_SECRET}&issuer=SecondOp")
