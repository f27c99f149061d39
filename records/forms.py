from django import forms
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin

from .models import Category


class RecordRequestForm(CharacterCountMixin, forms.Form):
    note = forms.CharField(
        label=_("What do you need from the patient?"),
        max_length=500,
        widget=forms.Textarea,
        help_text=_(
            "Write it for the patient, in plain words. For example: “Your biopsy pathology "
            "report from March”."
        ),
        error_messages={"required": _("Say what is needed.")},
    )
    category = forms.ChoiceField(
        label=_("Kind of record (optional)"),
        required=False,
        choices=[("", _("Any")), *Category.choices],
    )


class SmartLinkForm(forms.Form):
    link = forms.CharField(
        label=_("The SMART Health Link"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "It starts with “shlink:/”, or is a web address with “#shlink:/” in it. Copy "
            "and paste the whole of it."
        ),
        error_messages={"required": _("Paste the link you were given.")},
    )
    passcode = forms.CharField(
        label=_("Passcode (if you were given one)"),
        required=False,
        max_length=100,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    category = forms.ChoiceField(
        label=_("Kind of record"),
        choices=[c for c in Category.choices if c[0] != Category.SPECIALIST_REPORT],
        initial=Category.RECORDS,
    )
