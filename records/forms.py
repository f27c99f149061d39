from django import forms
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin

from . import smart_links
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
    """The link pasted, or a picture of its QR code (read here, never kept)."""

    link = forms.CharField(
        label=_("The SMART Health Link"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "It starts with “shlink:/”, or is a web address with “#shlink:/” in it. Copy "
            "and paste the whole of it."
        ),
    )
    picture = forms.FileField(
        label=_("Or a picture of its QR code"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_(
            "A screenshot or a photo (PNG or JPEG) with the whole code in view. We read "
            "the link from it and do not keep the picture."
        ),
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

    def clean(self):
        data = super().clean()
        picture = data.get("picture")
        if data.get("link") or "link" in self.errors:
            return data
        if picture is None:
            if "picture" not in self.errors:
                self.add_error(
                    "link", _("Paste the link you were given, or choose a picture of its QR code.")
                )
            return data
        try:
            data["link"] = smart_links.link_from_picture(picture, size=picture.size)
        except smart_links.SmartLinkUnreadable as error:
            self.add_error("picture", error.message)
        return data
