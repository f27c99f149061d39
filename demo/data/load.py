"""The load data's words and proportions (seed_load): names, diagnoses and the
patients' questions, the mix of statuses, and the sizes of each step. Plain data;
`demo.builders.load` makes the rows."""

from demo.data.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET
from requests_app.models import CaseStatus

# Every loaded account signs in with the demo password (and staff with the demo
# TOTP secret): load data is demo data, never on a real deployment.
LOAD_PASSWORD = DEMO_PASSWORD
LOAD_TOTP_SECRET = DEMO_TOTP_SECRET
LOAD_DOMAIN = "load.secondop.test"
COORDINATORS = 20

S = CaseStatus
# The mix of statuses, in percent: most cases are long closed; most open ones
# are early in the workflow (new, in triage, waiting for records, matching).
STATUS_MIX: dict[str, float] = {
    S.DRAFT: 10,
    S.SUBMITTED: 5,
    S.TRIAGE: 4,
    S.AWAITING_RECORDS: 3,
    S.MATCHING: 2.5,
    S.OFFERED: 1.5,
    S.IN_REVIEW: 2.5,
    S.CONSULTATION: 0.5,
    S.REPORT_READY: 0.5,
    S.DELIVERED: 3,
    S.FOLLOW_UP: 0.5,
    S.CLOSED: 56,
    S.WITHDRAWN: 7,
    S.CANCELLED: 4,
}
# The usual road from submission to a delivered report.
MAIN_ROAD = [
    S.DRAFT,
    S.SUBMITTED,
    S.TRIAGE,
    S.MATCHING,
    S.OFFERED,
    S.IN_REVIEW,
    S.REPORT_READY,
    S.DELIVERED,
]

FIRST_NAMES = [
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Olivia",
    "Mohammed",
    "Sofia",
    "Daniel",
    "Grace",
    "Luis",
    "Hannah",
    "Kwame",
    "Emily",
    "Raj",
    "Chloe",
    "Tomás",
    "Fatima",
    "Noah",
    "Yuki",
    "Ethan",
    "Amara",
    "Lucas",
    "Priya",
    "Samuel",
    "Elena",
    "David",
    "Zoe",
    "Omar",
    "Leah",
    "Mateo",
]
LAST_NAMES = [
    "Alvarez",
    "Smith",
    "Okafor",
    "Chen",
    "Johnson",
    "Haddad",
    "Rossi",
    "Kim",
    "Nguyen",
    "Patel",
    "Garcia",
    "Brown",
    "Mensah",
    "Williams",
    "Kowalski",
    "Cohen",
    "Silva",
    "Murphy",
    "Tanaka",
    "Ali",
    "Moreau",
    "Jones",
    "Singh",
    "Davis",
    "Ivanova",
    "Lopez",
    "Walker",
    "Ahmed",
    "Hughes",
]
STATES = ["NY", "NJ", "CA", "TX", "FL", "PA", "IL", "OH", "GA", "MA", "WA", "AZ", "CO", "MI"]

# diagnosis in the patient's words, ICD-10-CM code, specialty, recommended treatment,
# the patient's questions.
SCENARIOS = [
    (
        "Early-stage breast cancer (invasive ductal carcinoma)",
        "C50.911",
        "oncology",
        "Mastectomy followed by chemotherapy",
        [
            "Is a mastectomy my only option?",
            "Would radiation alone be enough?",
            "How would chemotherapy affect my work?",
        ],
    ),
    (
        "Prostate cancer, Gleason score 7",
        "C61",
        "urology",
        "Radical prostatectomy",
        [
            "Is active surveillance safe for me?",
            "What are the risks of incontinence?",
            "Would radiation work as well as surgery?",
        ],
    ),
    (
        "Heart failure, my heart pumps weakly",
        "I50.22",
        "cardiology",
        "An implanted defibrillator",
        [
            "Do I need the device now?",
            "Could medicines alone be enough?",
            "What happens if I wait?",
        ],
    ),
    (
        "Multiple sclerosis, relapsing-remitting",
        "G35",
        "neurology",
        "Starting an infusion every six months",
        [
            "Is this the right medicine for me?",
            "What are the infection risks?",
            "Can I still try for a baby?",
        ],
    ),
    (
        "Osteoarthritis of the right knee",
        "M17.11",
        "orthopedics",
        "Total knee replacement",
        ["Is surgery needed yet?", "How long is the recovery?", "Would injections help first?"],
    ),
    (
        "Lung cancer found on a CT scan",
        "C34.90",
        "oncology",
        "Surgery to remove part of the lung",
        [
            "Is the staging right?",
            "Is surgery better than radiation for me?",
            "Should I have genetic testing of the tumour?",
        ],
    ),
    (
        "Crohn's disease that keeps flaring",
        "K50.90",
        "gastroenterology",
        "Surgery to remove part of the bowel",
        ["Are there medicines I have not tried?", "What are the risks of the operation?"],
    ),
    (
        "A slipped disc in my lower back",
        "M51.26",
        "neurosurgery",
        "Spinal fusion",
        ["Would physical therapy be enough?", "What are the chances the pain comes back?"],
    ),
    (
        "Thyroid cancer (papillary)",
        "C73",
        "endocrinology",
        "Removing the whole thyroid",
        ["Could half the thyroid be enough?", "Will I need radioactive iodine?"],
    ),
    (
        "Parkinson's disease",
        "G20.A1",
        "neurology",
        "Deep brain stimulation",
        [
            "Am I a good candidate?",
            "What are the risks of the surgery?",
            "How much would it help my tremor?",
        ],
    ),
    (
        "Chronic kidney disease, stage 4",
        "N18.4",
        "nephrology",
        "Preparing for dialysis",
        ["Should I be listed for a transplant?", "Can diet slow this down?"],
    ),
    (
        "Rheumatoid arthritis",
        "M06.9",
        "rheumatology",
        "A biologic injection every two weeks",
        ["Is this medicine safe with my other conditions?", "How soon should it work?"],
    ),
]
WITHDRAW_REASONS = [
    "My own surgeon answered my questions.",
    "I decided to go ahead with the treatment.",
    "My insurance will not cover it.",
    "I found a specialist locally.",
]
CANCEL_REASONS = [
    "Duplicate of another request.",
    "We could not reach the patient after three attempts.",
    "The records needed could not be obtained.",
]
RECORDS_REASONS = [
    "Please send the pathology report from the biopsy.",
    "We need the MRI images and the radiologist's report.",
    "Please send the notes from your last specialist visit.",
]


# 1,000 at 100,000 cases; fewer for a small load (a test's).
SPECIALISTS_PER_CASE = 0.01
# Cases that have a specialist by now, and the one waiting for an answer.
ASSIGNED = (
    CaseStatus.IN_REVIEW,
    CaseStatus.CONSULTATION,
    CaseStatus.REPORT_READY,
    CaseStatus.DELIVERED,
    CaseStatus.FOLLOW_UP,
    CaseStatus.CLOSED,
)
HOSPITALS = [
    "University Hospital",
    "Medical Center",
    "Cancer Institute",
    "Heart Institute",
    "Clinic",
    "Regional Medical Center",
    "Children's Hospital",
]
CITIES = [
    "Lakeside",
    "Riverside",
    "Bayview",
    "Summit",
    "Cedar",
    "Harbor",
    "Maple",
    "Granite",
    "Pinecrest",
    "Fairview",
    "Northgate",
    "Westbrook",
]


RECORDS_PER_CASE = 4  # 400,000 records at 100,000 cases
RECORD_TITLES = {
    "pathology": ["Core biopsy report", "Surgical pathology report", "Cytology report"],
    "labs": ["Blood count", "Metabolic panel", "Tumour markers", "Lipid panel"],
    "imaging": ["CT chest with contrast", "MRI brain", "PET-CT", "Mammogram report"],
    "records": ["Oncology clinic letter", "Discharge summary", "Referral letter"],
    "operative": ["Operative note"],
    "prior_opinion": ["Opinion from a university hospital"],
    "insurance_card": ["Insurance card, front and back"],
    "other": ["Medication list"],
}


# The coded opinions of loaded reports, in percent: near what the published
# studies found, which aftercare's concordance page shows beside them.
DIAGNOSIS_MIX = {"agrees": 20, "refined": 55, "different": 17, "undetermined": 8}
TREATMENT_MIX = {"agrees": 58, "changes": 30, "alternative": 12}
AMENDED = 0.03  # reports with a second, amended version released later
REPORT_TEXT = {
    "summary": "The records and imaging were reviewed in full. The findings are summarised "
    "below, with the reasoning behind each recommendation.",
    "recommendations": "Discuss the options below with your treating team before deciding.",
    "prognosis": "Good with treatment.",
    "follow_up": "Review with your own doctor in three months.",
}
FOLLOW_UP_QUESTIONS = [
    "Which tests should I have before deciding?",
    "Can I wait until after the summer?",
    "Is the alternative covered by my insurance?",
]
