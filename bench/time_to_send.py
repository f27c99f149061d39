"""How long a patient takes to send a request: a keystroke-level model. See bench/README.md.

    .venv/bin/python bench/time_to_send.py [--pages] [--json]

Renders the live pages with Django's test client against a throwaway SQLite
database (migrated here, deleted at the end), as a signed-in patient who fills
in a realistic breast-cancer request from "Start a new request" to "Send my
request", and adds up (Card, Moran and Newell's keystroke-level model):

    K 0.28 s  a character typed (an average typist; Enter and Tab included)
    P 1.1 s   pointing and clicking/tapping (a field, a choice, a link, a button)
    H 0.4 s   moving a hand between mouse and keyboard (before and after typing)
    M 1.35 s  each field shown: deciding what to answer, or to skip it
    1 s       each page load
    reading   200 words a minute, over the words in <main> a sighted person sees
              (bench/pagetext.py): a page seen before costs only its new words.

Everything is read from the pages: which fields a form shows (conditional
reveals stay closed until their choice is made, as static/js/app.js does),
what each one is prefilled with, where "Save" leads, and how many words each
page holds. Change a form or a page and the figure changes.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

K, P, H, M, LOAD = 0.28, 1.1, 0.4, 1.35, 1.0
WORDS_PER_MINUTE = 200
TARGET_MINUTES = 12

TODAY = datetime.date.today()
TREATMENT_DAY = TODAY + datetime.timedelta(days=40)
DIAGNOSED_DAY = TODAY - datetime.timedelta(days=21)
PATIENT = "Linda Moore"

# A 63-year-old woman asks for herself about early breast cancer; she is
# insured, has no diagnosis code at hand, and wants her own doctor to get the
# report. Answers in the order of the task list; names are the forms' own.
ANSWERS: list[tuple[str, dict]] = [
    ("who", {"relationship": "self"}),
    (
        "about",
        {
            "patient_dob": ("14", "6", "1963"),
            "patient_sex": "female",
            "patient_phone": "617 555 0142",
            "patient_state": "MA",
            "preferred_language": "English",
        },
    ),
    (
        "diagnosis",
        {
            "diagnosis": "Invasive ductal carcinoma of the left breast, stage 2, HER2 negative",
            "diagnosed_on": (
                str(DIAGNOSED_DAY.day),
                str(DIAGNOSED_DAY.month),
                str(DIAGNOSED_DAY.year),
            ),
            "diagnosing_physician": "Dr. Karen Walsh",
            "diagnosing_institution": "Lowell General Hospital",
        },
    ),
    (
        "treatment",
        {
            "proposed_treatment": "Mastectomy of the left breast, then chemotherapy",
            "treatment_started": "no",
            "treatment_date": (
                str(TREATMENT_DAY.day),
                str(TREATMENT_DAY.month),
                str(TREATMENT_DAY.year),
            ),
        },
    ),
    (
        "reasons",
        {
            "reasons": ["compare_treatments", "confirm_diagnosis"],
            "concerns": "Whether I need to lose the whole breast, or whether a lumpectomy with "
            "radiation would work as well for me.",
            "questions": "Is a lumpectomy with radiation safe for me?\n"
            "Do I need chemotherapy before or after surgery?\n"
            "Should I have genetic testing first?",
        },
    ),
    (
        "background",
        {
            "symptoms": "A lump in my left breast since August. No pain.",
            "medications": "Lisinopril 10 mg once a day",
            "allergies": "Penicillin",
            "other_conditions": "High blood pressure",
        },
    ),
    (
        "specialist",
        {
            "specialty": "Medical Oncology",
            "consultation_type": "video",
        },
    ),
    (
        "pcp",
        {
            "pcp_name": "Dr. Ana Reyes",
            "pcp_email": "areyes@example.org",
            "pcp_referred": "yes",
            "pcp_consent_to_share": True,
        },
    ),
    (
        "insurance",
        {
            "payment": "insurance",
            "insurance_carrier": "Blue Cross Blue Shield of Massachusetts",
            "insurance_member_id": "XKB123456789",
            "insurance_policyholder": PATIENT,
        },
    ),
    ("authorisation", {"agree": True, "signature": PATIENT}),
]


@dataclass
class Step:
    page: str
    loads: int = 0
    words: int = 0
    fields: int = 0
    characters: int = 0
    taps: int = 0
    homing: int = 0
    seconds: float = 0.0


class Model:
    def __init__(self):
        self.steps: list[Step] = []
        self.seen: dict[str, list[str]] = {}

    def load(self, name: str, path: str, html: str, chosen: dict | None = None) -> Step:
        """A page load, and reading what is new on it."""
        from bench.pagetext import visible_text, words

        now = words(visible_text(html, chosen))
        before = self.seen.get(path)
        if before is None:
            new = len(now)
        else:
            matcher = difflib.SequenceMatcher(a=before, b=now, autojunk=False)
            new = len(now) - sum(block.size for block in matcher.get_matching_blocks())
        self.seen[path] = now
        step = Step(page=name, loads=1, words=new)
        self.steps.append(step)
        return step

    def totals(self) -> Step:
        total = Step(page="total")
        for step in self.steps:
            for name in ("loads", "words", "fields", "characters", "taps", "homing"):
                setattr(total, name, getattr(total, name) + getattr(step, name))
        for step in [*self.steps, total]:
            step.seconds = round(
                step.loads * LOAD
                + step.words / WORDS_PER_MINUTE * 60
                + step.fields * M
                + step.characters * K
                + step.taps * P
                + step.homing * H,
                1,
            )
        return total


# --- The form on a page ---------------------------------------------------------------
def _controls(form) -> list:
    return [n for n in form.iter() if n.tag in ("input", "select", "textarea")]


def _text_of(node) -> str:
    return "".join(c if isinstance(c, str) else _text_of(c) for c in node.children)


def _value(node) -> str:
    if node.tag == "textarea":
        return _text_of(node).lstrip("\n")
    if node.tag == "select":
        chosen = [o for o in node.iter() if o.tag == "option" and "selected" in o.attrs]
        return chosen[0].attrs.get("value", "") if chosen else ""
    return node.attrs.get("value", "")


def _option_value(select, label: str) -> str:
    for option in select.iter():
        if option.tag == "option" and (
            _text_of(option).strip() == label or option.attrs.get("value") == label
        ):
            return option.attrs.get("value", "")
    raise SystemExit(f"No option {label!r} in {select.attrs.get('name')}")


def fill(form, answers: dict, step: Step) -> dict:
    """The POST data a browser sends after the person gives `answers`, and
    what giving them costs (added to `step`)."""
    from bench.pagetext import visible_to

    controls = _controls(form)
    data: dict[str, list[str]] = {}
    for node in controls:
        name, kind = node.attrs.get("name"), node.attrs.get("type", "text")
        if not name or "disabled" in node.attrs:
            continue
        if kind in ("radio", "checkbox"):
            if "checked" in node.attrs:
                data.setdefault(name, []).append(node.attrs.get("value", "on"))
        else:
            data.setdefault(name, []).append(_value(node))
    # What the page shows once these answers are given (reveals opened).
    chosen = {name: values if len(values) > 1 else values[0] for name, values in data.items()}
    chosen.update({n: ("on" if v is True else v) for n, v in answers.items()})
    by_name: dict[str, list] = {}
    for node in controls:
        if node.attrs.get("name"):
            by_name.setdefault(node.attrs["name"], []).append(node)

    def shown(name: str):
        nodes = [n for n in by_name.get(name, []) if visible_to(n, chosen)]
        if not nodes:
            raise SystemExit(f"{step.page}: the form shows no field {name!r}")
        return nodes

    # Every field shown is a decision (M), answered or skipped: a date's three
    # boxes are one field, a group of radios or checkboxes one.
    groups = set()
    for node in controls:
        name = node.attrs.get("name")
        if (
            name
            and node.attrs.get("type") != "hidden"
            and "disabled" not in node.attrs
            and visible_to(node, chosen)
        ):
            groups.add(re.sub(r"_(day|month|year)$", "", name))
    step.fields += len(groups)

    def typed(text: str, *, tabs: int = 0):
        step.taps += 1
        step.homing += 2
        step.characters += len(text) + tabs

    for name, answer in answers.items():
        if isinstance(answer, tuple):  # a date: day, month, year boxes
            parts = [f"{name}_day", f"{name}_month", f"{name}_year"]
            for part in parts:
                shown(part)
            if [data.get(p, [""])[0] for p in parts] != list(answer):
                typed("".join(answer), tabs=2)
            for part, value in zip(parts, answer, strict=True):
                data[part] = [value]
            continue
        nodes = shown(name)
        kind = nodes[0].attrs.get("type", "text") if nodes[0].tag == "input" else nodes[0].tag
        if kind == "radio":
            if data.get(name) != [answer]:
                step.taps += 1
            data[name] = [answer]
        elif kind == "checkbox" and isinstance(answer, list):
            step.taps += len(set(answer) - set(data.get(name, [])))
            data[name] = list(answer)
        elif kind == "checkbox":
            if (name in data) != bool(answer):
                step.taps += 1
            if answer:
                data[name] = [nodes[0].attrs.get("value", "on")]
            else:
                data.pop(name, None)
        elif kind == "select":
            value = _option_value(nodes[0], answer)
            if data.get(name) != [value]:
                step.taps += 2  # open the list, choose
            data[name] = [value]
        else:
            if data.get(name, [""])[0] != answer:
                typed(answer)
            data[name] = [answer]
    return data


def submit_button(form):
    buttons = [b for b in form.iter() if b.tag == "button" and b.attrs.get("name") == "complete"]
    if not buttons:
        raise SystemExit("No button that saves the section as complete")
    return buttons[0]


def section_path(path: str) -> str | None:
    found = re.search(r"/section/([\w-]+)/$", path)
    return found.group(1) if found else None


def _link(html: str, pattern: str) -> str:
    from bench.pagetext import main_of

    for node in main_of(html).iter():
        if node.tag == "a" and re.search(pattern, node.attrs.get("href", "")):
            return node.attrs["href"]
    raise SystemExit(f"No link to {pattern} on the page")


def walk(client) -> Model:
    from django.urls import reverse

    from bench.pagetext import main_of

    model = Model()
    response = client.get(reverse("requests_app:dashboard"))
    model.load("Your requests", "/requests/", response.content.decode())
    model.steps[-1].taps += 1  # Start a new request
    response = client.post(reverse("requests_app:case_start"), follow=True)
    for key, answers in ANSWERS:
        path = response.request["PATH_INFO"]
        html = response.content.decode()
        if section_path(path) != key:
            if section_path(path) is None and path not in model.seen:
                model.load("Task list", path, html)
            model.steps[-1].taps += 1  # the section's link
            response = client.get(_link(html, rf"/section/{key}/$"))
            path, html = response.request["PATH_INFO"], response.content.decode()
        assert response.status_code == 200, (key, response.status_code)
        step = model.load(
            key, path, html, chosen={k: ("on" if v is True else v) for k, v in answers.items()}
        )
        form = next(
            f
            for f in main_of(html).iter()
            if f.tag == "form" and f.attrs.get("method", "").lower() == "post"
        )
        data = fill(form, answers, step)
        button = submit_button(form)
        data[button.attrs["name"]] = [button.attrs.get("value", "")]
        step.taps += 1
        response = client.post(path, data, follow=True)
        if section_path(response.request["PATH_INFO"]) == key:
            from bench.pagetext import visible_text

            raise SystemExit(f"{key} was refused:\n{visible_text(response.content.decode())}")
        landed = response.request["PATH_INFO"]
        if section_path(landed) is None and not landed.endswith("/check/"):
            model.load("Task list", landed, response.content.decode())
    path, html = response.request["PATH_INFO"], response.content.decode()
    if not path.endswith("/check/"):
        model.steps[-1].taps += 1  # Check your answers and send
        response = client.get(_link(html, r"/check/$"))
        path, html = response.request["PATH_INFO"], response.content.decode()
    step = model.load("Check your answers", path, html)
    if "/submit/" not in html:
        raise SystemExit("The check page offers no way to send:\n" + html)
    step.taps += 1  # Send my request
    response = client.post(_link_form(html), follow=True)
    model.steps.append(Step(page="Sent", loads=1))
    from requests_app.models import Case

    if not Case.objects.exclude(reference="").exists():
        raise SystemExit("The request was not sent")
    return model


def _link_form(html: str) -> str:
    from bench.pagetext import main_of

    for node in main_of(html).iter():
        if node.tag == "form" and "/submit/" in node.attrs.get("action", ""):
            return node.attrs["action"]
    raise SystemExit("No send form")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", action="store_true", help="one line per page")
    parser.add_argument("--json", action="store_true", help="the totals as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="time-to-send-") as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/db.sqlite3"
        os.environ["DJANGO_DEBUG"] = "true"
        os.environ["MEDIA_ROOT"] = f"{tmp}/media"
        for name in ("REDIS_URL", "CACHE_REDIS_URL", "CELERY_BROKER_URL"):
            os.environ.pop(name, None)
        os.environ["LOG_LEVEL"] = "ERROR"
        os.environ["DJANGO_SETTINGS_MODULE"] = "secondop.settings"
        import django

        django.setup()
        from allauth.account.models import EmailAddress
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import override_settings

        from secondop.accounts.models import User

        call_command("migrate", verbosity=0)
        user = User.objects.create_user(
            email="linda@example.invalid", password=None, full_name=PATIENT
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        with override_settings(
            ALLOWED_HOSTS=["testserver"],
            MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}},
        ):
            client = Client()
            client.force_login(user)
            model = walk(client)
    total = model.totals()
    minutes = total.seconds / 60
    if args.json:
        print(json.dumps({**asdict(total), "minutes": round(minutes, 1)}))
        return
    if args.pages:
        print(
            f"{'page':<22}{'loads':>6}{'words':>7}{'fields':>7}{'chars':>7}{'taps':>6}"
            f"{'seconds':>9}"
        )
        for step in [*model.steps, total]:
            print(
                f"{step.page:<22}{step.loads:>6}{step.words:>7}{step.fields:>7}"
                f"{step.characters:>7}{step.taps:>6}{step.seconds:>9.1f}"
            )
    reading = total.words / WORDS_PER_MINUTE
    print(
        f"Time to send a request: {minutes:.1f} minutes ({total.fields} fields, "
        f"{total.characters} characters typed, {total.taps} taps, {total.loads} page loads, "
        f"{total.words} words read: {reading:.1f} minutes of reading). "
        f"Target: under {TARGET_MINUTES} minutes."
    )


if __name__ == "__main__":
    main()
