from django import forms
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin

from .models import BODY_MAX_LENGTH
from .services import ANSWERS_ALL, ANSWERS_NONE

MESSAGE, QUESTION, INTERNAL = "message", "question", "internal"


class AttachmentChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, record):
        return f"{record.title} ({record.get_category_display()})"


class MessageForm(CharacterCountMixin, forms.Form):
    """A message to the thread. The care team choose what kind it is; a patient
    with open questions says which one it answers. Only the fields that apply
    to the person are on the form."""

    body = forms.CharField(
        label=_("Your message"),
        max_length=BODY_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write your message")},
    )
    kind = forms.ChoiceField(
        label=_("What are you sending?"),
        widget=forms.RadioSelect,
        initial=MESSAGE,
        choices=[
            (MESSAGE, _("A message to the patient (the care team sees it too)")),
            (
                QUESTION,
                _(
                    "A question the patient needs to answer: it becomes their next step "
                    "until they reply"
                ),
            ),
            (INTERNAL, _("An internal note for the care team: never shown to the patient")),
        ],
        error_messages={
            "required": _("Choose what you are sending"),
            "invalid_choice": _("Choose what you are sending"),
        },
    )
    answers = forms.ChoiceField(
        label=_("Does this answer a question?"),
        widget=forms.RadioSelect,
        initial=ANSWERS_ALL,
        required=False,  # left unanswered, a reply answers what is open (the default)
        error_messages={
            "required": _("Choose whether this answers a question"),
            "invalid_choice": _("That question has been answered already. Choose again."),
        },
    )
    attachments = AttachmentChoice(
        label=_("Attach records (optional)"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="uuid",
        help_text=_(
            "Records already sent for this request. To send a new one, add it on the "
            "records page first."
        ),
        error_messages={
            "invalid_choice": _("One of the records you chose cannot be attached. Choose again.")
        },
    )

    def __init__(self, *args, is_owner: bool, questions=(), attachable=None, **kwargs):
        super().__init__(*args, **kwargs)
        if is_owner:
            del self.fields["kind"]
            self.fields["body"].label = _("Your message to your care team")
        if not is_owner or not questions:
            del self.fields["answers"]
        else:
            if len(questions) == 1:
                # The question itself, not "all": one asked meanwhile stays open.
                only = str(questions[0].uuid)
                choices = [(only, _("Yes: it answers the question above"))]
                self.fields["answers"].initial = only
            else:
                choices = [
                    (ANSWERS_ALL, _("Yes: it answers every question above")),
                    *[
                        (
                            str(q.uuid),
                            _("Only this question: “%(text)s”")
                            % {"text": Truncator(q.body).chars(80)},
                        )
                        for q in questions
                    ],
                ]
            self.fields["answers"].choices = [
                *choices,
                (ANSWERS_NONE, _("Not yet: I will answer later")),
            ]
        if attachable is None or not attachable.exists():
            del self.fields["attachments"]
        else:
            self.fields["attachments"].queryset = attachable

    def message_kwargs(self) -> dict:
        """What message_post needs from the form, once it is valid."""
        data = self.cleaned_data
        kind = data.get("kind", MESSAGE)
        kwargs = {
            "body": data["body"],
            "internal": kind == INTERNAL,
            "question": kind == QUESTION,
            "attachment_refs": [r.uuid for r in data.get("attachments") or []],
        }
        if "answers" in self.fields:
            kwargs["answers"] = data["answers"] or ANSWERS_ALL
        elif "kind" not in self.fields:
            # A patient with no open question: nothing to answer.
            kwargs["answers"] = ANSWERS_NONE
        return kwargs
