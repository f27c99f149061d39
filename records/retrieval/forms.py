"""The forms of records retrieval. They read what was typed; the services decide
what is allowed (at least one way to reach the records office, a signature that
matches, a request not yet sent) and their messages come back onto these fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin, DateInputField

from .models import Kind, Received, SentBy, Wanted
from .services import (
    ADDRESS_MAX,
    CONTACT_MISSING,
    NAME_MAX,
    NOTE_MAX,
    names_match,
    signature_mismatch,
)


class SourceForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the hospital, clinic or lab"),
        max_length=NAME_MAX,
        error_messages={"required": _("Enter the name of the hospital, clinic or lab.")},
    )
    kind = forms.ChoiceField(
        label=_("What kind of place is it?"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of place it is.")},
    )
    email = forms.EmailField(
        label=_("Records office email (optional)"),
        required=False,
        max_length=254,
        error_messages={"invalid": _("Enter the email address like name@hospital.org.")},
    )
    fax = forms.CharField(
        label=_("Records office fax number (optional)"), required=False, max_length=30
    )
    postal_address = forms.CharField(
        label=_("Postal address (optional)"),
        required=False,
        max_length=ADDRESS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    wanted = forms.MultipleChoiceField(
        label=_("What should we ask them for?"),
        choices=Wanted.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one kind of record to ask for.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.fields["fax"].widget.attrs.update({"autocomplete": "off", "inputmode": "tel"})
        self.fields["email"].help_text = _(
            "Give at least one way to reach its records office: email, fax or post. The "
            "hospital's website or your patient portal usually lists them under “Medical "
            "records” or “Release of information”."
        )

    def clean(self):
        data = super().clean()
        if not any(data.get(f) for f in ("email", "fax", "postal_address")) and not any(
            f in self.errors for f in ("email", "fax", "postal_address")
        ):
            # Said with the other problems at once (the service says it too).
            self.add_error(None, CONTACT_MISSING)
        return data


class SignForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read this request and I want it sent"),
        error_messages={"required": _("Tick the box to show you agree to the request.")},
    )
    signature = forms.CharField(
        label=_("Type the patient's full name to sign"),
        max_length=150,
        error_messages={"required": _("Type the patient's full name to sign.")},
    )

    def __init__(self, *args, name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signature"].help_text = _("Type it exactly as: %(name)s") % {"name": name}
        self.fields["signature"].widget.attrs["autocomplete"] = "off"
        self.name = name

    def clean_signature(self):
        typed = self.cleaned_data["signature"]
        if not names_match(typed, self.name):
            raise forms.ValidationError(signature_mismatch(self.name))
        return typed


class SendForm(forms.Form):
    """Email it (SecondOp sends it), or say it was faxed or posted and when."""

    how = forms.ChoiceField(
        label=_("How is it sent?"),
        choices=[
            (SentBy.EMAIL, _("Email it to the records office now")),
            (SentBy.FAX, _("I faxed it")),
            (SentBy.POST, _("I posted it")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the request is sent.")},
    )
    sent_on = DateInputField(
        label=_("Day it was faxed or posted"), required=False, name=_("the day it was sent")
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("how") in (SentBy.FAX, SentBy.POST)
            and not data.get("sent_on")
            and "sent_on" not in self.errors
        ):
            self.add_error("sent_on", _("Enter the day it was faxed or posted."))
        return data


class ExtendForm(CharacterCountMixin, forms.Form):
    reason = forms.CharField(
        label=_("The reason the records office gave"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Enter the reason the records office gave.")},
    )


class ReceivedForm(CharacterCountMixin, forms.Form):
    received = forms.ChoiceField(
        label=_("What has arrived?"),
        choices=[(Received.PARTLY, _("Part of it")), (Received.FULLY, _("All of it"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether part or all of it arrived.")},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: “Pathology report received; slides still to come.”"),
    )
