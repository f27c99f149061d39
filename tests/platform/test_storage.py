import urllib.error
import urllib.request

import pytest
from django.core.files.base import ContentFile


def test_an_s3_round_trip_through_django_storages(s3_storage, s3_server):
    name = s3_storage.save("cases/test/report.txt", ContentFile(b"hello, records"))
    assert name.startswith("cases/test/report")
    assert s3_storage.exists(name)
    with s3_storage.open(name) as f:
        assert f.read() == b"hello, records"

    head = s3_server["client"].head_object(Bucket=s3_server["bucket"], Key=name)
    assert head["ServerSideEncryption"] == "AES256"

    # The only way to read it without credentials is a short-lived signed URL.
    url = s3_storage.url(name)
    assert "X-Amz-Signature" in url and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"hello, records"
    plain = f"{s3_server['endpoint']}/{s3_server['bucket']}/{name}"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(plain)
    assert error.value.code == 403

    s3_storage.delete(name)
    assert not s3_storage.exists(name)
