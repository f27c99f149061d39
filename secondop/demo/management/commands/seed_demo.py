"""Demo data for a newcomer: python manage.py seed_demo (safe to run again)."""

import datetime
import zlib
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from records import checking as record_checking
from records import services as record_services
from records.storage import save_bytes
from requests_app import authorisation, services
from requests_app.aftercare import services as aftercare_services
from requests_app.models import Case, CaseQuestion, CaseSection, CaseStatus, SectionState
from requests_app.reports import services as report_services
from requests_app.sections import SECTIONS
from requests_app.workflow import case_transition
from secondop.accounts.models import Role, User
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access
from secondop.demo import files as sample_files
from secondop.demo.coverage import TOP_TEN_STATES, coverage_specialists
from specialists import services as specialist_services
from specialists.models import (
    Certification,
    HeldCertification,
    LeavePeriod,
    Licence,
    SpecialistProfile,
    Specialty,
)

DEMO_PASSWORD = "SecondOp-demo-2026"  # noqa: S105 (published demo credentials)
# One published secret for every demo staff account, so a person adds a single
# entry to their authenticator app. Demo data only: never on a real deployment.
DEMO_TOTP_SECRET = "SECONDOPDEMOTOTPSECRET234567ABCD"  # noqa: S105

PATIENT = ("patient@demo.secondop.test", "Maria Alvarez")
# A second patient, whose case in review keeps Dr. Grace Liu at capacity.
OTHER_PATIENT = ("daniel.brooks@demo.secondop.test", "Daniel Brooks")
THIRD_PATIENT = ("james.okafor@demo.secondop.test", "James Okafor")
COORDINATOR = ("coordinator@demo.secondop.test", "Grace Okafor, RN")
ADMIN = ("admin@demo.secondop.test", "Sam Patel")

W, V, P = "written", "video", "in_person"
AFTER_DELIVERY = (CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED)
IM, ONC, HEM = "abim-internal-medicine", "abim-medical-oncology", "abim-hematology"
CARD = "abim-cardiovascular-disease"


@dataclass(frozen=True)
class DemoSpecialist:
    email: str
    name: str
    title: str
    specialties: tuple[str, ...]
    focus: str
    institution: str
    languages: tuple[str, ...]
    conditions: tuple[str, ...]
    certifications: tuple[tuple[str, int], ...]  # (certification slug, year)
    licences: tuple[tuple[str, datetime.date], ...]  # (state, expires on)
    modes: tuple[str, ...]
    bio: str
    credential: str = "MD"
    networks: tuple[str, ...] = ()
    max_open_cases: int = 8
    turnaround_days: int = 7
    accepting: bool = True
    on_leave: bool = False  # away from 3 days ago to 14 days from today
    # Licences (states) an administrator has not verified yet: they do not count.
    unverified: tuple[str, ...] = ()


def PATHOLOGY_PDF() -> bytes:
    return sample_files.text_pdf(
        "Surgical pathology report",
        [
            "Patient: Maria Alvarez            Collected: 28 September 2026",
            "Specimen: left breast, 2 o'clock, ultrasound-guided core biopsy",
            "Diagnosis: invasive ductal carcinoma, Nottingham grade 2",
            "Estrogen receptor: positive (95%)   Progesterone receptor: positive (60%)",
            "HER2 (IHC): 1+, negative              Ki-67: 15%",
            "Pathologist: Dr. L. Moreno, Metro General Hospital",
        ],
    )


def LAB_PNG() -> bytes:
    return sample_files.lab_png(
        "Complete blood count - 6 October 2026",
        [
            ("Haemoglobin", "13.1 g/dL", "12.0-15.5"),
            ("White cells", "6.4 x10^9/L", "4.0-11.0"),
            ("Platelets", "251 x10^9/L", "150-400"),
            ("Creatinine", "0.8 mg/dL", "0.6-1.1"),
        ],
    )


def d(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, day)


# The demo patient's sent case asks for Medical Oncology, lives in NY, was first
# diagnosed at Metro General and wants a video consultation. Matching it shows
# every kind of reason: Marsh, Raman and Osei qualify (and Bianchi, Becker and
# Cohen through their certifications); Kim works at Metro General; Herrera and
# Walsh are not licensed in NY; Brennan is away; Liu is at capacity; Lindqvist
# offers no video consultation.
SPECIALISTS = [
    # --- The four original demo specialists (their emails are in the README) -----
    DemoSpecialist(
        "oncologist@demo.secondop.test",
        "Dr. Helen Marsh",
        "MD, PhD",
        ("oncology",),
        "Breast cancer",
        "Lakeside University Hospital",
        ("English",),
        ("C50", "D05"),
        ((IM, 2004), (ONC, 2007)),
        (
            ("NY", d(2028, 3, 31)),
            ("NJ", d(2027, 6, 30)),
            ("CT", d(2027, 9, 30)),
            ("PA", d(2028, 12, 31)),
        ),
        (W, V, P),
        "Dr. Marsh leads the breast cancer program at Lakeside University Hospital. She has "
        "cared for women with early and advanced breast cancer for twenty years and runs "
        "trials of treatments that spare patients surgery when it is safe.",
        networks=("Empire Health", "Aetna"),
        max_open_cases=6,
        turnaround_days=5,
    ),
    DemoSpecialist(
        "cardiologist@demo.secondop.test",
        "Dr. Omar Haddad",
        "MD, FACC",
        ("cardiology",),
        "Heart failure",
        "Riverside Heart Institute",
        ("English", "Arabic"),
        ("I50", "I42"),
        ((IM, 2006), (CARD, 2009), ("abim-advanced-heart-failure-and-transplant-cardiology", 2011)),
        (
            ("CA", d(2027, 11, 30)),
            ("OR", d(2028, 4, 30)),
            ("WA", d(2027, 8, 31)),
            ("NV", d(2028, 2, 29)),
        ),
        (W, V, P),
        "Dr. Haddad treats advanced heart failure and cardiomyopathy, and helps patients "
        "weigh devices, transplant and medicines.",
        networks=("Blue Shield of California", "Aetna", "Medicare"),
        turnaround_days=6,
    ),
    DemoSpecialist(
        "neurologist@demo.secondop.test",
        "Dr. Lucia Romero",
        "MD",
        ("neurology",),
        "Multiple sclerosis",
        "Bayview Neurological Center",
        ("English", "Spanish"),
        ("G35", "G37"),
        (("abpn-neurology", 2010),),
        (("TX", d(2027, 5, 31)), ("FL", d(2028, 1, 31)), ("NY", d(2027, 10, 31))),
        (W, V),
        "Dr. Romero runs the multiple sclerosis clinic at Bayview and reviews MRI findings "
        "and treatment choices for people newly diagnosed with MS.",
        networks=("Cigna", "UnitedHealthcare"),
    ),
    DemoSpecialist(
        "orthopedist@demo.secondop.test",
        "Dr. James Whitfield",
        "MD",
        ("orthopedics",),
        "Spine surgery",
        "Summit Orthopedic Clinic",
        ("English",),
        ("M48", "M51", "M47"),
        (("abos-orthopaedic-surgery", 2008),),
        (
            ("CO", d(2027, 4, 30)),
            ("UT", d(2028, 6, 30)),
            ("AZ", d(2027, 12, 31)),
            ("NM", d(2028, 8, 31)),
        ),
        (W, V, P),
        "Dr. Whitfield is a spine surgeon who often advises patients that surgery can wait: "
        "he reviews imaging and the treatments already tried.",
        networks=("UnitedHealthcare",),
        turnaround_days=8,
    ),
    # --- Oncology, for the demo patient's case --------------------------------------
    DemoSpecialist(
        "priya.raman@demo.secondop.test",
        "Dr. Priya Raman",
        "MD",
        ("oncology",),
        "Breast and ovarian cancer",
        "Hudson Valley Cancer Center",
        ("English", "Tamil", "Hindi"),
        ("C50", "C56", "D05"),
        ((IM, 2009), (ONC, 2012)),
        (("NY", d(2027, 12, 31)), ("NJ", d(2028, 5, 31))),
        (W, V),
        "Dr. Raman treats breast and ovarian cancer, with a special interest in inherited "
        "risk (BRCA) and in treatment before surgery.",
        networks=("Empire Health", "Cigna"),
        turnaround_days=6,
    ),
    DemoSpecialist(
        "samuel.osei@demo.secondop.test",
        "Dr. Samuel Osei",
        "MD, MPH",
        ("oncology",),
        "Breast cancer",
        "Brooklyn Cancer Institute",
        ("English", "French"),
        ("C50",),
        ((IM, 2011), (ONC, 2014)),
        (("NY", d(2028, 9, 30)), ("CT", d(2026, 6, 30))),  # CT has expired
        (W, V, P),
        "Dr. Osei specialises in breast cancer in younger women and in making treatment "
        "fit around work and family.",
        networks=("Oxford Health Plans",),
        max_open_cases=5,
        turnaround_days=4,
    ),
    DemoSpecialist(
        "rebecca.lindqvist@demo.secondop.test",
        "Dr. Rebecca Lindqvist",
        "DO",
        ("oncology",),
        "Lung and breast cancer",
        "Northshore Oncology Associates",
        ("English", "Swedish"),
        ("C34", "C50"),
        ((IM, 2007), (ONC, 2010)),
        (("NY", d(2027, 7, 31)), ("MA", d(2028, 3, 31))),
        (W, P),  # no video: excluded from a video consultation unless relaxed
        "Dr. Lindqvist is an osteopathic oncologist who treats lung and breast cancer and "
        "prefers to meet patients in person.",
        credential="DO",
        turnaround_days=9,
    ),
    DemoSpecialist(
        "daniel.kim@demo.secondop.test",
        "Dr. Daniel Kim",
        "MD",
        ("oncology",),
        "Breast cancer",
        "Metro General Hospital",
        ("English", "Korean"),
        ("C50", "D05"),
        ((IM, 2005), (ONC, 2008)),
        (("NY", d(2028, 1, 31)),),
        (W, V, P),
        "Dr. Kim leads breast oncology at Metro General Hospital.",
        networks=("Empire Health",),
    ),
    DemoSpecialist(
        "ana.herrera@demo.secondop.test",
        "Dr. Ana Sofía Herrera",
        "MD",
        ("oncology",),
        "Breast cancer",
        "Garden State Cancer Center",
        ("Spanish", "English"),
        ("C50",),
        ((IM, 2012), (ONC, 2015)),
        (("NJ", d(2028, 4, 30)),),  # not licensed in New York
        (W, V),
        "La Dra. Herrera treats breast cancer and consults in Spanish or English.",
        networks=("Horizon", "Aetna"),
        turnaround_days=5,
    ),
    DemoSpecialist(
        "michael.brennan@demo.secondop.test",
        "Dr. Michael Brennan",
        "MD",
        ("oncology",),
        "Breast and colorectal cancer",
        "St. Agnes Cancer Center",
        ("English",),
        ("C50", "C18"),
        ((IM, 2001), (ONC, 2004)),
        (("NY", d(2027, 10, 31)), ("NJ", d(2027, 10, 31))),
        (W, V, P),
        "Dr. Brennan has treated solid tumours for over twenty years.",
        on_leave=True,
    ),
    DemoSpecialist(
        "grace.liu@demo.secondop.test",
        "Dr. Grace Liu",
        "MD",
        ("oncology",),
        "Lung cancer",
        "Eastside Thoracic Oncology",
        ("English", "Mandarin"),
        ("C34", "C50"),
        ((IM, 2010), (ONC, 2013)),
        (("NY", d(2028, 2, 29)), ("NJ", d(2028, 2, 29))),
        (W, V, P),
        "Dr. Liu treats lung cancer and keeps a small practice so every patient gets time.",
        max_open_cases=1,
        turnaround_days=5,
    ),
    DemoSpecialist(
        "laura.bianchi@demo.secondop.test",
        "Dr. Laura Bianchi",
        "MD",
        ("obstetrics-gynecology", "oncology"),
        "Gynecologic cancers",
        "Manhattan Women's Cancer Center",
        ("English", "Italian"),
        ("C53", "C54", "C56"),
        (("abog-obstetrics-and-gynecology", 2006), ("abog-gynecologic-oncology", 2010)),
        (("NY", d(2027, 8, 31)), ("CT", d(2028, 8, 31))),
        (W, V, P),
        "Dr. Bianchi is a gynecologic oncologist who operates on and treats cancers of the "
        "ovary, uterus and cervix.",
        networks=("Empire Health",),
        turnaround_days=6,
    ),
    DemoSpecialist(
        "thomas.becker@demo.secondop.test",
        "Dr. Thomas Becker",
        "MD",
        ("radiation-oncology",),
        "Breast and prostate radiotherapy",
        "Lakeside University Hospital",
        ("English", "German"),
        ("C50", "C61"),
        (("abr-radiation-oncology", 2009),),
        (("NY", d(2028, 6, 30)), ("NJ", d(2027, 9, 30))),
        (W, V),
        "Dr. Becker explains when radiation can replace or shorten other treatment, and "
        "what its side effects really are.",
        turnaround_days=5,
    ),
    DemoSpecialist(
        "miriam.cohen@demo.secondop.test",
        "Dr. Miriam Cohen",
        "MD",
        ("hematology",),
        "Lymphoma and myeloma",
        "Lakeside University Hospital",
        ("English", "Hebrew"),
        ("C81", "C83", "C90"),
        ((IM, 2003), (HEM, 2006), (ONC, 2006)),
        (("NY", d(2027, 11, 30)), ("NJ", d(2027, 11, 30))),
        (W, V),
        "Dr. Cohen treats lymphoma and multiple myeloma, and reviews bone marrow and "
        "pathology findings.",
        networks=("Empire Health", "Medicare"),
    ),
    DemoSpecialist(
        "peter.walsh@demo.secondop.test",
        "Dr. Peter Walsh",
        "MD, FACS",
        ("general-surgery",),
        "Breast surgery",
        "Keystone Surgical Associates",
        ("English",),
        ("C50", "D05"),
        (("abs-general-surgery", 2002), ("abs-complex-general-surgical-oncology", 2006)),
        (("PA", d(2027, 12, 31)), ("NJ", d(2028, 7, 31))),
        (W, P),
        "Dr. Walsh is a surgical oncologist who gives second opinions on breast surgery, "
        "including whether a lumpectomy is possible instead of a mastectomy.",
        turnaround_days=6,
    ),
    # --- Other specialties ------------------------------------------------------------
    DemoSpecialist(
        "elena.petrova@demo.secondop.test",
        "Dr. Elena Petrova",
        "MD",
        ("cardiology",),
        "Heart rhythm disorders",
        "Gulf Coast Heart Center",
        ("English", "Russian"),
        ("I48", "I47"),
        ((IM, 2008), (CARD, 2011), ("abim-clinical-cardiac-electrophysiology", 2013)),
        (("TX", d(2028, 2, 29)), ("FL", d(2027, 6, 30))),
        (W, V),
        "Dr. Petrova is an electrophysiologist: she advises on atrial fibrillation, ablation "
        "and pacemakers.",
        networks=("Cigna",),
    ),
    DemoSpecialist(
        "marcus.johnson@demo.secondop.test",
        "Dr. Marcus Johnson",
        "MD, FACC",
        ("cardiology",),
        "Coronary artery disease",
        "Great Lakes Cardiology",
        ("English",),
        ("I25", "I21"),
        ((IM, 2000), (CARD, 2003), ("abim-interventional-cardiology", 2005)),
        (("IL", d(2027, 7, 31)), ("MI", d(2028, 7, 31)), ("OH", d(2027, 12, 31))),
        (W, V, P),
        "Dr. Johnson is an interventional cardiologist who advises on stents and bypass surgery.",
        accepting=False,
    ),
    DemoSpecialist(
        "aaron.feldman@demo.secondop.test",
        "Dr. Aaron Feldman",
        "MD",
        ("neurology",),
        "Epilepsy",
        "New England Epilepsy Center",
        ("English", "Yiddish"),
        ("G40",),
        (("abpn-neurology", 2005), ("abpn-epilepsy", 2014)),
        (("MA", d(2028, 5, 31)), ("NY", d(2027, 9, 30)), ("RI", d(2027, 9, 30))),
        (W, V),
        "Dr. Feldman reviews seizure diagnoses, EEGs and whether epilepsy surgery might help.",
        turnaround_days=8,
    ),
    DemoSpecialist(
        "keiko.tanaka@demo.secondop.test",
        "Dr. Keiko Tanaka",
        "MD, PhD",
        ("neurosurgery",),
        "Brain tumours",
        "Pacific Neuroscience Institute",
        ("English", "Japanese"),
        ("C71", "D32", "D33"),
        (("abns-neurological-surgery", 2009),),
        (("CA", d(2028, 10, 31)), ("WA", d(2027, 10, 31))),
        (W, V, P),
        "Dr. Tanaka operates on brain and spinal cord tumours and advises on when to watch "
        "and wait.",
        max_open_cases=4,
        turnaround_days=10,
    ),
    DemoSpecialist(
        "carlos.mendoza@demo.secondop.test",
        "Dr. Carlos Mendoza",
        "DO",
        ("orthopedics",),
        "Knee and shoulder sports injuries",
        "Sunshine Sports Medicine",
        ("English", "Spanish"),
        ("M23", "S83", "M75", "M17"),
        (("abos-orthopaedic-surgery", 2011), ("abos-orthopaedic-sports-medicine", 2013)),
        (("FL", d(2027, 11, 30)), ("GA", d(2028, 1, 31))),
        (W, V, P),
        "Dr. Mendoza treats knee and shoulder injuries, and often finds that physical "
        "therapy can replace a joint replacement for a while.",
        credential="DO",
        networks=("Florida Blue",),
        turnaround_days=5,
    ),
    DemoSpecialist(
        "fatima.alsayed@demo.secondop.test",
        "Dr. Fatima Al-Sayed",
        "MD",
        ("endocrinology",),
        "Diabetes and thyroid disease",
        "Lakeshore Endocrine Clinic",
        ("English", "Arabic"),
        ("E11", "E10", "E05", "E06", "C73"),
        ((IM, 2010), ("abim-endocrinology-diabetes-and-metabolism", 2012)),
        (("MI", d(2027, 12, 31)), ("OH", d(2028, 3, 31)), ("IL", d(2028, 3, 31))),
        (W, V),
        "Dr. Al-Sayed helps people whose diabetes is hard to control, and advises on thyroid "
        "nodules and surgery.",
    ),
    DemoSpecialist(
        "robert.nguyen@demo.secondop.test",
        "Dr. Robert Nguyen",
        "MD",
        ("gastroenterology",),
        "Inflammatory bowel disease",
        "Bay Area Digestive Health",
        ("English", "Vietnamese"),
        ("K50", "K51"),
        ((IM, 2012), ("abim-gastroenterology", 2015)),
        (("CA", d(2028, 4, 30)),),
        (W, V),
        "Dr. Nguyen treats Crohn's disease and ulcerative colitis.",
        networks=("Blue Shield of California", "Kaiser Permanente"),
    ),
    DemoSpecialist(
        "hannah.schwartz@demo.secondop.test",
        "Dr. Hannah Schwartz",
        "MD",
        ("rheumatology",),
        "Lupus and rheumatoid arthritis",
        "Delaware Valley Arthritis Center",
        ("English",),
        ("M05", "M32", "M35"),
        ((IM, 2009), ("abim-rheumatology", 2011)),
        (("PA", d(2027, 12, 31)), ("NJ", d(2027, 6, 30)), ("NY", d(2028, 6, 30))),
        (W, V),
        "Dr. Schwartz reviews diagnoses of lupus and rheumatoid arthritis and the choice of "
        "biologic medicines.",
        networks=("Aetna", "Empire Health"),
    ),
    DemoSpecialist(
        "olumide.adeyemi@demo.secondop.test",
        "Dr. Olumide Adeyemi",
        "MD",
        ("urology",),
        "Prostate and kidney cancer",
        "Peachtree Urology",
        ("English", "Yoruba"),
        ("C61", "C64", "C67"),
        (("abu-urology", 2010),),
        (("GA", d(2028, 2, 29)), ("NC", d(2027, 8, 31)), ("SC", d(2027, 8, 31))),
        (W, V, P),
        "Dr. Adeyemi advises men on prostate cancer: active surveillance, surgery or radiation.",
        turnaround_days=6,
    ),
    DemoSpecialist(
        "sarah.oconnell@demo.secondop.test",
        "Dr. Sarah O'Connell",
        "MD",
        ("pulmonology",),
        "Interstitial lung disease",
        "Harbor Lung Institute",
        ("English", "Irish"),
        ("J84", "J44"),
        ((IM, 2008), ("abim-pulmonary-disease", 2010)),
        (("MA", d(2028, 1, 31)), ("NH", d(2027, 5, 31)), ("RI", d(2028, 1, 31))),
        (W, V),
        "Dr. O'Connell specialises in pulmonary fibrosis and COPD.",
        networks=("Harvard Pilgrim",),
    ),
    DemoSpecialist(
        "wei.zhang@demo.secondop.test",
        "Dr. Wei Zhang",
        "MD",
        ("dermatology",),
        "Skin cancer",
        "Golden Gate Dermatology",
        ("English", "Mandarin", "Cantonese"),
        ("C43", "C44", "L40"),
        (("abd-dermatology", 2013), ("abd-micrographic-dermatologic-surgery", 2015)),
        (("CA", d(2027, 9, 30)), ("NY", d(2028, 9, 30))),
        (W, V),
        "Dr. Zhang reviews melanoma and other skin cancer diagnoses, and Mohs surgery plans.",
        turnaround_days=4,
    ),
    DemoSpecialist(
        "david.park@demo.secondop.test",
        "Dr. David Park",
        "MD",
        ("radiology",),
        "Neuroradiology",
        "Cascade Imaging",
        ("English", "Korean"),
        ("C71", "G35", "I63"),
        (("abr-diagnostic-radiology", 2010), ("abr-neuroradiology", 2012)),
        (("WA", d(2027, 12, 31)), ("OR", d(2027, 12, 31)), ("NY", d(2028, 3, 31))),
        (W,),
        "Dr. Park gives second readings of brain and spine MRI and CT scans.",
        max_open_cases=12,
        turnaround_days=3,
    ),
    DemoSpecialist(
        "nadia.rahman@demo.secondop.test",
        "Dr. Nadia Rahman",
        "MD",
        ("nephrology",),
        "Chronic kidney disease",
        "Lone Star Kidney Care",
        ("English", "Bengali"),
        ("N18", "N04"),
        ((IM, 2011), ("abim-nephrology", 2013)),
        (("TX", d(2028, 8, 31)),),
        (W, V),
        "Dr. Rahman advises on chronic kidney disease, dialysis and transplant.",
        networks=("Blue Cross Blue Shield of Texas",),
    ),
    DemoSpecialist(
        "jonathan.price@demo.secondop.test",
        "Dr. Jonathan Price",
        "MD",
        ("cardiothoracic-surgery",),
        "Heart valve surgery",
        "Hudson Heart and Lung Center",
        ("English",),
        ("I35", "I71", "C34"),
        (("abts-thoracic-and-cardiac-surgery", 2007),),
        (("NY", d(2027, 11, 30)), ("NJ", d(2027, 11, 30))),
        (W, V, P),
        "Dr. Price operates on heart valves and the aorta, and advises on minimally invasive "
        "options.",
        max_open_cases=4,
        turnaround_days=7,
    ),
    DemoSpecialist(
        "isabel.santos@demo.secondop.test",
        "Dr. Isabel Santos",
        "MD",
        ("pediatrics", "hematology"),
        "Childhood leukemia",
        "Children's Hospital of South Florida",
        ("English", "Portuguese", "Spanish"),
        ("C91", "C92", "D57"),
        (("abp-pediatrics", 2009), ("abp-pediatric-hematology-oncology", 2012)),
        (("FL", d(2028, 5, 31)),),
        (W, V, P),
        "Dr. Santos treats children with leukemia and sickle cell disease, and talks with "
        "parents about every option.",
        turnaround_days=5,
    ),
]


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
        patient = self._user(*PATIENT, Role.PATIENT)
        other_patient = self._user(*OTHER_PATIENT, Role.PATIENT)
        coordinator = self._user(*COORDINATOR, Role.COORDINATOR, mfa=True)
        self.admin = self._user(*ADMIN, Role.ADMIN, mfa=True)
        services.price_list_seed()
        specialists = {s.email: self._specialist(s) for s in SPECIALISTS}
        for spec in self._coverage():
            self._specialist(spec)
        if not patient.cases.exists():
            self._cases(patient)
        if not other_patient.cases.exists():
            self._case_in_review(
                other_patient, coordinator, specialists["grace.liu@demo.secondop.test"]
            )
        third = self._user(*THIRD_PATIENT, Role.PATIENT)
        if not third.cases.exists():
            self._cases_in_triage(third, coordinator, specialists["oncologist@demo.secondop.test"])
        if not patient.cases.filter(status__in=AFTER_DELIVERY).exists():
            self._cases_after_delivery(
                patient, coordinator, specialists["neurologist@demo.secondop.test"]
            )
        self._print_summary()

    def _specialist(self, spec: DemoSpecialist) -> User:
        user = self._user(spec.email, spec.name, Role.SPECIALIST, mfa=True)
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
                    "verified_by": self.admin,
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

    def _coverage(self) -> list[DemoSpecialist]:
        """A specialist for every specialty on the patient's list not yet covered
        in the ten most populous states; two of them have a licence waiting to be
        verified and one a licence expiring in 40 days (the credentialing page)."""

        def covered(slug: str) -> bool:
            return any(
                slug in spec.specialties
                and set(TOP_TEN_STATES) <= {state for state, _ in spec.licences}
                for spec in SPECIALISTS
            )

        today = timezone.localdate()
        people = []
        for n, person in enumerate(coverage_specialists(covered)):
            # Relative to today, so the demo's promises hold whenever it is seeded.
            licences = tuple(
                (state, today + datetime.timedelta(days=420 + 37 * ((i + n) % 10)))
                for i, state in enumerate(TOP_TEN_STATES)
            )
            if n in (1, 2):  # a licence beyond the ten, waiting to be verified
                licences = (*licences, ("CO", today + datetime.timedelta(days=500)))
            if n == 0:
                licences = ((licences[0][0], today + datetime.timedelta(days=40)), *licences[1:])
            people.append(
                DemoSpecialist(
                    person["email"],
                    person["name"],
                    "MD",
                    (person["specialty"],),
                    person["specialty_name"],
                    person["institution"],
                    person["languages"],
                    person["conditions"],
                    ((person["certification"], 2005 + n % 12),),
                    licences,
                    (W, V, P),
                    f"{person['name']} practises {person['specialty_name']} at "
                    f"{person['institution']} and gives second opinions to patients across the "
                    "country.",
                    turnaround_days=5 + n % 4,
                    unverified=("CO",) if n in (1, 2) else (),
                )
            )
        return people

    def _fee_agreed(self, patient: User, coordinator: User, case: Case) -> None:
        """Matching waits for the fee: the coordinator quotes it, the patient confirms."""
        services.case_insurance_check(
            actor=coordinator,
            case_ref=case.uuid,
            status="self_pay",
            fee_quoted=None,
            items=["written"],
        )
        services.case_fee_confirm(
            actor=patient, case_ref=case.uuid, fee_seen=Case.objects.get(uuid=case.uuid).fee_quoted
        )

    def _base(self, patient: User, **fields) -> dict:
        return {
            "relationship": "self",
            "patient_name": patient.full_name,
            "patient_sex": "female",
            "preferred_language": "English",
            **fields,
        }

    def _complete(
        self, patient: User, base: dict, *, questions: tuple[str, ...], symptoms: str, **fields
    ) -> Case:
        """A request with every section answered and complete (not yet sent). The
        questions and symptoms have no shared default: each case's agree with its
        own diagnosis (a heart case never asks about a mastectomy)."""
        case = Case.objects.create(
            owner=patient,
            **base,
            **{
                "reasons": ["confirm_diagnosis", "compare_treatments"],
                "treatment_started": "no",
                "consultation_type": "video",
                "pcp_name": "Dr. Ana Reyes",
                "pcp_practice": "Queens Family Medicine",
                "pcp_email": "a.reyes@example.org",
                "pcp_referred": "yes",
                "pcp_consent_to_share": True,
                "payment": "insurance",
                "insurance_carrier": "Empire Health",
                "insurance_member_id": "EH123456789",
                "insurance_policyholder": patient.full_name,
                "symptoms": symptoms,
                "medications": "Lisinopril 10 mg once a day",
                "allergies": "Penicillin",
                "specialty": Specialty.objects.get(slug="oncology"),
                "authorisation_version": authorisation.VERSION,
                "authorisation_signed_name": patient.full_name,
                "authorisation_signed_at": timezone.now(),
                **fields,
            },
        )
        CaseQuestion.objects.bulk_create(
            CaseQuestion(case=case, position=n, text=text)
            for n, text in enumerate(questions, start=1)
        )
        CaseSection.objects.bulk_create(
            CaseSection(case=case, section=s.key, state=SectionState.COMPLETED) for s in SECTIONS
        )
        return case

    def _cases(self, patient: User) -> None:
        """A lived-in account: a half-done draft, one sent, one withdrawn."""
        base = self._base(
            patient,
            patient_dob=datetime.date(1968, 4, 12),
            patient_phone="(718) 555-0142",
            patient_state="NY",
        )
        draft = Case.objects.create(
            owner=patient,
            **base,
            diagnosis="High blood pressure that is hard to control",
        )
        CaseSection.objects.bulk_create(
            [
                CaseSection(case=draft, section="who", state=SectionState.COMPLETED),
                CaseSection(case=draft, section="about", state=SectionState.COMPLETED),
                CaseSection(case=draft, section="diagnosis", state=SectionState.IN_PROGRESS),
            ]
        )
        sent = self._complete(
            patient,
            base,
            concerns="Whether I really need to lose the whole breast, and what it means for "
            "my job and my daughters.",
            diagnosis="Early-stage breast cancer (invasive ductal carcinoma)",
            icd10_id="C50.912",
            diagnosed_on=datetime.date(2026, 10, 2),
            proposed_treatment="Mastectomy",
            diagnosing_physician="Dr. Paul Grant",
            diagnosing_institution="Metro General",
            questions=(
                "Is a mastectomy my only option?",
                "Would a lumpectomy with radiation be enough?",
            ),
            symptoms="A lump in the left breast, found in August.",
        )
        services.case_submit(actor=patient, case_ref=sent.uuid)
        self._upload(
            patient,
            sent,
            "pathology",
            "Core needle biopsy, left breast",
            datetime.date(2026, 9, 28),
            {"pathology-report.pdf": PATHOLOGY_PDF()},
        )
        self._upload(
            patient,
            sent,
            "labs",
            "Blood count before surgery",
            datetime.date(2026, 10, 6),
            {"blood-count.png": LAB_PNG()},
        )
        self._upload(
            patient,
            sent,
            "imaging",
            "Breast MRI and chest CT (disc from Metro General)",
            datetime.date(2026, 10, 1),
            sample_files.dicom_study(),
        )
        withdrawn = self._complete(
            patient,
            base,
            concerns="I am worried about a long recovery.",
            diagnosis="Knee pain, told I need a replacement",
            proposed_treatment="Total knee replacement",
            specialty=Specialty.objects.get(slug="orthopedics"),
            consultation_type="written",
            questions=(
                "Could physiotherapy or injections put off the knee replacement?",
                "Is a partial knee replacement possible?",
            ),
            symptoms="Pain in my right knee for two years, worse on stairs and at night.",
        )
        services.case_submit(actor=patient, case_ref=withdrawn.uuid)
        services.case_withdraw(
            actor=patient, case_ref=withdrawn.uuid, reason="My own surgeon answered my questions."
        )

    def _case_in_review(self, patient: User, coordinator: User, specialist: User) -> None:
        """Another patient's lung cancer case, sent, matched, offered to and
        accepted by `specialist`, through the same services people use: it fills
        their one slot, so matching shows them "at capacity"."""
        base = self._base(
            patient,
            patient_sex="male",
            patient_dob=datetime.date(1957, 9, 3),
            patient_phone="(973) 555-0188",
            patient_state="NJ",
        )
        case = self._complete(
            patient,
            base,
            concerns="Whether surgery or radiation is better at my age.",
            diagnosis="Lung cancer, stage I (adenocarcinoma)",
            icd10_id="C34.11",
            diagnosed_on=datetime.date(2026, 10, 20),
            proposed_treatment="Lobectomy",
            diagnosing_physician="Dr. Ellen Shaw",
            diagnosing_institution="Garden State Medical Center",
            consultation_type="written",
            symptoms="A cough since the summer; the nodule was found on a CT scan.",
            medications="Atorvastatin 20 mg",
            allergies="None",
            payment="self_pay",
            insurance_carrier="",
            insurance_member_id="",
            insurance_policyholder="",
            pcp_name="Dr. Raj Mehta",
            pcp_practice="Montclair Primary Care",
            pcp_email="r.mehta@example.org",
            questions=(
                "Is lung surgery or targeted radiation (SBRT) better for me at 69?",
                "Will I need chemotherapy after the lobectomy?",
            ),
        )
        services.case_submit(actor=patient, case_ref=case.uuid)
        services.case_claim(actor=coordinator, case_ref=case.uuid)
        self._visit(coordinator, case)
        case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.TRIAGE)
        case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.MATCHING)
        self._fee_agreed(patient, coordinator, case)
        specialist_services.offer_make(
            actor=coordinator, case_ref=case.uuid, specialist_id=specialist.pk
        )
        self._upload(
            patient,
            case,
            "pathology",
            "Lung biopsy report",
            datetime.date(2026, 10, 14),
            {
                "biopsy.pdf": sample_files.text_pdf(
                    "Surgical pathology report",
                    [
                        "Specimen: right upper lobe, CT-guided core biopsy",
                        "Diagnosis: adenocarcinoma, acinar predominant",
                        "PD-L1 (22C3): tumour proportion score 5%",
                        "EGFR and ALK: no alteration detected",
                    ],
                )
            },
        )
        self._upload(
            patient,
            case,
            "imaging",
            "Chest CT (disc)",
            datetime.date(2026, 10, 9),
            sample_files.dicom_study(),
        )
        specialist_services.offer_accept(
            actor=specialist, case_ref=case.uuid, conflict_attested=True
        )
        self._visit(specialist, case, records=True)

    def _cases_in_triage(self, patient: User, coordinator: User, oncologist: User) -> None:
        """The coordinator's work in progress, one case at each step: in triage,
        waiting for records (with the note the patient reads), and offered to a
        specialist who has not answered yet."""
        base = self._base(
            patient,
            patient_sex="male",
            patient_dob=datetime.date(1974, 2, 9),
            patient_phone="(212) 555-0177",
            patient_state="NY",
        )

        def sent(**fields) -> Case:
            case = self._complete(patient, base, **fields)
            services.case_submit(actor=patient, case_ref=case.uuid)
            services.case_claim(actor=coordinator, case_ref=case.uuid)
            self._visit(coordinator, case)
            case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.TRIAGE)
            return case

        sent(
            concerns="Whether the headaches mean something serious.",
            diagnosis="Chronic migraine",
            icd10_id="G43.709",
            specialty=Specialty.objects.get(slug="neurology"),
            proposed_treatment="Botox injections every 12 weeks",
            questions=(
                "Are Botox injections right for my migraines?",
                "Should I try a daily preventive medicine first?",
            ),
            symptoms="Headaches on most days for a year; painkillers help less and less.",
        )
        waiting = sent(
            concerns="Whether I need the ablation at all.",
            diagnosis="Atrial fibrillation",
            icd10_id="I48.91",
            specialty=Specialty.objects.get(slug="cardiology"),
            proposed_treatment="Catheter ablation",
            questions=(
                "Can medicines control the atrial fibrillation instead of an ablation?",
                "Do I need a blood thinner?",
            ),
            symptoms="A racing, irregular heartbeat and breathlessness on the "
            "stairs since the spring.",
        )
        record_services.record_request_create(
            actor=coordinator,
            case_ref=waiting.uuid,
            category="imaging",
            note="Your echocardiogram report and the ECG from September.",
        )
        offered = sent(
            concerns="Whether I need chemotherapy after surgery.",
            diagnosis="Breast cancer, stage II",
            icd10_id="C50.411",
            diagnosing_institution="Mount Hope Hospital",
            consultation_type="written",
            proposed_treatment="Lumpectomy and chemo",
            questions=(
                "Do I need chemotherapy after the lumpectomy?",
                "Would a genomic test of the tumour help decide?",
            ),
            symptoms="A lump behind the left nipple, found in September.",
        )
        case_transition(actor=coordinator, ref=offered.uuid, to_status=CaseStatus.MATCHING)
        self._fee_agreed(patient, coordinator, offered)
        specialist_services.offer_make(
            actor=coordinator, case_ref=offered.uuid, specialist_id=oncologist.pk
        )

    def _cases_after_delivery(self, patient: User, coordinator: User, neurologist: User) -> None:
        """Two of the demo patient's requests past the report, made through the
        services people use: the specialist wrote, signed and the case manager
        released each report. The first is shared with her doctor (the email, with
        its link, goes to the console); on the second she has asked a follow-up
        question the specialist can answer."""
        base = self._base(
            patient,
            patient_dob=datetime.date(1968, 4, 12),
            patient_phone="(718) 555-0142",
            patient_state="NY",
        )
        migraine = self._reviewed(
            patient,
            coordinator,
            neurologist,
            base,
            questions=("Do I really need a daily medicine?", "Is the numbness dangerous?"),
            concerns="Whether I need to take a pill every day for the rest of my life.",
            diagnosis="Migraine with aura, told I need daily preventive medicine",
            icd10_id="G43.109",
            proposed_treatment="Topiramate every day",
            symptoms="Flashing zigzag lines, then a one-sided headache, about four times a "
            "month; my hand goes numb during the aura.",
            record=(
                "MRI of the brain, report",
                "imaging",
                datetime.date(2026, 8, 19),
                [
                    "MRI brain with and without contrast",
                    "No acute intracranial abnormality. Two small nonspecific white matter",
                    "hyperintensities, most likely migraine-related. No enhancement.",
                ],
            ),
        )
        self._report(
            migraine,
            neurologist,
            coordinator,
            opinion="refined",
            treatment="changes",
            text={
                "summary": "Typical visual aura followed by headache, about four "
                "attacks a month; a normal neurological examination and "
                "an MRI with two small nonspecific spots.",
                "diagnosis": "Migraine with typical aura, episodic",
                "diagnosis_comment": "The MRI spots are common in migraine and do "
                "not suggest multiple sclerosis.",
                "recommendations": "Start with a headache diary and magnesium; a "
                "daily preventive only if attacks stay above four "
                "a month. Avoid combined hormonal contraception.",
                "prognosis": "Good: attacks often lessen after the menopause.",
                "follow_up": "Review with your own doctor in three months.",
            },
            answers={
                1: "Not yet: try the diary and magnesium for three months first.",
                2: "The numbness that comes with your aura and passes within an "
                "hour is part of the migraine, not a stroke.",
            },
        )
        aftercare_services.share_create(
            actor=patient,
            case_ref=migraine.uuid,
            email=migraine.pcp_email,
            name=migraine.pcp_name,
            consented=True,
        )
        ms = self._reviewed(
            patient,
            coordinator,
            neurologist,
            base,
            questions=("Is the infusion the right medicine for me?",),
            concerns="Whether I should start an infusion now or wait.",
            diagnosis="Multiple sclerosis, relapsing-remitting",
            icd10_id="G35",
            proposed_treatment="An infusion every six months",
            symptoms="Blurred vision in one eye last year, and numbness in both legs this spring.",
            record=(
                "Spine and brain MRI, report",
                "imaging",
                datetime.date(2026, 9, 2),
                [
                    "MRI brain and cervical spine",
                    "Five periventricular and one cervical cord lesion; one enhancing.",
                    "Findings meet the 2017 McDonald criteria.",
                ],
            ),
        )
        self._report(
            ms,
            neurologist,
            coordinator,
            opinion="agrees",
            treatment="agrees",
            text={
                "summary": "Two relapses in eighteen months with new and enhancing lesions.",
                "recommendations": "Start the infusion as planned; check vitamin D.",
                "prognosis": "Most people on this treatment have no relapse for years.",
                "follow_up": "MRI six months after the first infusion.",
            },
            answers={1: "Yes: with active disease it is one of the most effective choices."},
        )
        aftercare_services.follow_up_ask(
            actor=patient,
            case_ref=ms.uuid,
            text="Can I still have the infusion if I want to try for a baby next year?",
        )

    def _reviewed(
        self,
        patient: User,
        coordinator: User,
        specialist: User,
        base: dict,
        *,
        record: tuple,
        **fields,
    ) -> Case:
        """A request sent, matched, accepted and in review, with one checked record."""
        case = self._complete(
            patient,
            base,
            specialty=Specialty.objects.get(slug="neurology"),
            consultation_type="written",
            **fields,
        )
        services.case_submit(actor=patient, case_ref=case.uuid)
        services.case_claim(actor=coordinator, case_ref=case.uuid)
        self._visit(coordinator, case)
        case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.TRIAGE)
        case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.MATCHING)
        self._fee_agreed(patient, coordinator, case)
        specialist_services.offer_make(
            actor=coordinator, case_ref=case.uuid, specialist_id=specialist.pk
        )
        specialist_services.offer_accept(
            actor=specialist, case_ref=case.uuid, conflict_attested=True
        )
        title, category, when, lines = record
        self._upload(
            patient,
            case,
            category,
            title,
            when,
            {"report.pdf": sample_files.text_pdf(title, lines)},
        )
        # Checked now, not when the demo's transaction commits: the specialist
        # reviews it in the report below (the queued check then finds it done).
        for pk in case.records.values_list("pk", flat=True):
            record_checking.check_record(pk)
        self._visit(specialist, case, records=True)
        return case

    def _report(
        self,
        case: Case,
        specialist: User,
        coordinator: User,
        *,
        opinion: str,
        treatment: str,
        text: dict,
        answers: dict,
    ) -> None:
        """Write, sign and release the report (its PDF rendered now, as the task
        would after the commit)."""
        report_services.report_draft_save(
            actor=specialist,
            case_ref=case.uuid,
            text=text,
            diagnosis_opinion=opinion,
            treatment_opinion=treatment,
            answers=answers,
            records=[str(r.uuid) for r in case.records.all()],
        )
        version = report_services.report_sign(actor=specialist, case_ref=case.uuid)
        report_services.report_pdf_store(version_id=version.pk)
        self._visit(coordinator, case)  # reads the case before releasing its report
        report_services.report_release(actor=coordinator, version_ref=version.uuid)

    def _visit(self, viewer: User, case: Case, *, records: bool = False) -> None:
        """What the care team's work leaves in the access log, written the way their
        pages write it (the case page, and each record downloaded), at the step of
        the work where they would open it: the patient's "who has looked" shows it."""
        log_access(viewer=viewer, obj=case)
        if records:
            for record in case.records.all():
                log_access(viewer=viewer, obj=record, kind=AccessLog.Kind.DOWNLOAD)

    def _upload(
        self,
        patient: User,
        case: Case,
        category: str,
        title: str,
        service_date: datetime.date,
        files: dict[str, bytes],
    ) -> None:
        """A record sent the way the browser sends one: a slot, the bytes where the
        slot says, confirm; verification runs when the demo's transaction commits."""
        slots = record_services.record_slots_create(
            actor=patient,
            case_ref=case.uuid,
            category=category,
            title=title,
            service_date=service_date,
            answers=None,
            files=[
                {
                    "client_id": name,
                    "name": name.rsplit("/", 1)[-1],
                    "size": len(data),
                    "relative_path": name if len(files) > 1 else "",
                    "type": "",
                }
                for name, data in files.items()
            ],
        )
        for slot in slots.files:
            save_bytes(slot.file.key, files[slot.client_id])
        record_services.record_confirm(actor=patient, record_ref=slots.record.uuid)

    def _user(self, email, name, role, *, mfa=False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                full_name=name,
                role=role,
                is_staff=(role == Role.ADMIN),
                is_superuser=(role == Role.ADMIN),
            )
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if (
            mfa
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            TOTP.activate(user, DEMO_TOTP_SECRET)
            RecoveryCodes.activate(user)
        return user

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
