"""The words of the first records checklists (records migration 0002), in the
translation catalogue: they are data, stored in English and shown in the reader's
language (GatherList.name_read, GatherItem.title_read and why_read). A list an
administrator writes later is shown as written."""

from django.utils.translation import gettext_noop

WORDS = [
    gettext_noop("Cancers"),
    gettext_noop("The pathology report from your biopsy or surgery"),
    gettext_noop(
        "It is how the cancer was diagnosed: what kind it is, its grade and its markers. It is the most important document for a second opinion."
    ),
    gettext_noop("The biopsy slides or tissue blocks"),
    gettext_noop(
        "Many specialists have their own pathologists look at the tissue again. This is where a diagnosis is most often refined."
    ),
    gettext_noop("Your scans as images (DICOM, from the CD) and their reports"),
    gettext_noop(
        "The pictures themselves, not only the written report, let the specialist see the size and spread of the cancer for themselves."
    ),
    gettext_noop("Operative notes, if you had surgery"),
    gettext_noop("They say what the surgeon found and what was removed."),
    gettext_noop("Recent lab results"),
    gettext_noop(
        "Blood tests show how your organs are working, which decides which treatments are safe for you."
    ),
    gettext_noop("Your doctor's notes with the treatment plan"),
    gettext_noop(
        "They explain the treatment your doctor recommends: that is what the specialist gives an opinion on."
    ),
    gettext_noop("Heart conditions"),
    gettext_noop("Echocardiogram report (and images if you have them)"),
    gettext_noop("It shows how well your heart pumps and how the valves work."),
    gettext_noop("ECG (heart tracing)"),
    gettext_noop("It records your heart's rhythm, which matters for many treatment choices."),
    gettext_noop("Cardiac catheterisation report"),
    gettext_noop(
        "It shows any narrowing of the heart's arteries. It is needed before deciding on stents or surgery."
    ),
    gettext_noop("Stress test results"),
    gettext_noop("They show how your heart copes with effort."),
    gettext_noop("Your cardiologist's notes and your list of medicines"),
    gettext_noop("They explain the treatment proposed and what you already take."),
    gettext_noop("Any diagnosis"),
    gettext_noop("Your doctor's notes with the diagnosis and treatment plan"),
    gettext_noop(
        "They say what your doctor found and what they recommend: that is what the specialist gives an opinion on."
    ),
    gettext_noop("Test results"),
    gettext_noop("Lab results show what the diagnosis is based on."),
    gettext_noop("Scans and their reports"),
    gettext_noop(
        "The specialist can look at the images themselves, not only at someone else's description of them."
    ),
    gettext_noop("Pathology reports, if you had a biopsy"),
    gettext_noop("They describe what was seen in tissue under the microscope."),
    gettext_noop("Any earlier second opinion"),
    gettext_noop(
        "It saves the specialist repeating work, and shows where doctors already disagree."
    ),
]
