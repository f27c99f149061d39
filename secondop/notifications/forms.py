from django import forms

from .registry import label


class EmailPreferencesForm(forms.Form):
    def __init__(self, *args, current: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, on in current.items():
            self.fields[kind] = forms.BooleanField(label=label(kind), required=False, initial=on)
