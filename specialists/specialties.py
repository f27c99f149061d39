"""The specialties list a patient chooses from, loaded by migrations 0002 and 0007
and kept in code for tests. The first list is the broad fields; the second the
subspecialties people are commonly sent to, each mapped onto the board
certifications that practise it (specialists/data/abms_certifications.json,
"specialties"). A patient may also answer "I'm not sure" (Case.specialty_unsure):
the coordinator then chooses at triage."""

SPECIALTIES = [
    ("allergy-immunology", "Allergy and Immunology", "Allergies, asthma, immune disorders"),
    ("cardiology", "Cardiology", "Heart and blood vessels"),
    ("cardiothoracic-surgery", "Cardiothoracic Surgery", "Surgery of the heart, lungs and chest"),
    ("dermatology", "Dermatology", "Skin, hair and nails, including skin cancer"),
    ("endocrinology", "Endocrinology", "Diabetes, thyroid and hormone disorders"),
    ("gastroenterology", "Gastroenterology", "Digestive system, liver and pancreas"),
    ("general-surgery", "General Surgery", "Abdominal, hernia, breast and other surgery"),
    ("hematology", "Hematology", "Blood disorders and blood cancers"),
    ("infectious-disease", "Infectious Disease", "Complex and chronic infections"),
    ("nephrology", "Nephrology", "Kidney disease and dialysis"),
    ("neurology", "Neurology", "Brain, spine and nerves: epilepsy, MS, stroke"),
    ("neurosurgery", "Neurosurgery", "Surgery of the brain and spine"),
    ("obstetrics-gynecology", "Obstetrics and Gynecology", "Pregnancy and women's health"),
    ("oncology", "Medical Oncology", "Cancer diagnosis and treatment with medicines"),
    ("ophthalmology", "Ophthalmology", "Eyes and vision"),
    ("orthopedics", "Orthopedic Surgery", "Bones, joints, muscles and sports injuries"),
    ("otolaryngology", "Otolaryngology (ENT)", "Ear, nose, throat, head and neck"),
    ("pathology", "Pathology", "Review of biopsies and laboratory diagnoses"),
    ("pediatrics", "Pediatrics", "Children's health"),
    ("pulmonology", "Pulmonology", "Lungs and breathing"),
    ("radiation-oncology", "Radiation Oncology", "Cancer treatment with radiation"),
    ("radiology", "Radiology", "Review of scans: CT, MRI, X-ray, ultrasound"),
    ("rheumatology", "Rheumatology", "Arthritis, lupus and autoimmune disease"),
    ("urology", "Urology", "Kidneys, bladder and prostate"),
    ("vascular-surgery", "Vascular Surgery", "Surgery of arteries and veins"),
]

SUBSPECIALTIES = [
    ("breast-surgery", "Breast Surgery", "Surgery for breast cancer and other breast problems"),
    ("surgical-oncology", "Surgical Oncology", "Surgery to remove cancers"),
    ("colorectal-surgery", "Colon and Rectal Surgery", "Surgery of the bowel, rectum and anus"),
    (
        "gynecologic-oncology",
        "Gynecologic Oncology",
        "Cancers of the ovary, uterus, cervix and vulva",
    ),
    ("neuro-oncology", "Neuro-oncology", "Tumors of the brain and spinal cord"),
    (
        "pediatric-cardiology",
        "Pediatric Cardiology",
        "Heart problems in children, including heart defects",
    ),
    (
        "pediatric-oncology",
        "Pediatric Hematology and Oncology",
        "Cancer and blood disorders in children",
    ),
    ("child-neurology", "Child Neurology", "Brain and nerve problems in children"),
    (
        "interventional-cardiology",
        "Interventional Cardiology",
        "Stents, angioplasty and valve procedures",
    ),
    (
        "electrophysiology",
        "Heart Rhythm (Electrophysiology)",
        "Irregular heartbeat, pacemakers and ablation",
    ),
    (
        "heart-failure",
        "Heart Failure and Transplant",
        "Advanced heart failure, heart pumps and transplant",
    ),
    ("hepatology", "Hepatology (Liver)", "Liver disease, hepatitis and liver transplant"),
    (
        "maternal-fetal-medicine",
        "High-Risk Pregnancy",
        "Maternal-fetal medicine: complicated pregnancies",
    ),
    ("reproductive-endocrinology", "Fertility", "Reproductive endocrinology and infertility"),
    ("spine-surgery", "Spine Surgery", "Back and neck surgery"),
    ("hand-surgery", "Hand Surgery", "Hand, wrist and nerve surgery of the arm"),
    ("sports-medicine", "Sports Medicine", "Sports injuries of joints, muscles and tendons"),
]

ALL_SPECIALTIES = SPECIALTIES + SUBSPECIALTIES
