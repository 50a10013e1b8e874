"""EPR export package builders (issue 7): pure code that turns plain export data and decrypted photos
into a ZIP with a FHIR R4 bundle, DICOM objects, the original JPEGs and a printable PDF summary."""

from shared_code.export_package.builder import build_export_package
from shared_code.export_package.fhir import PhotoChangedError
from shared_code.export_package.model import (
    ClinicianInfo,
    ClinicInfo,
    CommentInfo,
    ExcisionInfo,
    ExportRequestInfo,
    FolderInfo,
    LesionHistoryInfo,
    MeasurementInfo,
    PackageStats,
    PatientInfo,
    PhotoInfo,
    ShareInfo,
    TriageInfo,
)
from shared_code.export_package.plan import ExportInputError

__all__ = [
    "ClinicInfo",
    "ClinicianInfo",
    "CommentInfo",
    "ExcisionInfo",
    "ExportInputError",
    "ExportRequestInfo",
    "FolderInfo",
    "LesionHistoryInfo",
    "MeasurementInfo",
    "PackageStats",
    "PatientInfo",
    "PhotoChangedError",
    "PhotoInfo",
    "ShareInfo",
    "TriageInfo",
    "build_export_package",
]
