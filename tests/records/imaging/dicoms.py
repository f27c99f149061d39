"""DICOM instances made from numpy arrays, for pixel checks and the imaging bench."""

from __future__ import annotations

import io

import numpy as np


def instance(
    pixels: np.ndarray,
    *,
    modality: str = "CT",
    photometric: str = "MONOCHROME2",
    study: str = "1.2.826.0.1.3680043.8.498.7",
    series: str = "1.2.826.0.1.3680043.8.498.7.1",
    number: int = 1,
    position: float | None = None,
    rle: bool = False,
    **attributes,
) -> bytes:
    """A DICOM file of `pixels` (rows x columns, or frames x rows x columns for a
    multi-frame one), 16-bit signed unless the array is uint8/uint16; RLE Lossless
    when `rle`. Extra keywords become attributes (RescaleSlope=..., WindowCenter=...)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

    sop = f"{series}.{number}"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, sop
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[series])
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 1, number
    # No name or birth date (anonymised): whose images they are is test_identity's.
    ds.PatientName, ds.PatientID, ds.StudyDate = "", "T1", "20260101"
    frames = pixels.shape[0] if pixels.ndim == 3 else 1
    ds.Rows, ds.Columns = pixels.shape[-2], pixels.shape[-1]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    signed = pixels.dtype.kind == "i"
    bits = 8 if pixels.dtype.itemsize == 1 else 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = int(signed)
    if position is not None:
        ds.ImagePositionPatient = [0.0, 0.0, position]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.7, 0.7]
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    if rle:
        ds.compress(RLELossless, encoding_plugin="pydicom")
        ds.file_meta.TransferSyntaxUID = RLELossless
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def ct_slice(side: int = 512, seed: int = 0) -> np.ndarray:
    """A CT-like slice in stored values (HU + 1024): air outside a body of soft
    tissue (40 HU), lungs (-800 HU) and a spine (700 HU)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    hu = np.full((side, side), -1000.0)
    hu[(x - 0.5) ** 2 / 0.16 + (y - 0.5) ** 2 / 0.1 < 1] = 40
    hu[((x - 0.33) ** 2 + (y - 0.45) ** 2) < 0.012] = -800
    hu[((x - 0.67) ** 2 + (y - 0.45) ** 2) < 0.012] = -800
    hu[((x - 0.5) ** 2 + (y - 0.72) ** 2) < 0.003] = 700
    hu += rng.normal(0, 10, hu.shape)
    return (hu + 1024).clip(0, 4095).astype(np.uint16)
