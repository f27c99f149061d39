"""The static files' storage in production: whitenoise's compressed copies under
hashed names (collectstatic), with ES modules' relative imports hashed as well."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # static/js/records-upload.js imports its parts (./records-upload/*.js). Left as
    # written, the hashed module would import the parts by their plain names, which
    # are cached for a minute and change under a page at a deploy; rewritten like a
    # stylesheet's url(), a page always gets the parts of its own version. Only *.js
    # files are read for imports (not the vendored Uppy's .mjs).
    support_js_module_import_aggregation = True
