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


def presign_upload(*, operation: str, key: str, upload_id: str = "", part_number: int = 0) -> str:
    params = {"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": key}
    if upload_id:
        params["UploadId"] = upload_id
    if part_number:
        params["PartNumber"] = part_number
    return _signing_client().generate_presigned_url(
        operation, Params=params, ExpiresIn=settings.RECORDS_SIGNED_URL_SECONDS,
        HttpMethod={"put_object": "PUT", "upload_part": "PUT", "create_multipart_upload": "POST",
                    "complete_multipart_upload": "POST", "abort_multipart_upload": "DELETE",
                    "list_parts": "GET"}[operation],
    )


# --- Local mode: a signed, expiring, single-use upload token -------------------------
def upload_token(*, file_uuid: str, nonce: str) -> str:
    return signing.dumps({"f": file_uuid, "n": nonce}, salt=TOKEN_SALT, compress=False)


def read_upload_token(token: str) -> tuple[str, str] | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT,
                             max_age=settings.RECORDS_SIGNED_URL_SECONDS)
    except signing.BadSignature:
        return None
    return data.get("f", ""), data.get("n", "")
