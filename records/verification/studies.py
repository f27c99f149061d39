"""One imaging study (or several) summed up from its DICOM files' reports."""

from __future__ import annotations

from collections.abc import Iterable

from .base import FileReport

# The different patients' names and birth dates kept per study (a study has one).
MAX_LABELS = 5


def summarise_study(reports: Iterable[FileReport]) -> dict:
    """One imaging study (or several, when a disc holds more) from DICOM reports: a
    folder's files, or a ZIP's members. Instances are grouped by StudyInstanceUID
    and series; each series names the middle instance (by InstanceNumber) as the
    source of its thumbnail: a storage key, or a ZIP entry's name."""
    studies: dict[str, dict] = {}
    skipped: list[str] = []
    seen_sops: set[str] = set()
    for report in reports:
        if report.kind == "skipped":
            skipped.append(report.name)
            continue
        info = report.dicom
        if report.kind != "dicom" or not info:
            continue
        if info["sop_uid"] in seen_sops:
            continue
        seen_sops.add(info["sop_uid"])
        study = studies.setdefault(
            info["study_uid"],
            {
                "study_uid": info["study_uid"],
                "date": "",
                "description": "",
                "series": {},
                "patients": [],
            },
        )
        # Whose it says it is: each different (name, birth date) its files carry.
        label = [info.get("patient_name", ""), info.get("patient_birth_date", "")]
        if any(label) and label not in study["patients"] and len(study["patients"]) < MAX_LABELS:
            study["patients"].append(label)
        study["date"] = study["date"] or info.get("study_date", "")
        study["description"] = study["description"] or info.get("study_description", "")
        series = study["series"].setdefault(
            info["series_uid"],
            {
                "series_uid": info["series_uid"],
                "modality": "",
                "body_part": "",
                "description": "",
                "number": None,
                "instances": [],
            },
        )
        for key, value in (
            ("modality", info.get("modality")),
            ("body_part", info.get("body_part")),
            ("description", info.get("series_description")),
            ("number", info.get("series_number")),
        ):
            if series[key] in ("", None) and value not in ("", None):
                series[key] = value
        series["instances"].append(
            (
                info.get("instance_number"),
                report.name,
                report.source or report.name,
                info.get("has_pixels", True),
            )
        )

    result_studies = []
    all_modalities: set[str] = set()
    series_count = instance_count = 0
    for study in sorted(studies.values(), key=lambda s: (s["date"] or "9999", s["study_uid"])):
        series_list = []
        for series in sorted(
            study["series"].values(),
            key=lambda s: (s["number"] is None, s["number"] or 0, s["series_uid"]),
        ):
            instances = sorted(series["instances"], key=lambda i: (i[0] is None, i[0] or 0, i[1]))
            drawable = [i for i in instances if i[3]]
            middle = drawable[len(drawable) // 2][2] if drawable else ""
            series_list.append(
                {
                    "series_uid": series["series_uid"],
                    "modality": series["modality"],
                    "body_part": series["body_part"],
                    "description": series["description"],
                    "number": series["number"],
                    "instances": len(instances),
                    "thumbnail_source": middle,
                }
            )
            series_count += 1
            instance_count += len(instances)
        modalities = sorted({s["modality"] for s in series_list if s["modality"]})
        all_modalities.update(modalities)
        result_studies.append(
            {
                "study_uid": study["study_uid"],
                "date": study["date"],
                "description": study["description"],
                "modalities": modalities,
                "series": series_list,
                "patients": study["patients"],
            }
        )
    return {
        "studies": result_studies,
        "series_count": series_count,
        "instance_count": instance_count,
        "modalities": sorted(all_modalities),
        "skipped": sorted(skipped),
    }
