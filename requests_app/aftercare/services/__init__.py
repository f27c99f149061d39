"""Writes after delivery: sending the report to the patient's physician (and
revoking the link), the physician opening it, follow-up questions and their
answers, closing the case when follow-up is over, and the patient's rating.

Every service takes the acting person and loads the case through the access
rule (requests_app.access) with its row locked, checks its own preconditions,
and writes the audit row in the same transaction. Refusals are AftercareError,
with a message fit to show the person.

One module a concern (sharing, follow_up, closing, ratings; common for what they
share); the names views, tasks and tests use are re-exported here."""

from .closing import case_close_after_follow_up, cases_close_after_follow_up, cases_due_to_close
from .common import DOUBLE_SUBMIT_WINDOW, AftercareError
from .follow_up import follow_up_answer, follow_up_ask
from .physician import (
    ConsentWithdrawn,
    participating_share,
    participation_withdraw,
    physician_question_answer,
    physician_question_ask,
    physician_question_refusal,
)
from .ratings import rating_create
from .sharing import (
    MAX_SEND_ATTEMPTS,
    SEND_LEASE,
    SEND_TASK,
    Opened,
    Refusal,
    SendFailed,
    ShareRefused,
    count_bad_token,
    path_without_token,
    share_bounced,
    share_create,
    share_enqueue,
    share_open,
    share_revoke,
    share_send,
    share_url,
    shares_due_for_sweep,
    too_many_bad_tokens,
)
from .smart_links import (
    Cover,
    Shared,
    SmartLinkRefused,
    share_create_with_smart_link,
    smart_link_cover,
    smart_link_files_delete,
    smart_link_manifest,
    smart_link_url,
    smart_links_stopped,
)

__all__ = [
    "DOUBLE_SUBMIT_WINDOW",
    "MAX_SEND_ATTEMPTS",
    "SEND_LEASE",
    "SEND_TASK",
    "AftercareError",
    "ConsentWithdrawn",
    "Cover",
    "Opened",
    "Refusal",
    "SendFailed",
    "ShareRefused",
    "Shared",
    "SmartLinkRefused",
    "case_close_after_follow_up",
    "cases_close_after_follow_up",
    "cases_due_to_close",
    "count_bad_token",
    "follow_up_answer",
    "follow_up_ask",
    "participating_share",
    "participation_withdraw",
    "path_without_token",
    "physician_question_answer",
    "physician_question_ask",
    "physician_question_refusal",
    "rating_create",
    "share_bounced",
    "share_create",
    "share_create_with_smart_link",
    "share_enqueue",
    "share_open",
    "share_revoke",
    "share_send",
    "share_url",
    "shares_due_for_sweep",
    "smart_link_cover",
    "smart_link_files_delete",
    "smart_link_manifest",
    "smart_link_url",
    "smart_links_stopped",
    "too_many_bad_tokens",
]
