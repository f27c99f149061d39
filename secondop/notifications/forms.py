from django import forms

from .models import Kind


class EmailPreferencesForm(forms.Form):
    def __init__(self, *args, current: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, on in current.items():
            self.fields[kind] = forms.BooleanField(
                label=Kind(kind).label, required=False, initial=on
            )
