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
