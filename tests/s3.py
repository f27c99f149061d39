"""S3 for the tests: moto in server mode on a free loopback port (fixtures shared by
every test folder through tests/conftest.py)."""

import pytest

from secondop.storage import s3_storage_config
from tests.helpers import free_port


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible HTTP server with a private bucket, CORS open to the live server."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    bucket = "secondop-test-records"
    client.create_bucket(Bucket=bucket)
    client.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["http://localhost:*", "http://127.0.0.1:*"],
                    "AllowedMethods": ["GET", "POST", "PUT", "HEAD", "DELETE"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag", "Location"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    yield {"endpoint": endpoint, "bucket": bucket, "client": client, **credentials}
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server):
    """Point Django's default storage at the moto server for one test."""
    settings.AWS_STORAGE_BUCKET_NAME = s3_server["bucket"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_config(
            bucket=s3_server["bucket"],
            endpoint_url=s3_server["endpoint"],
            region="us-east-1",
            access_key=s3_server["aws_access_key_id"],
            secret_key=s3_server["aws_secret_access_key"],
        ),
    }
    from django.core.files.storage import default_storage

    return default_storage
