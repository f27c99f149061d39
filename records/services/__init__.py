"""Writes for medical records, one module per concern:

- `uploads`: upload slots, signing, the local upload, confirm, cancelling;
- `outcome`: verification's outcome (verified, rejected, given up on) and the reasons;
- `removal`: deleting, dismissing a refusal, retention and the expiry sweep;
- `identity`: a study labelled for another person, the patient's answer; a study sent twice;
- `record_requests`: the care team asking the patient for a record;
- `bundles`: ZIP downloads for the staff care team;
- `received`: records from bytes the server holds (a SMART Health Link pasted in);
- `common`: the refusal, the statuses and helpers they share.

Every service loads the case through the access rule (requests_app.access), so an
outsider gets the same 404 as for a case that does not exist. Callers use the
package (`from records import services; services.record_confirm(...)`)."""

from .bundles import bundle_create, bundles_delete, case_ended
from .common import RecordError, case_name, human_size
from .identity import MINE, REMOVE, record_identity_answer
from .outcome import (
    OWN_REASONS,
    describe_reason,
    describe_record_reason,
    record_check_failed,
    record_verified,
)
from .received import FromLink, Received, records_from_bytes, records_from_smart_link
from .record_requests import (
    REQUESTABLE_STATUSES,
    can_request,
    record_request_cancel,
    record_request_create,
)
from .removal import (
    DELETABLE_STATUSES,
    RETAINED_CATEGORIES,
    Retention,
    can_dismiss,
    record_delete,
    record_dismiss,
    records_delete_after,
    records_retention_sweep,
    records_sweep_expired,
    retention_for,
)
from .uploads import (
    TITLE_MAX,
    TITLE_MAX_TYPED,
    FileSlot,
    Slots,
    can_upload,
    case_bytes_used,
    record_cancel,
    record_confirm,
    record_file_receive,
    record_file_sign,
    record_slots_create,
)

__all__ = [
    "DELETABLE_STATUSES",
    "MINE",
    "OWN_REASONS",
    "REMOVE",
    "REQUESTABLE_STATUSES",
    "RETAINED_CATEGORIES",
    "TITLE_MAX",
    "TITLE_MAX_TYPED",
    "FileSlot",
    "FromLink",
    "Received",
    "RecordError",
    "Retention",
    "Slots",
    "bundle_create",
    "bundles_delete",
    "can_dismiss",
    "can_request",
    "can_upload",
    "case_bytes_used",
    "case_ended",
    "case_name",
    "describe_reason",
    "describe_record_reason",
    "human_size",
    "record_cancel",
    "record_check_failed",
    "record_confirm",
    "record_delete",
    "record_dismiss",
    "record_file_receive",
    "record_file_sign",
    "record_identity_answer",
    "record_request_cancel",
    "record_request_create",
    "record_slots_create",
    "record_verified",
    "records_delete_after",
    "records_from_bytes",
    "records_from_smart_link",
    "records_retention_sweep",
    "records_sweep_expired",
    "retention_for",
]
