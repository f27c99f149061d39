from django import forms
from django.urls import reverse

from .models import Icd10Code


class Icd10Widget(forms.TextInput):
    """The ICD-10-CM picker: a text input for a code, enhanced by its own script
    into a type-ahead over the code set (static/js/icd10.js)."""

    template_name = "icd10/widget.html"

    class Media:
        js = [forms.Script("js/icd10.js", defer=True)]

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def format_value(self, value):
        return value.code if isinstance(value, Icd10Code) else super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["selected"] = value if isinstance(value, Icd10Code) else None
        # The search keeps its URL (and name) from before this app had its own folder.
        context["widget"]["search_url"] = reverse("requests_app:icd10_search")
        return context
