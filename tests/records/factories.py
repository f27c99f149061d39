"""Records in every state. `RecordFactory(case=case)` is a verified single PDF
whose bytes are in storage; `pending=True` is a fresh upload slot with nothing
uploaded yet."""

import datetime
import hashlib
import uuid

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from records.models import Record, RecordFile, RecordRequest

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record
        skip_postgeneration_save = True

    class Params:
        pending = factory.Trait(state="pending", mime="", sha256="", uploaded_at=None)

    case = factory.SubFactory("tests.requests_app.factories.CaseFactory", submitted=True)
    uploaded_by = factory.SelfAttribute("case.owner")
    category = "pathology"
    title = factory.Sequence(lambda n: f"Biopsy report {n}")
    service_date = datetime.date(2026, 9, 30)
    state = "verified"
    mime = "application/pdf"
    sha256 = factory.LazyFunction(lambda: hashlib.sha256(uuid.uuid4().bytes).hexdigest())
    size = len(PDF)
    slot_expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=12))
    uploaded_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def file(self, create, extracted, **kwargs):
        if not create:
            return
        file_uuid = uuid.uuid4()
        key = f"{self.prefix}{file_uuid}"
        data = extracted if isinstance(extracted, bytes) else PDF
        RecordFile.objects.create(
            uuid=file_uuid,
            record=self,
            key=key,
            name=kwargs.get("name", "biopsy.pdf"),
            size=len(data),
            declared_type="application/pdf",
            stored_size=len(data) if self.state != "pending" else None,
            kind="pdf" if self.state == "verified" else "",
            mime=self.mime,
            sha256=self.sha256,
        )
        if self.state != "pending":
            default_storage.save(key, ContentFile(data))


class RecordRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecordRequest

    case = factory.SubFactory("tests.requests_app.factories.CaseFactory", submitted=True)
    requested_by = factory.SubFactory("tests.accounts.factories.UserFactory", role="coordinator")
    note = "Your biopsy pathology report from March"
    return_to = "triage"
