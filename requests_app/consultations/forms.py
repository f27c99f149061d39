"""The consultation forms. They read what was typed; the services decide what is
allowed (too few times, a past time, overlaps, a taken time, a cancelled
consultation) and their messages come back onto these forms' fields."""

import datetime
import re
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin, DateInputField, character_count

from .models import Status
from .services import EXAM_NOTES_MAX, NOTE_MAX

# "9:30am", "9.30 pm", "2pm", "14:00", "noon".
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(?:(a|p)\.?\s*m\.?)?$")


class TimeOfDayField(forms.Field):
    """A time of day as people write it: "9:30am", "2pm", "14:00", "noon". An
    hour without minutes needs am or pm ("9" could be morning or evening)."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": _("Enter a time like 9:30am, 2pm or 14:00"),
        "ambiguous": _("Say am or pm, for example 9am or 9pm"),
    }

    def widget_attrs(self, widget):
        return {
            **super().widget_attrs(widget),
            "class": "input-width-6",
            "autocomplete": "off",
            "spellcheck": "false",
        }

    def to_python(self, value):
        text = " ".join(str(value or "").lower().split())
        if not text:
            return None
        if text in {"noon", "midday", "12 noon"}:
            return datetime.time(12, 0)
        match = _TIME.match(text)
        if not match:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
        if half:
            if not 1 <= hour <= 12:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            hour = hour % 12 + (12 if half == "p" else 0)
        elif match[2] is None:
            raise ValidationError(self.error_messages["ambiguous"], code="ambiguous")
        if hour > 23 or minute > 59:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return datetime.time(hour, minute)


class _SummaryField:
    """What includes/error_summary.html reads of a field: its label there names
    the time it belongs to ("Time 2: ends at"), while on the form the row's
    heading says so."""

    def __init__(self, bound, label):
        self.auto_id, self.errors, self.label = bound.auto_id, bound.errors, label


class _Summary:
    def __init__(self, form, labels: dict[str, str]):
        self._form, self._labels = form, labels
        self.errors = form.errors

    def non_field_errors(self):
        return self._form.non_field_errors()

    def __iter__(self):
        for bound in self._form:
            yield _SummaryField(bound, self._labels.get(bound.name, bound.label))


class SlotsForm(forms.Form):
    """Up to ROWS times, each a date and a start and end time, in the patient's
    zone; the place for an in-person visit; and, when the times change, why."""

    ROWS = 4

    def __init__(
        self,
        *args,
        zone: ZoneInfo,
        in_person: bool,
        reason: str = "",
        initial_place: str = "",
        **kwargs,
    ):
        """`reason`: "" (no reason asked), "optional" or "required"."""
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.rows = []
        for row in range(1, self.ROWS + 1):
            self.fields[f"date_{row}"] = DateInputField(
                label=_("Date"),
                name=_("the date"),
                required=False,
                help_text=_("For example, 14 7 2026"),
            )
            self.fields[f"start_{row}"] = TimeOfDayField(label=_("Starts at"), required=False)
            self.fields[f"end_{row}"] = TimeOfDayField(label=_("Ends at"), required=False)
            self.rows.append(row)
        if in_person:
            self.fields["place"] = forms.CharField(
                label=_("Where the visit will be"),
                max_length=NOTE_MAX,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=initial_place,
                help_text=_(
                    "The address, the building and floor, and how to find you. The "
                    "patient reads it in SecondOp only, never by email."
                ),
                error_messages={"required": _("Say where the visit will be.")},
            )
        if reason:
            self.fields["reason"] = forms.CharField(
                label=_("Why the time is changing")
                if reason == "required"
                else _("A note for the patient (optional)"),
                required=reason == "required",
                max_length=NOTE_MAX,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("The patient reads this."),
                error_messages={"required": _("Say why the time is changing.")},
            )
        for name in ("place", "reason"):  # added after CharacterCountMixin looked
            if name in self.fields:
                character_count(self.fields[name])

    def row_fields(self):
        return [
            (row, self[f"date_{row}"], self[f"start_{row}"], self[f"end_{row}"])
            for row in self.rows
        ]

    @property
    def summary(self):
        labels = {}
        for row in self.rows:
            labels[f"date_{row}"] = _("Time %(n)s: date") % {"n": row}
            labels[f"start_{row}"] = _("Time %(n)s: starts at") % {"n": row}
            labels[f"end_{row}"] = _("Time %(n)s: ends at") % {"n": row}
        return _Summary(self, labels)

    def clean(self):
        """`self.slots`: the filled rows as aware datetimes in the patient's zone;
        `self.slot_rows[i]`: the row the i-th came from."""
        data = super().clean()
        self.slots, self.slot_rows = [], []
        for row in self.rows:
            names = (f"date_{row}", f"start_{row}", f"end_{row}")
            if any(name in self.errors for name in names):
                continue
            day, start, end = (data.get(name) for name in names)
            if day is None and start is None and end is None:
                continue  # an empty row
            missing = [
                (name, message)
                for name, value, message in (
                    (names[0], day, _("Enter the date")),
                    (names[1], start, _("Enter the time it starts")),
                    (names[2], end, _("Enter the time it ends")),
                )
                if value is None
            ]
            for name, message in missing:
                self.add_error(name, message)
            if missing:
                continue
            self.slots.append(
                (
                    datetime.datetime.combine(day, start, tzinfo=self.zone),
                    datetime.datetime.combine(day, end, tzinfo=self.zone),
                )
            )
            self.slot_rows.append(row)
        return data

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's messages on the fields they are about."""
        for key, messages in errors.items():
            name = None
            if key.startswith("slots."):
                _slots, position, part = key.split(".")
                name = f"{part}_{self.slot_rows[int(position)]}"
            elif key == "slots":
                # "Propose at least two": on the first empty row, where the next goes.
                filled = set(self.slot_rows)
                empty = [row for row in self.rows if row not in filled]
                name = f"date_{empty[0]}" if empty else None
            elif key in self.fields:
                name = key
            for message in messages:
                self.add_error(name, message)


class ChooseForm(forms.Form):
    """The patient's choice among the times offered. Any time of this consultation
    passes here: the service says when it can no longer be chosen."""

    slot = forms.UUIDField(
        label=_("Which time suits you?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose one of the times, or ask for other times."),
            "invalid": _("Choose one of the times, or ask for other times."),
        },
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].widget.choices = list(choices)


class OtherTimesForm(CharacterCountMixin, forms.Form):
    note = forms.CharField(
        label=_("Which days and times suit you?"),
        max_length=NOTE_MAX,
        widget=forms.Textarea,
        help_text=_(
            "For example: “Weekday mornings before 11am” or “Any time on Thursday "
            "or Friday”. Your specialist reads this."
        ),
        error_messages={
            "required": _(
                "Say which days or times suit you, so that your specialist can propose others."
            )
        },
    )


class DeclineForm(CharacterCountMixin, forms.Form):
    note = forms.CharField(
        label=_("Anything your specialist should know? (optional)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea,
        help_text=_("For example, why you no longer want it. Your specialist reads this."),
    )


class CancelForm(CharacterCountMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling?"),
        max_length=NOTE_MAX,
        widget=forms.Textarea,
        help_text=_("The other side reads this."),
        error_messages={"required": _("Say why the consultation is cancelled.")},
    )


class OutcomeForm(CharacterCountMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Did the consultation take place?"),
        widget=forms.RadioSelect,
        choices=[
            (Status.HELD, _("Yes, it took place")),
            (Status.MISSED, _("No, it did not take place")),
        ],
        error_messages={"required": _("Say whether the consultation took place.")},
    )
    notes = forms.CharField(
        label=_("Exam notes"),
        max_length=EXAM_NOTES_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "What you examined and found. Only the care team reads these: never the "
            "patient. Needed when it took place."
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Status.HELD and not (data.get("notes") or "").strip():
            self.add_error("notes", _("Write your exam notes: what you examined and found."))
        return data


class InterpreterForm(forms.Form):
    language = forms.CharField(
        label=_("Language"),
        max_length=60,
        required=False,
        help_text=_("From the patient's request. Correct it if the patient asks."),
    )
    booked = forms.BooleanField(label=_("An interpreter is booked"), required=False)
    name = forms.CharField(
        label=_("Interpreter's name"),
        max_length=150,
        required=False,
        help_text=_("The patient sees it on their consultation page."),
    )


# --- A call between the doctors -------------------------------------------------------------
class DoctorCallRequestForm(CharacterCountMixin, forms.Form):
    """The patient asks for a call between the specialist and one of the doctors
    they sent their report to (with consent that the doctor takes part)."""

    share = forms.ChoiceField(
        label=_("Which doctor should the specialist call?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the doctor the specialist should call."),
            "invalid_choice": _("Choose the doctor the specialist should call."),
        },
    )
    topic = forms.CharField(
        label=_("What should they talk about? (optional)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example, the operation date. The specialist and your doctor read this."),
    )

    def __init__(self, *args, shares=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["share"].choices = [
            (
                str(s.uuid),
                f"{s.recipient_name} ({s.recipient_email})"
                if s.recipient_name
                else s.recipient_email,
            )
            for s in shares
        ]


class DoctorCallBookForm(forms.Form):
    """The doctor's choice among the times offered, and the number to ring."""

    slot = forms.UUIDField(
        label=_("Which time suits you?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose one of the times offered."),
            "invalid": _("Choose one of the times offered."),
        },
    )
    phone = forms.CharField(
        label=_("The number the specialist should ring"),
        max_length=40,
        help_text=_("Your direct line or mobile, with the area code."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("Enter the number the specialist should ring.")},
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].widget.choices = list(choices)


class DoctorCallOutcomeForm(CharacterCountMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Did the call take place?"),
        widget=forms.RadioSelect,
        choices=[("held", _("Yes, we talked")), ("missed", _("No, it did not take place"))],
        error_messages={"required": _("Say whether the call took place.")},
    )
    note = forms.CharField(
        label=_("A short note for the patient"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The patient reads this: what you and their doctor agreed, in plain words."),
        error_messages={"required": _("Write a short note for the patient: they read it.")},
    )
