"""Object storage: the S3 configuration (for settings and the tests), and the helpers
every app that keeps files uses (records, the report's PDF)."""

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage


def s3_storage_config(
    *,
    bucket: str,
    endpoint_url: str | None,
    region: str,
    access_key: str | None,
    secret_key: str | None,
    addressing_style: str = "path",
) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "access_key": access_key,
            "secret_key": secret_key,
            # PHI: the bucket is private; every read is a short-lived signed URL.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"},
            "signature_version": "s3v4",
            "addressing_style": addressing_style,
        },
    }


# --- Objects in the default storage: S3 (private bucket) or local files --------------------
# Shared by every app that keeps files (records, the report's PDF). S3 mode is on when a
# bucket is configured; otherwise files live under MEDIA_ROOT (the embedded default) and
# every byte is served by permission-checked views.


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
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _signing_client():
    """Signed URLs name the endpoint browsers reach, which may not be ours."""
    public = settings.AWS_S3_PUBLIC_ENDPOINT_URL
    if not public:
        return _client()
    options = settings.STORAGES["default"].get("OPTIONS", {})
    return _public_client(
        public,
        options.get("region_name") or "us-east-1",
        options.get("access_key"),
        options.get("secret_key"),
    )


def public_origin() -> str:
    """The storage origin browsers talk to, for the upload page's connect-src."""
    if not s3_mode():
        return ""
    endpoint = settings.AWS_S3_PUBLIC_ENDPOINT_URL or _client().meta.endpoint_url
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


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
            chunk = keys[start : start + 1000]
            client.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
        for key in keys:
            uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
            for upload in uploads:
                client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
    except Exception as error:
        if _transient(error):
            raise StorageUnavailable from error
        raise


def keys_under(prefix: str) -> list[str]:
    """Every object under `prefix` (a folder-like path ending in "/")."""
    if not s3_mode():
        found = []

        def walk(folder: str) -> None:
            if not default_storage.exists(folder.rstrip("/")):
                return
            folders, files = default_storage.listdir(folder.rstrip("/"))
            found.extend(f"{folder}{name}" for name in files)
            for name in folders:
                walk(f"{folder}{name}/")

        walk(prefix)
        return found
    client, bucket = _client(), settings.AWS_STORAGE_BUCKET_NAME
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]
    except Exception as error:
        if _transient(error):
            raise StorageUnavailable from error
        raise


def delete_under(prefix: str) -> None:
    """Delete everything under `prefix`: a record's files, thumbnails and any object
    left by an upload link used late. Unfinished multipart uploads there are aborted."""
    if not prefix.endswith("/") or prefix.count("/") < 3:
        raise ValueError(f"refusing to delete under {prefix!r}")
    delete(keys_under(prefix))
    if s3_mode():
        client, bucket = _client(), settings.AWS_STORAGE_BUCKET_NAME
        try:
            uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
            for upload in uploads.get("Uploads", []):
                client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
        except Exception as error:
            if _transient(error):
                raise StorageUnavailable from error
            raise


def copy(source: str, target: str) -> None:
    """A server-side copy (S3: no byte through this process; multipart for big ones)."""
    if not s3_mode():
        with default_storage.open(source, "rb") as handle:
            if default_storage.exists(target):
                default_storage.delete(target)
            default_storage.save(target, handle)
        return
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    try:
        _client().copy(
            {"Bucket": bucket, "Key": source},
            bucket,
            target,
            ExtraArgs={"ServerSideEncryption": "AES256"},
        )
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
        _client().put_object(
            Bucket=settings.AWS_STORAGE_BUCKET_NAME,
            Key=key,
            Body=data,
            ContentType=content_type,
            ServerSideEncryption="AES256",
        )
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
        Params={
            "Bucket": settings.AWS_STORAGE_BUCKET_NAME,
            "Key": key,
            "ResponseContentDisposition": disposition,
            "ResponseContentType": content_type or "application/octet-stream",
            "ResponseCacheControl": "private, no-store",
        },
        ExpiresIn=settings.RECORDS_DOWNLOAD_URL_SECONDS,
    )
