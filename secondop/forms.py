"""Form pieces shared by every app: the GOV.UK date input and character count.

Platform level: nothing here imports a domain app. Both follow the GOV.UK
Design System (design-system.service.gov.uk/components/date-input/ and
/character-count/), because people fill these forms in under stress and the
patterns are tested with people who use assistive technology.
"""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.forms.boundfield import BoundField
from django.utils.dates import MONTHS, MONTHS_3, MONTHS_AP
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

PARTS = ("day", "month", "year")
PART_LABELS = {"day": _("Day"), "month": _("Month"), "year": _("Year")}

# Passed from DateInputBoundField to DateInputWidget through the render attrs,
# and removed there, so that it never reaches the HTML.
_INVALID_PARTS = "invalid_parts"


class DateInputWidget(forms.MultiWidget):
    """Day, Month and Year as three short text boxes in a fieldset.

    Text boxes, not <input type="date">: the browser's date picker shows
    mm/dd/yyyy or dd/mm/yyyy depending on the machine, is hard to use with a
    screen reader, and is slow for a date people know by heart.
    `date_of_birth=True` lets browsers fill in the person's own birthday.
    """

    template_name = "django/forms/widgets/date_input.html"

    def __init__(self, attrs=None, *, date_of_birth: bool = False):
        def part(name: str, width: int) -> forms.TextInput:
            part_attrs = {"class": f"date-input-input input-width-{width}", "inputmode": "numeric"}
            if date_of_birth:
                part_attrs["autocomplete"] = f"bday-{name}"
            return forms.TextInput(part_attrs)

        super().__init__(
            {"day": part("day", 2), "month": part("month", 2), "year": part("year", 4)}, attrs
        )

    def decompress(self, value):
        if isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
        if isinstance(value, datetime.date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def get_context(self, name, value, attrs):
        attrs = dict(attrs or {})
        invalid_parts = attrs.pop(_INVALID_PARTS, PARTS)
        context = super().get_context(name, value, attrs)
        field_id = context["widget"]["attrs"].get("id")
        for part, subwidget in zip(PARTS, context["widget"]["subwidgets"], strict=True):
            subwidget["label"] = PART_LABELS[part]
            if field_id:
                # Day carries the field's own id, so the error summary's link
                # (#id_<name>) lands in the first box.
                subwidget["attrs"]["id"] = field_id if part == "day" else f"{field_id}_{part}"
            if part not in invalid_parts:
                subwidget["attrs"].pop("aria-invalid", None)
        return context


class DateInputBoundField(BoundField):
    """Marks only the box(es) in error, as GOV.UK asks: the month when the month
    is missing, the whole date when the date itself is wrong."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if attrs.get("aria-invalid"):
            parts = set()
            for error in self.errors.as_data():
                parts.update((getattr(error, "params", None) or {}).get("parts", PARTS))
            attrs[_INVALID_PARTS] = parts
        return attrs


class DateInputField(forms.Field):
    """A date typed as Day, Month and Year; cleans to a `datetime.date`, or None
    when all three are empty and the field is not required.

    Error messages name the date: `name` ("date of birth") if given, otherwise
    the label in lower case. The month may be a number or a month name
    ("3", "03", "March", "mar", "Sept."). What was typed is shown again as it
    was when the form comes back with errors.
    """

    widget = DateInputWidget
    bound_field_class = DateInputBoundField
    default_error_messages = {
        "required": _("Enter %(name)s"),
        "missing_day": _("%(name)s must include a day"),
        "missing_month": _("%(name)s must include a month"),
        "missing_year": _("%(name)s must include a year"),
        "missing_day_month": _("%(name)s must include a day and month"),
        "missing_day_year": _("%(name)s must include a day and year"),
        "missing_month_year": _("%(name)s must include a month and year"),
        "year_digits": _("Enter the year as 4 digits"),
        "invalid": _("%(name)s must be a real date"),
    }

    def __init__(self, *, name=None, date_of_birth: bool = False, **kwargs):
        self.name = name
        kwargs["widget"] = kwargs.get("widget") or DateInputWidget(date_of_birth=date_of_birth)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):  # data that did not come from DateInputWidget
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                raise self._error("invalid", PARTS) from None
        day, month, year = ([str(part or "").strip() for part in value] + ["", "", ""])[:3]
        if not (day or month or year):
            return None
        missing = [part for part, text in zip(PARTS, (day, month, year), strict=True) if not text]
        if missing:
            raise self._error("missing_" + "_".join(missing), missing)
        # GOV.UK's order: anything missing, then a short year, then a date that
        # cannot be right.
        if re.fullmatch(r"\d+", year) and len(year) != 4:
            raise self._error("year_digits", ["year"])
        day_number, month_number = _day(day), _month(month)
        wrong = [
            part
            for part, ok in zip(
                PARTS, (day_number, month_number, re.fullmatch(r"\d{4}", year)), strict=True
            )
            if not ok
        ]
        if wrong:
            raise self._error("invalid", wrong)
        try:
            return datetime.date(int(year), month_number, day_number)
        except ValueError:  # 31 February, or year 0000
            raise self._error("invalid", PARTS) from None

    def validate(self, value):
        if value is None and self.required:
            raise self._error("required", PARTS)

    def _error(self, code: str, parts) -> ValidationError:
        name = str(self.name or str(self.label or _("date")).rstrip("?").lower())
        # Formatted here, then capitalised, so that a translation may put the
        # name anywhere in the sentence. "%" is doubled because Django formats
        # the message once more with `params`.
        message = capfirst(self.error_messages[code] % {"name": name}).replace("%", "%%")
        return ValidationError(message, code=code, params={"parts": tuple(parts)})


def _day(text: str) -> int | None:
    if re.fullmatch(r"\d{1,2}", text) and 1 <= int(text) <= 31:
        return int(text)
    return None


def _month(text: str) -> int | None:
    if re.fullmatch(r"\d{1,2}", text):
        return int(text) if 1 <= int(text) <= 12 else None
    # Names in the language the page is shown in: "March", "mar", "Sept.".
    wanted = text.rstrip(".").casefold()
    for number in range(1, 13):
        names = (MONTHS[number], MONTHS_3[number], MONTHS_AP[number])
        if wanted in {str(name).rstrip(".").casefold() for name in names}:
            return number
    return None


def date_input_formfield(db_field, **kwargs):
    """A ModelForm's `Meta.formfield_callback`: every model DateField (not
    DateTimeField) gets the GOV.UK date input. `Meta.field_classes` still wins."""
    if isinstance(db_field, models.DateField) and not isinstance(db_field, models.DateTimeField):
        kwargs.setdefault("form_class", DateInputField)
    return db_field.formfield(**kwargs)


class CharacterLimitValidator(MaxLengthValidator):
    """ "You have 1,234 characters too many", instead of Django's "Ensure this
    value has at most 2000 characters (it has 3234)."

    A line break counts as one character, as it does in the browser's count:
    browsers send it as CR LF.
    """

    def clean(self, x):
        return len(x.replace("\r\n", "\n"))

    def __call__(self, value):
        length = self.clean(value)
        too_many = length - self.limit_value
        if too_many > 0:
            raise ValidationError(
                ngettext(
                    "You have %(count)s character too many",
                    "You have %(count)s characters too many",
                    too_many,
                ),
                code=self.code,
                params={
                    "count": number_format(too_many, force_grouping=True),
                    "limit_value": self.limit_value,
                    "show_value": length,
                    "value": value,
                },
            )


class CharacterCountBoundField(BoundField):
    """Ties the "You can enter up to 2,000 characters" hint (rendered by
    django/forms/field.html) to the textarea."""

    @property
    def aria_describedby(self):
        ids = super().aria_describedby
        if ids is None or not self.auto_id:  # None: the widget sets its own
            return ids
        return f"{ids} {self.auto_id}_info".strip()


def character_count(field: forms.Field) -> None:
    """Give a textarea with a max_length the GOV.UK character count: no
    `maxlength` (the browser would silently cut a long paste), a
    `data-maxlength` for static/js/app.js, and the "too many" message.

    Call it once the field's widget is final. Other fields are left alone.
    """
    if not (
        isinstance(field, forms.CharField)
        and field.max_length
        and isinstance(field.widget, forms.Textarea)
    ):
        return
    field.widget.attrs.pop("maxlength", None)
    field.widget.attrs["data-maxlength"] = field.max_length
    field.validators = [
        CharacterLimitValidator(field.max_length)
        if isinstance(validator, MaxLengthValidator) and validator.limit_value == field.max_length
        else validator
        for validator in field.validators
    ]
    if field.bound_field_class is None:
        field.bound_field_class = CharacterCountBoundField


class CharacterCountMixin:
    """Put first in a form's bases: `class MyForm(CharacterCountMixin, forms.ModelForm)`.
    Every textarea with a max_length gets the character count."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            character_count(field)
