"""secondop.staticfiles: what collectstatic makes for production. The hashed
records uploader imports its parts by their hashed names too, so a page never runs
one version's module with another's parts."""

import re

from django.core.management import call_command


def test_it_hashes_the_uploaders_module_imports(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "secondop.staticfiles.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)

    (main,) = (tmp_path / "js").glob("records-upload.*[0-9a-f].js")
    imported = re.findall(r'from "(\./records-upload/[^"]+)"', main.read_text())
    assert len(imported) == 4
    for path in imported:
        assert re.fullmatch(r"\./records-upload/\w+\.[0-9a-f]{12}\.js", path), path
        assert (tmp_path / "js" / path).is_file()
    # The vendored Uppy (.mjs) is copied as it is.
    (uppy,) = (tmp_path / "vendor/uppy/6.0.1").glob("uppy.min.*[0-9a-f].mjs")
    assert uppy.read_bytes() == (tmp_path / "vendor/uppy/6.0.1/uppy.min.mjs").read_bytes()
