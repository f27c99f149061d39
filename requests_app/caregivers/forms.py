from django import forms
from django.utils.translation import gettext_lazy as _

RIGHT_FIELDS = ("messages", "consultations", "report")


class _RightsForm(forms.Form):
    cases = forms.MultipleChoiceField(
        label=_("Which of your requests they follow"),
        help_text=_("They see its status and what has happened so far."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one of your requests")},
    )
    messages = forms.BooleanField(
        label=_("Read and write messages to your care team"), required=False
    )
    consultations = forms.BooleanField(label=_("Join your consultations"), required=False)
    report = forms.BooleanField(label=_("Read and download the report"), required=False)

    def __init__(self, *args, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cases"].choices = [
            (str(case.uuid), _("Request %(ref)s") % {"ref": case.reference}) for case in cases
        ]
        if len(cases) == 1 and not self.is_bound:
            self.fields["cases"].initial = [str(cases[0].uuid)]

    def rights(self) -> dict:
        data = self.cleaned_data
        return {
            "case_refs": data["cases"],
            **{field: data.get(field, False) for field in RIGHT_FIELDS},
        }


class InviteForm(_RightsForm):
    name = forms.CharField(
        label=_("Their name"),
        max_length=150,
        error_messages={"required": _("Enter the name of the person you are inviting")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Their email address"),
        help_text=_("We email them a link to create an account or sign in."),
        error_messages={
            "required": _("Enter their email address"),
            "invalid": _("Enter an email address like name@example.com"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    field_order = ["name", "email", "cases", "messages", "consultations", "report"]

    def invite_kwargs(self) -> dict:
        return {
            "name": self.cleaned_data["name"],
            "email": self.cleaned_data["email"],
            **self.rights(),
        }


class ChangeForm(_RightsForm):
    pass
