"""Messages on a case. `MessageFactory(case=case, author=user)` is a plain message;
`internal=True` a care-team note, `is_question=True` a question to the patient."""

import factory

from requests_app.messaging.models import Message


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message
        skip_postgeneration_save = True

    case = factory.SubFactory("tests.requests_app.factories.CaseFactory", submitted=True)
    author = factory.SelfAttribute("case.owner")
    body = factory.Sequence(lambda n: f"Message number {n}")
