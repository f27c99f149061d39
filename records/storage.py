"""The records' side of storage: signing S3 requests for one key, HEAD, delete,
short-lived download URLs, and the local mode's upload tokens.

S3 mode is on when a bucket is configured; otherwise records live in local files
(the embedded default) and every byte goes through permission-checked views."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage

TOKEN_SALT = "records.upload"  # noqa: S105 (a signing namespace, not a secret)


class StorageUnavailable(Exception):
    """Storage did not answer; the caller keeps everything as it was and tries later."""


def s3_mode() -> bool:
    return bool(settings.AWS_STORAGE_BUCKET_NAME)


def _transient(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500
    return isinstance(error, BotoCoreError | OSError)


def _client():
    return default_storage.connection.meta.client


@functools.cache
def _public_client(endpoint: str, region: str, access_key: str | None, secret_key: str | None):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _signing_client():
    """Signed URLs name the endpoint browsers reach, which may not be ours."""
    public = settings.AWS_S3_PUBLIC_ENDPOINT_URL
    if not public:
        return _client()
    options = settings.STORAGES["default"].get("OPTIONS", {})
    return _public_client(public, options.get("region_name") or "us-east-1",
                          options.get("access_key"), options.get("secret_key"))


def public_origin() -> str:
    """The storage origin browsers talk to, for the upload page's connect-src."""
    if not s3_mode():
        return ""
    endpoint = settings.AWS_S3_PUBLIC_ENDPOINT_URL or _client().meta.endpoint_url
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


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


def stored_size(key: str) -> int | None:
    """The object's size, None when there is none; StorageUnavailable when storage
    does not answer."""
    if not s3_mode():
        return default_storage.size(key) if default_storage.exists(key) else None
    from botocore.exceptions import ClientError

    try:
        head = _client().head_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NotFound"}:
            return None
        if _transient(error):
            raise StorageUnavailable from error
        raise
    except Exception as error:
        if _transient(error):
            raise StorageUnavailable from error
        raise
    return int(head["ContentLength"])


def delete(keys: list[str]) -> None:
    """Delete objects (missing ones are fine). Unfinished multipart uploads of the
    keys are aborted too, so no part is left behind."""
    keys = [k for k in keys if k]
    if not keys:
        return
    if not s3_mode():
        for key in keys:
            default_storage.delete(key)
        return
    client, bucket = _client(), settings.AWS_STORAGE_BUCKET_NAME
    try:
        for start in range(0, len(keys), 1000):
            chunk = keys[start:start + 1000]
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk],
                                                         "Quiet": True})
        for key in keys:
            uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
            for upload in uploads:
                client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"],
                                              UploadId=upload["UploadId"])
    except Exception as error:
        if _transient(error):
            raise StorageUnavailable from error
        raise


def save_bytes(key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
    """A small object the app made itself (a thumbnail)."""
    if not s3_mode():
        from django.core.files.base import ContentFile

        if default_storage.exists(key):
            default_storage.delete(key)
        default_storage.save(key, ContentFile(data))
        return
    try:
        _client().put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key, Body=data,
                             ContentType=content_type, ServerSideEncryption="AES256")
    except Exception as error:
        if _transient(error):
            raise StorageUnavailable from error
        raise


def read_bytes(key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def download_url(*, key: str, disposition: str, content_type: str) -> str:
    """A presigned GET that lives about a minute, naming the file safely."""
    return _signing_client().generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": key,
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type or "application/octet-stream",
                "ResponseCacheControl": "private, no-store"},
        ExpiresIn=settings.RECORDS_DOWNLOAD_URL_SECONDS,
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
