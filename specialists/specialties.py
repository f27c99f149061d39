"""The specialties list a patient chooses from, loaded by migrations 0002 and 0007
and kept in code for tests. The first list is the broad fields; the second the
subspecialties people are commonly sent to, each mapped onto the board
certifications that practise it (specialists/data/abms_certifications.json,
"specialties"). A patient may also answer "I'm not sure" (Case.specialty_unsure):
the coordinator then chooses at triage."""

from django.utils.translation import gettext_noop

# gettext_noop: in the translation catalogue (a name is shown in the reader's
# language, Specialty.__str__), stored as written in English.

SPECIALTIES = [
    (
        "allergy-immunology",
        gettext_noop("Allergy and Immunology"),
        gettext_noop("Allergies, asthma, immune disorders"),
    ),
    ("cardiology", gettext_noop("Cardiology"), gettext_noop("Heart and blood vessels")),
    (
        "cardiothoracic-surgery",
        gettext_noop("Cardiothoracic Surgery"),
        gettext_noop("Surgery of the heart, lungs and chest"),
    ),
    (
        "dermatology",
        gettext_noop("Dermatology"),
        gettext_noop("Skin, hair and nails, including skin cancer"),
    ),
    (
        "endocrinology",
        gettext_noop("Endocrinology"),
        gettext_noop("Diabetes, thyroid and hormone disorders"),
    ),
    (
        "gastroenterology",
        gettext_noop("Gastroenterology"),
        gettext_noop("Digestive system, liver and pancreas"),
    ),
    (
        "general-surgery",
        gettext_noop("General Surgery"),
        gettext_noop("Abdominal, hernia, breast and other surgery"),
    ),
    ("hematology", gettext_noop("Hematology"), gettext_noop("Blood disorders and blood cancers")),
    (
        "infectious-disease",
        gettext_noop("Infectious Disease"),
        gettext_noop("Complex and chronic infections"),
    ),
    ("nephrology", gettext_noop("Nephrology"), gettext_noop("Kidney disease and dialysis")),
    (
        "neurology",
        gettext_noop("Neurology"),
        gettext_noop("Brain, spine and nerves: epilepsy, MS, stroke"),
    ),
    ("neurosurgery", gettext_noop("Neurosurgery"), gettext_noop("Surgery of the brain and spine")),
    (
        "obstetrics-gynecology",
        gettext_noop("Obstetrics and Gynecology"),
        gettext_noop("Pregnancy and women's health"),
    ),
    (
        "oncology",
        gettext_noop("Medical Oncology"),
        gettext_noop("Cancer diagnosis and treatment with medicines"),
    ),
    ("ophthalmology", gettext_noop("Ophthalmology"), gettext_noop("Eyes and vision")),
    (
        "orthopedics",
        gettext_noop("Orthopedic Surgery"),
        gettext_noop("Bones, joints, muscles and sports injuries"),
    ),
    (
        "otolaryngology",
        gettext_noop("Otolaryngology (ENT)"),
        gettext_noop("Ear, nose, throat, head and neck"),
    ),
    (
        "pathology",
        gettext_noop("Pathology"),
        gettext_noop("Review of biopsies and laboratory diagnoses"),
    ),
    ("pediatrics", gettext_noop("Pediatrics"), gettext_noop("Children's health")),
    ("pulmonology", gettext_noop("Pulmonology"), gettext_noop("Lungs and breathing")),
    (
        "radiation-oncology",
        gettext_noop("Radiation Oncology"),
        gettext_noop("Cancer treatment with radiation"),
    ),
    (
        "radiology",
        gettext_noop("Radiology"),
        gettext_noop("Review of scans: CT, MRI, X-ray, ultrasound"),
    ),
    (
        "rheumatology",
        gettext_noop("Rheumatology"),
        gettext_noop("Arthritis, lupus and autoimmune disease"),
    ),
    ("urology", gettext_noop("Urology"), gettext_noop("Kidneys, bladder and prostate")),
    (
        "vascular-surgery",
        gettext_noop("Vascular Surgery"),
        gettext_noop("Surgery of arteries and veins"),
    ),
]

SUBSPECIALTIES = [
    (
        "breast-surgery",
        gettext_noop("Breast Surgery"),
        gettext_noop("Surgery for breast cancer and other breast problems"),
    ),
    (
        "surgical-oncology",
        gettext_noop("Surgical Oncology"),
        gettext_noop("Surgery to remove cancers"),
    ),
    (
        "colorectal-surgery",
        gettext_noop("Colon and Rectal Surgery"),
        gettext_noop("Surgery of the bowel, rectum and anus"),
    ),
    (
        "gynecologic-oncology",
        gettext_noop("Gynecologic Oncology"),
        gettext_noop("Cancers of the ovary, uterus, cervix and vulva"),
    ),
    (
        "neuro-oncology",
        gettext_noop("Neuro-oncology"),
        gettext_noop("Tumors of the brain and spinal cord"),
    ),
    (
        "pediatric-cardiology",
        gettext_noop("Pediatric Cardiology"),
        gettext_noop("Heart problems in children, including heart defects"),
    ),
    (
        "pediatric-oncology",
        gettext_noop("Pediatric Hematology and Oncology"),
        gettext_noop("Cancer and blood disorders in children"),
    ),
    (
        "child-neurology",
        gettext_noop("Child Neurology"),
        gettext_noop("Brain and nerve problems in children"),
    ),
    (
        "interventional-cardiology",
        gettext_noop("Interventional Cardiology"),
        gettext_noop("Stents, angioplasty and valve procedures"),
    ),
    (
        "electrophysiology",
        gettext_noop("Heart Rhythm (Electrophysiology)"),
        gettext_noop("Irregular heartbeat, pacemakers and ablation"),
    ),
    (
        "heart-failure",
        gettext_noop("Heart Failure and Transplant"),
        gettext_noop("Advanced heart failure, heart pumps and transplant"),
    ),
    (
        "hepatology",
        gettext_noop("Hepatology (Liver)"),
        gettext_noop("Liver disease, hepatitis and liver transplant"),
    ),
    (
        "maternal-fetal-medicine",
        gettext_noop("High-Risk Pregnancy"),
        gettext_noop("Maternal-fetal medicine: complicated pregnancies"),
    ),
    (
        "reproductive-endocrinology",
        gettext_noop("Fertility"),
        gettext_noop("Reproductive endocrinology and infertility"),
    ),
    ("spine-surgery", gettext_noop("Spine Surgery"), gettext_noop("Back and neck surgery")),
    (
        "hand-surgery",
        gettext_noop("Hand Surgery"),
        gettext_noop("Hand, wrist and nerve surgery of the arm"),
    ),
    (
        "sports-medicine",
        gettext_noop("Sports Medicine"),
        gettext_noop("Sports injuries of joints, muscles and tendons"),
    ),
]

ALL_SPECIALTIES = SPECIALTIES + SUBSPECIALTIES
