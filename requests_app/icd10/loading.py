"""Loading the ICD-10-CM code table from simple-icd-10-cm, and the starting
synonyms. Migrations 0003 and 0004 of requests_app, which created the tables
before they moved to this app, call these with their historical models."""

import warnings

from django.db.models import Model

from .models import Icd10Code, Icd10Synonym
from .search import search_text_for

# Everyday term -> words that ICD-10-CM titles use for the same thing. Migration
# 0004 (requests_app) loads this list into Icd10Synonym; from then on the table, edited in the
# admin, is what search uses. Each pair must mean the same thing wherever the
# wording occurs in a title, because matching is by substring. Left out for
# that reason: kidney -> "renal" (also in "adrenal"), lung -> "pulmonary" (also
# the pulmonary valve and artery, which are heart), high blood pressure ->
# "hypertension" (also portal, pulmonary, ocular, intracranial and venous
# hypertension, none of which is blood pressure), cancer -> "malignant" (also
# "neuroleptic malignant syndrome", "malignant hyperthermia").
STARTING_SYNONYMS: tuple[tuple[str, str], ...] = (
    # Cancer and tumours
    ("cancer", "malignant neoplasm"),
    ("cancer", "carcinoma"),
    ("cancer", "malignant melanoma"),
    ("blood cancer", "leukemia"),
    ("blood cancer", "lymphoma"),
    ("blood cancer", "myeloma"),
    ("tumor", "neoplasm"),
    ("tumour", "neoplasm"),
    ("tumour", "tumor"),
    # Heart and blood vessels
    ("heart", "cardiac"),
    ("heart attack", "myocardial infarction"),
    ("congestive heart failure", "heart failure"),
    ("irregular heartbeat", "arrhythmia"),
    ("high blood pressure", "essential (primary) hypertension"),
    ("high blood pressure", "essential hypertension"),
    ("high blood pressure", "secondary hypertension"),
    ("high blood pressure", "other hypertension"),
    ("high blood pressure", "resistant hypertension"),
    ("high blood pressure", "pre-existing hypertension"),
    ("high blood pressure", "maternal hypertension"),
    ("high blood pressure", "gestational [pregnancy-induced] hypertension"),
    ("high blood pressure", "hypertensive"),
    ("high cholesterol", "hypercholesterolemia"),
    ("blood clot", "thrombosis"),
    ("blood clot", "embolism and thrombosis"),
    ("blood clot", "pulmonary embolism"),
    # Brain and nerves
    ("brain", "cerebral"),
    ("stroke", "cerebral infarction"),
    ("stroke", "nontraumatic intracerebral hemorrhage"),
    ("stroke", "nontraumatic subarachnoid hemorrhage"),
    ("mini stroke", "transient cerebral ischemic attack"),
    ("alzheimers", "alzheimer's disease"),
    ("parkinsons", "parkinson's disease"),
    # Mind
    ("depression", "depressive episode"),
    ("depression", "depressive disorder"),
    ("adhd", "attention-deficit hyperactivity disorder"),
    ("ocd", "obsessive-compulsive disorder"),
    # Hormones and metabolism
    ("sugar diabetes", "diabetes mellitus"),
    ("underactive thyroid", "hypothyroidism"),
    ("overactive thyroid", "hyperthyroidism"),
    # Lungs, gut, liver, kidneys
    ("copd", "chronic obstructive pulmonary disease"),
    ("acid reflux", "gastro-esophageal reflux"),
    ("gerd", "gastro-esophageal reflux disease"),
    ("stomach ulcer", "gastric ulcer"),
    ("ibs", "irritable bowel syndrome"),
    ("crohns", "crohn's disease"),
    ("gallstones", "cholelithiasis"),
    ("liver", "hepatic"),
    ("kidney stones", "calculus of kidney"),
    ("uti", "urinary tract infection"),
    ("bladder infection", "cystitis"),
    ("enlarged prostate", "benign prostatic hyperplasia"),
    ("prostate", "prostatic"),
    ("womb", "uterus"),
    ("womb", "uteri"),
    ("womb", "uterine"),
    # Bones and joints
    ("broken", "fracture"),
    ("slipped disc", "intervertebral disc displacement"),
    # Infections
    ("aids", "human immunodeficiency virus [hiv] disease"),
    ("shingles", "zoster"),
    ("blood poisoning", "sepsis"),
    # British spellings
    ("anaemia", "anemia"),
    ("leukaemia", "leukemia"),
    ("haemorrhage", "hemorrhage"),
    ("oedema", "edema"),
    ("oesophagus", "esophagus"),
    ("diarrhoea", "diarrhea"),
    ("coeliac", "celiac"),
)


def icd10_code_rows() -> list[tuple[str, str]]:
    """Every code except chapters and blocks ("1", "A00-A09"), with its title."""
    with warnings.catch_warnings():
        # It reads its data files through a deprecated importlib.resources API.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd  # ~2.5 s to read its tables: only when loading.

    # 39 categories are also a block of their own ("B20" HIV disease, "C50"
    # breast cancer): they are listed twice and is_chapter_or_block() is true
    # for both, so keep categories explicitly and drop the duplicates.
    codes = dict.fromkeys(
        code
        for code in icd.get_all_codes(with_dots=True)
        if icd.is_category(code) or not icd.is_chapter_or_block(code)
    )
    return [(code, icd.get_description(code)) for code in codes]


def load_icd10_codes(model: type[Model] = Icd10Code, batch_size: int = 5000) -> int:
    """Fill the code table; returns the number of rows added.

    Takes the model class so that a migration can pass its historical model.
    Idempotent: a full table is left alone, a partial one is topped up.
    """
    rows = icd10_code_rows()
    before = model.objects.count()
    if before >= len(rows):
        return 0
    model.objects.bulk_create(
        (
            model(code=code, title=title, search_text=search_text_for(code, title))
            for code, title in rows
        ),
        batch_size=batch_size,
        ignore_conflicts=True,
    )
    return model.objects.count() - before


def load_icd10_synonyms(model: type[Model] = Icd10Synonym) -> int:
    """Add the starting synonyms that are missing; returns the number added.

    Takes the model class so that a migration can pass its historical model.
    """
    # Compared in lower case, like the table's unique constraint.
    existing = {(t.lower(), c.lower()) for t, c in model.objects.values_list("term", "clinical")}
    missing = [pair for pair in STARTING_SYNONYMS if pair not in existing]
    model.objects.bulk_create(model(term=term, clinical=clinical) for term, clinical in missing)
    return len(missing)
