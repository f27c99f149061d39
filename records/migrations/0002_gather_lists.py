"""The first records checklists: cancers, heart conditions and a default. They are
data: coordinators' admins change them in the admin without a release."""

from django.db import migrations

SLIDES_ADDRESS = ("SecondOp Pathology Review\n100 Summer Street, Suite 1200\n"
                  "Boston, MA 02110")

LISTS = [
    ("Cancers", "C, D0, D37, D38, D39, D4", [
        ("The pathology report from your biopsy or surgery", "pathology",
         "It is how the cancer was diagnosed: what kind it is, its grade and its markers. "
         "It is the most important document for a second opinion.", ""),
        ("The biopsy slides or tissue blocks", "pathology",
         "Many specialists have their own pathologists look at the tissue again. This is where "
         "a diagnosis is most often refined.", SLIDES_ADDRESS),
        ("Your scans as images (DICOM, from the CD) and their reports", "imaging",
         "The pictures themselves, not only the written report, let the specialist see the "
         "size and spread of the cancer for themselves.", ""),
        ("Operative notes, if you had surgery", "operative",
         "They say what the surgeon found and what was removed.", ""),
        ("Recent lab results", "labs",
         "Blood tests show how your organs are working, which decides which treatments are "
         "safe for you.", ""),
        ("Your doctor's notes with the treatment plan", "records",
         "They explain the treatment your doctor recommends: that is what the specialist gives "
         "an opinion on.", ""),
    ]),
    ("Heart conditions", "I", [
        ("Echocardiogram report (and images if you have them)", "imaging",
         "It shows how well your heart pumps and how the valves work.", ""),
        ("ECG (heart tracing)", "labs",
         "It records your heart's rhythm, which matters for many treatment choices.", ""),
        ("Cardiac catheterisation report", "operative",
         "It shows any narrowing of the heart's arteries. It is needed before deciding on "
         "stents or surgery.", ""),
        ("Stress test results", "labs",
         "They show how your heart copes with effort.", ""),
        ("Your cardiologist's notes and your list of medicines", "records",
         "They explain the treatment proposed and what you already take.", ""),
    ]),
    ("Any diagnosis", "", [
        ("Your doctor's notes with the diagnosis and treatment plan", "records",
         "They say what your doctor found and what they recommend: that is what the specialist "
         "gives an opinion on.", ""),
        ("Test results", "labs",
         "Lab results show what the diagnosis is based on.", ""),
        ("Scans and their reports", "imaging",
         "The specialist can look at the images themselves, not only at someone else's "
         "description of them.", ""),
        ("Pathology reports, if you had a biopsy", "pathology",
         "They describe what was seen in tissue under the microscope.", ""),
        ("Any earlier second opinion", "prior_opinion",
         "It saves the specialist repeating work, and shows where doctors already disagree.", ""),
    ]),
]


def add_lists(apps, schema_editor):
    GatherList = apps.get_model("records", "GatherList")
    GatherItem = apps.get_model("records", "GatherItem")
    for name, prefixes, items in LISTS:
        checklist, _ = GatherList.objects.get_or_create(name=name, defaults={"icd10_prefixes": prefixes})
        for order, (title, category, why, address) in enumerate(items):
            GatherItem.objects.get_or_create(
                checklist=checklist, title=title,
                defaults={"order": order, "category": category, "why": why,
                          "send_by_post": address})


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(add_lists, migrations.RunPython.noop)]
