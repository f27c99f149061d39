"""records.services.outcome: what verification found, written and told."""

from unittest import mock

import pytest

from records import services
from secondop.notifications.models import Notification
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_a_refusal_on_a_draft_names_the_draft_request(patient):
    draft = CaseFactory(owner=patient)
    assert not draft.reference
    for give_up in (False, True):
        record = RecordFactory(case=draft, state="scanning")
        if give_up:
            services.record_check_failed(record_id=record.pk, reason="scan_failed")
        else:
            report = mock.Mock(
                ok=False,
                kind="pdf",
                mime="text/html",
                sha256="c" * 64,
                reason="mismatch",
                dicom=None,
            )
            services.record_verified(
                record_id=record.pk,
                reports={record.files.get().uuid: report},
                summary=None,
                thumbnails={},
            )
    titles = sorted(Notification.objects.filter(recipient=patient).values_list("title", flat=True))
    assert titles == [
        "A file you sent for your draft request could not be accepted",
        "A file you sent for your draft request could not be checked",
    ]
