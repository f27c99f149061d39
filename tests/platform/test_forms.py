"""secondop/forms.py: the GOV.UK date input and character count, through tiny
test-only forms rendered by the site's shared field template."""

from datetime import date
from html.parser import HTMLParser

import pytest
from django import forms
from django.db import models
from django.test.utils import isolate_apps

from secondop.forms import CharacterCountMixin, DateInputField, date_input_formfield


class BirthForm(forms.Form):
    born = DateInputField(
        label="Date of birth", help_text="For example, 27 3 1980", date_of_birth=True
    )


class OptionalDateForm(forms.Form):
    booked = DateInputField(label="When is it booked?", name="the treatment date", required=False)


class NotesForm(CharacterCountMixin, forms.Form):
    notes = forms.CharField(
        label="Diagnosis in your words",
        widget=forms.Textarea,
        max_length=2000,
        help_text="The way your doctor explained it.",
    )
    title = forms.CharField(label="Title", max_length=20, required=False)


def birth_form(day="", month="", year=""):
    return BirthForm({"born_day": day, "born_month": month, "born_year": year})


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed(html):
    parser = _Tags()
    parser.feed(str(html))
    return parser.tags


def tags(html, name):
    return [attrs for tag, attrs in parsed(html) if tag == name]


def by_id(html, element_id):
    [found] = [attrs for _tag, attrs in parsed(html) if attrs.get("id") == element_id]
    return found


# --- Date input -------------------------------------------------------------


def test_it_cleans_day_month_and_year_to_a_date():
    form = birth_form("27", "3", "1980")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["born"] == date(1980, 3, 27)


def test_it_accepts_leading_zeros_and_spaces():
    form = birth_form(" 07 ", "03", "1980 ")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["born"] == date(1980, 3, 7)


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "3", "1980", "Date of birth must include a day"),
        ("27", "", "1980", "Date of birth must include a month"),
        ("27", "3", "", "Date of birth must include a year"),
        ("", "", "1980", "Date of birth must include a day and month"),
        ("", "3", "", "Date of birth must include a day and year"),
        ("27", "", "", "Date of birth must include a month and year"),
    ],
)
def test_it_names_only_the_missing_parts(day, month, year, message):
    form = birth_form(day, month, year)
    assert not form.is_valid()
    assert form.errors["born"] == [message]


def test_it_asks_for_a_required_date_left_empty():
    form = birth_form()
    assert not form.is_valid()
    assert form.errors["born"] == ["Enter date of birth"]


def test_a_form_may_word_the_required_message_its_own_way():
    form = birth_form()
    form.fields["born"].error_messages["required"] = "Enter the patient's date of birth."
    assert form.errors["born"] == ["Enter the patient's date of birth."]


def test_it_returns_none_for_an_optional_date_left_empty():
    form = OptionalDateForm({"booked_day": "", "booked_month": "", "booked_year": ""})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["booked"] is None


def test_it_returns_none_for_an_optional_date_not_sent_at_all():
    form = OptionalDateForm({})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["booked"] is None


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [
        ("31", "2", "1980"),
        ("29", "2", "1981"),
        ("32", "1", "1980"),
        ("0", "1", "1980"),
        ("1", "13", "1980"),
        ("1", "0", "1980"),
        ("1", "1", "0000"),
    ],
)
def test_it_refuses_a_date_that_cannot_be_real(day, month, year):
    form = birth_form(day, month, year)
    assert not form.is_valid()
    assert form.errors["born"] == ["Date of birth must be a real date"]


def test_it_accepts_29_february_in_a_leap_year():
    form = birth_form("29", "2", "1980")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["born"] == date(1980, 2, 29)


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [
        ("ab", "3", "1980"),
        ("1", "xyz", "1980"),
        ("1", "3", "198O"),
        ("31/02/1980", "3", "1980"),
        ("-1", "3", "1980"),
        ("1", "3", "1980 AD"),
    ],
)
def test_it_refuses_letters_and_other_text(day, month, year):
    form = birth_form(day, month, year)
    assert not form.is_valid()
    assert form.errors["born"] == ["Date of birth must be a real date"]


@pytest.mark.parametrize("year", ["80", "198", "19800"])
def test_it_asks_for_a_four_digit_year(year):
    form = birth_form("27", "3", year)
    assert not form.is_valid()
    assert form.errors["born"] == ["Enter the year as 4 digits"]


def test_a_missing_part_is_reported_before_a_short_year():
    form = birth_form("", "3", "80")
    assert form.errors["born"] == ["Date of birth must include a day"]


@pytest.mark.parametrize(
    ("month", "number"),
    [
        ("3", 3),
        ("03", 3),
        ("March", 3),
        ("march", 3),
        ("MARCH", 3),
        ("mar", 3),
        ("Mar.", 3),
        ("Sept", 9),
        ("sept.", 9),
        ("sep", 9),
        ("December", 12),
        ("dec", 12),
    ],
)
def test_it_accepts_the_month_as_a_number_or_a_name(month, number):
    form = birth_form("1", month, "1980")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["born"] == date(1980, number, 1)


def test_it_names_the_date_with_the_name_given():
    form = OptionalDateForm({"booked_day": "1", "booked_month": "3", "booked_year": ""})
    assert form.errors["booked"] == ["The treatment date must include a year"]


def test_it_keeps_what_was_typed_when_the_form_comes_back():
    form = birth_form("31/02/1980", "Febuary", "19x0")
    assert not form.is_valid()
    inputs = {attrs["name"]: attrs.get("value") for attrs in tags(form["born"], "input")}
    assert inputs == {"born_day": "31/02/1980", "born_month": "Febuary", "born_year": "19x0"}


def test_it_keeps_what_was_typed_when_the_date_is_impossible():
    form = birth_form("31", "2", "1980")
    assert not form.is_valid()
    values = [attrs.get("value") for attrs in tags(form["born"], "input")]
    assert values == ["31", "2", "1980"]


def test_it_shows_the_date_it_starts_with():
    form = BirthForm(initial={"born": date(1980, 3, 27)})
    values = [attrs.get("value") for attrs in tags(form["born"], "input")]
    assert values == ["27", "3", "1980"]


def test_the_same_date_typed_again_is_not_a_change():
    form = BirthForm(
        {"born_day": "27", "born_month": "03", "born_year": "1980"},
        initial={"born": date(1980, 3, 27)},
    )
    assert form.has_changed() is False


@isolate_apps("tests")
def test_it_drops_into_a_model_form():
    class Patient(models.Model):
        born = models.DateField("date of birth", null=True, blank=True)
        diagnosed = models.DateField("date diagnosed", null=True, blank=True)
        updated = models.DateTimeField(null=True, blank=True)

        class Meta:
            app_label = "tests"

        def __str__(self):
            return "patient"

    class PatientForm(forms.ModelForm):
        born = DateInputField(label="Date of birth", date_of_birth=True, required=False)

        class Meta:
            model = Patient
            fields = ["born", "diagnosed", "updated"]
            formfield_callback = date_input_formfield

    assert isinstance(PatientForm.base_fields["diagnosed"], DateInputField)
    assert not isinstance(PatientForm.base_fields["updated"], DateInputField)

    form = PatientForm(instance=Patient(born=date(1980, 3, 27), diagnosed=date(2024, 1, 5)))
    assert [a.get("value") for a in tags(form["born"], "input")] == ["27", "3", "1980"]
    assert [a.get("value") for a in tags(form["diagnosed"], "input")] == ["5", "1", "2024"]

    form = PatientForm(
        {
            "born_day": "27",
            "born_month": "mar",
            "born_year": "1980",
            "diagnosed_day": "5",
            "diagnosed_month": "",
            "diagnosed_year": "2024",
        },
        instance=Patient(),
    )
    assert form.errors == {"diagnosed": ["Date diagnosed must include a month"]}
    assert form.cleaned_data["born"] == date(1980, 3, 27)


def test_the_date_renders_as_a_fieldset_tied_to_its_hint_and_error():
    form = birth_form("27", "", "1980")
    form.is_valid()
    html = form["born"].as_field_group()

    assert "<legend>Date of birth</legend>" in html
    [fieldset] = tags(html, "fieldset")
    assert fieldset["aria-describedby"] == "id_born_helptext id_born_error"
    assert "For example, 27 3 1980" in html and by_id(html, "id_born_helptext")
    assert "Date of birth must include a month" in html and by_id(html, "id_born_error")
    assert not tags(html, "script") and " style=" not in html


def test_each_box_has_its_own_label_and_a_numeric_keyboard():
    html = BirthForm()["born"].as_field_group()
    labels = {attrs["for"] for attrs in tags(html, "label")}
    inputs = tags(html, "input")
    assert [attrs["id"] for attrs in inputs] == ["id_born", "id_born_month", "id_born_year"]
    assert labels == {"id_born", "id_born_month", "id_born_year"}
    for text in (">Day</label>", ">Month</label>", ">Year</label>"):
        assert text in html
    assert {attrs["type"] for attrs in inputs} == {"text"}
    assert {attrs["inputmode"] for attrs in inputs} == {"numeric"}
    assert [attrs["autocomplete"] for attrs in inputs] == ["bday-day", "bday-month", "bday-year"]
    assert "input-width-2" in inputs[0]["class"] and "input-width-4" in inputs[2]["class"]


def test_a_date_that_is_not_a_birthday_is_not_autocompleted():
    inputs = tags(OptionalDateForm()["booked"], "input")
    assert all("autocomplete" not in attrs for attrs in inputs)


def test_only_the_missing_part_is_marked_invalid():
    form = birth_form("27", "", "1980")
    form.is_valid()
    invalid = [attrs["name"] for attrs in tags(form["born"], "input") if "aria-invalid" in attrs]
    assert invalid == ["born_month"]


def test_the_whole_date_is_marked_invalid_when_it_cannot_be_real():
    form = birth_form("31", "2", "1980")
    form.is_valid()
    invalid = [attrs["name"] for attrs in tags(form["born"], "input") if "aria-invalid" in attrs]
    assert invalid == ["born_day", "born_month", "born_year"]


def test_an_error_added_by_the_form_marks_the_whole_date():
    form = birth_form("27", "3", "2999")
    form.is_valid()
    form.add_error("born", "Date of birth must be in the past")
    invalid = [attrs["name"] for attrs in tags(form["born"], "input") if "aria-invalid" in attrs]
    assert invalid == ["born_day", "born_month", "born_year"]


# --- Character count ----------------------------------------------------------


def test_a_long_textarea_has_no_maxlength_so_nothing_is_cut_off():
    html = NotesForm()["notes"].as_field_group()
    [textarea] = tags(html, "textarea")
    assert "maxlength" not in textarea
    assert textarea["data-maxlength"] == "2000"


def test_it_says_how_many_characters_can_be_entered_and_ties_it_to_the_textarea():
    html = NotesForm()["notes"].as_field_group()
    [textarea] = tags(html, "textarea")
    assert "You can enter up to 2,000 characters" in html
    assert by_id(html, "id_notes_info")
    assert textarea["aria-describedby"] == "id_notes_helptext id_notes_info"


def test_the_counter_carries_the_strings_the_script_shows():
    info = by_id(NotesForm()["notes"].as_field_group(), "id_notes_info")
    assert info["data-remaining-one"] == "You have %{count} character remaining"
    assert info["data-remaining-other"] == "You have %{count} characters remaining"
    assert info["data-over-one"] == "You have %{count} character too many"
    assert info["data-over-other"] == "You have %{count} characters too many"


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (2001, "You have 1 character too many"),
        (2002, "You have 2 characters too many"),
        (3234, "You have 1,234 characters too many"),
    ],
)
def test_text_over_the_limit_says_how_many_characters_too_many(length, message):
    form = NotesForm({"notes": "a" * length})
    assert not form.is_valid()
    assert form.errors["notes"] == [message]


def test_text_over_the_limit_is_kept_in_full_when_the_form_comes_back():
    text = "Diagnosed in March. " * 200 + "The end."
    form = NotesForm({"notes": text})
    assert not form.is_valid()
    html = form["notes"].as_field_group()
    assert text in html
    [textarea] = tags(html, "textarea")
    assert textarea["aria-invalid"] == "true"
    assert textarea["aria-describedby"] == "id_notes_helptext id_notes_error id_notes_info"


def test_text_at_the_limit_is_accepted():
    form = NotesForm({"notes": "a" * 2000})
    assert form.is_valid(), form.errors


def test_a_line_break_counts_as_one_character_as_in_the_browser():
    form = NotesForm({"notes": "a" + "\r\na" * 999})  # 1,999 characters as typed
    assert form.is_valid(), form.errors
    form = NotesForm({"notes": "a" + "\r\na" * 1000})
    assert form.errors["notes"] == ["You have 1 character too many"]


def test_a_single_line_input_keeps_its_maxlength():
    [field] = tags(NotesForm()["title"], "input")
    assert field["maxlength"] == "20"
    assert "data-maxlength" not in field
