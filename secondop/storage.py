"""The S3 storage configuration, in one place for settings and the tests."""


def s3_storage_config(
    *, bucket: str, endpoint_url: str | None, region: str, access_key: str | None,
    secret_key: str | None, addressing_style: str = "path",
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
