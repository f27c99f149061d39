"""The demo patients' requests, in their own words, and what the care team wrote
back: plain data, which `demo.builders.cases` sends through the services people
use. A request names its specialty by slug (oncology unless it says otherwise).
The questions and symptoms have no shared default: each case's agree with its
own diagnosis (a heart case never asks about a mastectomy)."""

import datetime

from demo.data.documents import (
    BLOOD_COUNT,
    DICOM_STUDY,
    PATHOLOGY_REPORT,
    TextPdf,
    Upload,
)

# Every complete request's answers, unless the case says otherwise.
REQUEST_DEFAULTS = {
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
    "medications": "Lisinopril 10 mg once a day",
    "allergies": "Penicillin",
}

# --- Maria Alvarez (PATIENT): a lived-in account ------------------------------------
MARIA = {
    "patient_dob": datetime.date(1968, 4, 12),
    "patient_phone": "(718) 555-0142",
    "patient_state": "NY",
}
# A half-done draft: two sections done, the diagnosis begun.
DRAFT = {"diagnosis": "High blood pressure that is hard to control"}
DRAFT_SECTIONS_DONE = ("who", "about")
DRAFT_SECTION_STARTED = "diagnosis"

SENT = {
    "concerns": "Whether I really need to lose the whole breast, and what it means for "
    "my job and my daughters.",
    "diagnosis": "Early-stage breast cancer (invasive ductal carcinoma)",
    "icd10_id": "C50.912",
    "diagnosed_on": datetime.date(2026, 10, 2),
    "proposed_treatment": "Mastectomy",
    "diagnosing_physician": "Dr. Paul Grant",
    "diagnosing_institution": "Metro General",
    "questions": (
        "Is a mastectomy my only option?",
        "Would a lumpectomy with radiation be enough?",
    ),
    "symptoms": "A lump in the left breast, found in August.",
}
SENT_RECORDS = (
    Upload(
        "pathology",
        "Core needle biopsy, left breast",
        datetime.date(2026, 9, 28),
        {"pathology-report.pdf": PATHOLOGY_REPORT},
    ),
    Upload(
        "labs",
        "Blood count before surgery",
        datetime.date(2026, 10, 6),
        {"blood-count.png": BLOOD_COUNT},
    ),
    Upload(
        "imaging",
        "Breast MRI and chest CT (disc from Metro General)",
        datetime.date(2026, 10, 1),
        DICOM_STUDY,
    ),
)

WITHDRAWN = {
    "concerns": "I am worried about a long recovery.",
    "diagnosis": "Knee pain, told I need a replacement",
    "proposed_treatment": "Total knee replacement",
    "specialty": "orthopedics",
    "consultation_type": "written",
    "questions": (
        "Could physiotherapy or injections put off the knee replacement?",
        "Is a partial knee replacement possible?",
    ),
    "symptoms": "Pain in my right knee for two years, worse on stairs and at night.",
}
WITHDRAW_REASON = "My own surgeon answered my questions."

# Two requests past the report, answered by the neurologist: the first report is
# shared with her doctor; on the second she asks a follow-up question.
MIGRAINE = {
    "questions": ("Do I really need a daily medicine?", "Is the numbness dangerous?"),
    "concerns": "Whether I need to take a pill every day for the rest of my life.",
    "diagnosis": "Migraine with aura, told I need daily preventive medicine",
    "icd10_id": "G43.109",
    "proposed_treatment": "Topiramate every day",
    "symptoms": "Flashing zigzag lines, then a one-sided headache, about four times a "
    "month; my hand goes numb during the aura.",
}
MIGRAINE_RECORD = Upload(
    "imaging",
    "MRI of the brain, report",
    datetime.date(2026, 8, 19),
    {
        "report.pdf": TextPdf(
            "MRI of the brain, report",
            (
                "MRI brain with and without contrast",
                "No acute intracranial abnormality. Two small nonspecific white matter",
                "hyperintensities, most likely migraine-related. No enhancement.",
            ),
        )
    },
)
MIGRAINE_REPORT = {
    "opinion": "refined",
    "treatment": "changes",
    "text": {
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
        "reasons": "Your attacks are migraine with aura, and a daily medicine is not "
        "needed yet: a diary and magnesium often bring them below four a month.",
        "evidence": "International Classification of Headache Disorders, 3rd edition. "
        "Cephalalgia 2018. doi:10.1177/0333102417738202",
    },
    "answers": {
        1: "Not yet: try the diary and magnesium for three months first.",
        2: "The numbness that comes with your aura and passes within an "
        "hour is part of the migraine, not a stroke.",
    },
}

MS = {
    "questions": ("Is the infusion the right medicine for me?",),
    "concerns": "Whether I should start an infusion now or wait.",
    "diagnosis": "Multiple sclerosis, relapsing-remitting",
    "icd10_id": "G35",
    "proposed_treatment": "An infusion every six months",
    "symptoms": "Blurred vision in one eye last year, and numbness in both legs this spring.",
}
MS_RECORD = Upload(
    "imaging",
    "Spine and brain MRI, report",
    datetime.date(2026, 9, 2),
    {
        "report.pdf": TextPdf(
            "Spine and brain MRI, report",
            (
                "MRI brain and cervical spine",
                "Five periventricular and one cervical cord lesion; one enhancing.",
                "Findings meet the 2017 McDonald criteria.",
            ),
        )
    },
)
MS_REPORT = {
    "opinion": "agrees",
    "treatment": "agrees",
    "text": {
        "summary": "Two relapses in eighteen months with new and enhancing lesions.",
        "recommendations": "Start the infusion as planned; check vitamin D.",
        "prognosis": "Most people on this treatment have no relapse for years.",
        "follow_up": "MRI six months after the first infusion.",
    },
    "answers": {1: "Yes: with active disease it is one of the most effective choices."},
}
MS_FOLLOW_UP = "Can I still have the infusion if I want to try for a baby next year?"

# --- Daniel Brooks (OTHER_PATIENT): a lung cancer case in review ---------------------
DANIEL = {
    "patient_sex": "male",
    "patient_dob": datetime.date(1957, 9, 3),
    "patient_phone": "(973) 555-0188",
    "patient_state": "NJ",
}
IN_REVIEW = {
    "concerns": "Whether surgery or radiation is better at my age.",
    "diagnosis": "Lung cancer, stage I (adenocarcinoma)",
    "icd10_id": "C34.11",
    "diagnosed_on": datetime.date(2026, 10, 20),
    "proposed_treatment": "Lobectomy",
    "diagnosing_physician": "Dr. Ellen Shaw",
    "diagnosing_institution": "Garden State Medical Center",
    "consultation_type": "written",
    "symptoms": "A cough since the summer; the nodule was found on a CT scan.",
    "medications": "Atorvastatin 20 mg",
    "allergies": "None",
    "payment": "self_pay",
    "insurance_carrier": "",
    "insurance_member_id": "",
    "insurance_policyholder": "",
    "pcp_name": "Dr. Raj Mehta",
    "pcp_practice": "Montclair Primary Care",
    "pcp_email": "r.mehta@example.org",
    "questions": (
        "Is lung surgery or targeted radiation (SBRT) better for me at 69?",
        "Will I need chemotherapy after the lobectomy?",
    ),
}
IN_REVIEW_RECORDS = (
    Upload(
        "pathology",
        "Lung biopsy report",
        datetime.date(2026, 10, 14),
        {
            "biopsy.pdf": TextPdf(
                "Surgical pathology report",
                (
                    "Specimen: right upper lobe, CT-guided core biopsy",
                    "Diagnosis: adenocarcinoma, acinar predominant",
                    "PD-L1 (22C3): tumour proportion score 5%",
                    "EGFR and ALK: no alteration detected",
                ),
            )
        },
    ),
    Upload("imaging", "Chest CT (disc)", datetime.date(2026, 10, 9), DICOM_STUDY),
)

# --- James Okafor (THIRD_PATIENT): the coordinator's work in progress ----------------
JAMES = {
    "patient_sex": "male",
    "patient_dob": datetime.date(1974, 2, 9),
    "patient_phone": "(212) 555-0177",
    "patient_state": "NY",
}
IN_TRIAGE = {
    "concerns": "Whether the headaches mean something serious.",
    "diagnosis": "Chronic migraine",
    "icd10_id": "G43.709",
    "specialty": "neurology",
    "proposed_treatment": "Botox injections every 12 weeks",
    "questions": (
        "Are Botox injections right for my migraines?",
        "Should I try a daily preventive medicine first?",
    ),
    "symptoms": "Headaches on most days for a year; painkillers help less and less.",
}
AWAITING_RECORDS = {
    "concerns": "Whether I need the ablation at all.",
    "diagnosis": "Atrial fibrillation",
    "icd10_id": "I48.91",
    "specialty": "cardiology",
    "proposed_treatment": "Catheter ablation",
    "questions": (
        "Can medicines control the atrial fibrillation instead of an ablation?",
        "Do I need a blood thinner?",
    ),
    "symptoms": "A racing, irregular heartbeat and breathlessness on the stairs since the spring.",
}
RECORDS_ASKED = {
    "category": "imaging",
    "note": "Your echocardiogram report and the ECG from September.",
}
OFFERED = {
    "concerns": "Whether I need chemotherapy after surgery.",
    "diagnosis": "Breast cancer, stage II",
    "icd10_id": "C50.411",
    "diagnosing_institution": "Mount Hope Hospital",
    "consultation_type": "written",
    "proposed_treatment": "Lumpectomy and chemo",
    "questions": (
        "Do I need chemotherapy after the lumpectomy?",
        "Would a genomic test of the tumour help decide?",
    ),
    "symptoms": "A lump behind the left nipple, found in September.",
}
