"""The records' side of storage: signing S3 requests for one upload slot's key, and
the local mode's upload tokens. Everything else about objects (HEAD, delete, small
objects, short-lived download URLs, StorageUnavailable) is the platform's
(secondop/storage.py), re-exported here for the records code that reads it from here."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from secondop.storage import (  # noqa: F401 (re-exported)
    StorageUnavailable,
    _signing_client,
    copy,
    delete,
    delete_under,
    download_url,
    keys_under,
    public_origin,
    read_bytes,
    s3_mode,
    save_bytes,
    stored_size,
)

TOKEN_SALT = "records.upload"  # noqa: S105 (a signing namespace, not a secret)


# The S3 operations an upload slot may use, keyed by what Uppy's signRequest asks for:
# (HTTP method, has an upload id, has a part number).
OPERATIONS = {
    ("PUT", False, False): "put_object",
    ("POST", False, False): "create_multipart_upload",
    ("PUT", True, True): "upload_part",
    ("POST", True, False): "complete_multipart_upload",
    ("DELETE", True, False): "abort_multipart_upload",
    ("GET", True, False): "list_parts",
}


# A multipart upload's parts, as records-upload.js cuts them (its getChunkSize, and Uppy
# after it): 10 MiB, or more for a file that would otherwise need over S3's 10,000 parts.
# Every part but the last is exactly this size.
PART_SIZE = 10 * 1024 * 1024
MAX_PARTS = 10_000


def part_layout(size: int) -> tuple[int, int]:
    """(part size, number of parts) of a multipart upload of `size` bytes."""
    part_size = max(PART_SIZE, -(-size // MAX_PARTS))
    return part_size, max(1, -(-size // part_size))


def part_length(size: int, part_number: int) -> int | None:
    """The exact length of part `part_number` (from 1) of an upload of `size` bytes;
    None for a part that upload does not have."""
    part_size, count = part_layout(size)
    if not 1 <= part_number <= count:
        return None
    return part_size if part_number < count else size - part_size * (count - 1)


def presign_upload(
    *,
    operation: str,
    key: str,
    upload_id: str = "",
    part_number: int = 0,
    content_length: int | None = None,
) -> str:
    """A presigned URL for one upload step. `content_length` (a PUT's or a part's)
    is signed with it: storage refuses a body of any other length."""
    params = {"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": key}
    if upload_id:
        params["UploadId"] = upload_id
    if part_number:
        params["PartNumber"] = part_number
    if content_length is not None:
        params["ContentLength"] = content_length
    return _signing_client().generate_presigned_url(
        operation,
        Params=params,
        ExpiresIn=settings.RECORDS_SIGNED_URL_SECONDS,
        HttpMethod={
            "put_object": "PUT",
            "upload_part": "PUT",
            "create_multipart_upload": "POST",
            "complete_multipart_upload": "POST",
            "abort_multipart_upload": "DELETE",
            "list_parts": "GET",
        }[operation],
    )


# --- The bucket's lifecycle --------------------------------------------------------------
# Parts of a multipart upload nobody finished are stored, and billed, but are no object:
# records_sweep aborts those under an abandoned record's prefix; this rule is the
# bucket's own backstop for anything the sweep never sees.
LIFECYCLE_RULE_ID = "secondop-abort-incomplete-uploads"
ABORT_INCOMPLETE_AFTER_DAYS = 1


def lifecycle_rule() -> dict:
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_INCOMPLETE_AFTER_DAYS},
    }


def ensure_lifecycle_rule() -> list[dict]:
    """Put our rule on the records bucket, keeping every other rule it has (a
    lifecycle configuration is replaced whole). Returns the rules now in place."""
    from botocore.exceptions import ClientError

    client = _client_for_bucket()
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    rules = [rule for rule in rules if rule.get("ID") != LIFECYCLE_RULE_ID] + [lifecycle_rule()]
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}
    )
    return rules


def _client_for_bucket():
    from django.core.files.storage import default_storage

    return default_storage.connection.meta.client


# --- Local mode: a signed, expiring, single-use upload token -------------------------
def upload_token(*, file_uuid: str, nonce: str) -> str:
    return signing.dumps({"f": file_uuid, "n": nonce}, salt=TOKEN_SALT, compress=False)


def read_upload_token(token: str) -> tuple[str, str] | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=settings.RECORDS_SIGNED_URL_SECONDS)
    except signing.BadSignature:
        return None
    return data.get("f", ""), data.get("n", "")
