"""What the records services' tests share: a file to upload and its slots."""

from records import services
from tests.records.factories import PDF

PDF_SIZE = len(PDF)


def one_file(name="biopsy.pdf", size=PDF_SIZE, relative_path=""):
    return {
        "client_id": "f1",
        "name": name,
        "size": size,
        "type": "application/pdf",
        "relative_path": relative_path,
    }


def slots(actor, case, files=None, **kwargs):
    args = {
        "category": "pathology",
        "title": "Biopsy report",
        "service_date": None,
        "answers": None,
        "files": files or [one_file()],
    }
    args.update(kwargs)
    return services.record_slots_create(actor=actor, case_ref=case.uuid, **args)
