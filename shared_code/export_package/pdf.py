"""summary.pdf: a printable summary anyone can upload into an EPR (fpdf2).

Every page is headed with the patient's name, birth date and NHS number (or a sentence saying it is
absent) and footed with the export id and page numbers. Photos appear as small thumbnails with their
capture date, body site, the patient's notes and the clinic's comments. The DejaVu Sans font shipped
in fonts/ gives Unicode text (names such as "Zoë Ćwikła") on any host.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from shared_code.domain.nhs_number import format_nhs_number
from shared_code.export_package.fhir import triage_label
from shared_code.export_package.model import CommentInfo
from shared_code.export_package.plan import ExportPlan, PlannedFolder, PlannedPhoto
from shared_code.export_package.times import human_birth_date, human_date, human_datetime, parse_instant

_FONT_DIR = Path(__file__).parent / "fonts"
_FONT = "DejaVu"
_THUMB_W = 55.0  # mm
_GAP = 5.0
_PURPOSES = {"direct-care": "direct care", "teaching": "teaching", "research": "research"}


@dataclass(frozen=True)
class Thumbnail:
    jpeg: bytes
    width: int
    height: int


def nhs_number_sentence(plan: ExportPlan) -> str:
    if plan.nhs_number:
        checked = "verified by NHS login" if plan.info.patient.nhs_number_verified else "not verified (entered by the patient)"
        return f"NHS number {format_nhs_number(plan.nhs_number)}, {checked}"
    if plan.nhs_number_supplied:
        return "NHS number absent: the number the patient gave fails the NHS check-digit test, so it is not included."
    return "NHS number absent: the patient has not recorded one."


class _SummaryPdf(FPDF):
    def __init__(self, plan: ExportPlan) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._plan = plan
        self.add_font(_FONT, "", str(_FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(_FONT, "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title("SkinVault photo export summary")
        self.set_author(plan.info.clinician.name)
        self.set_creator("SkinVault")
        self.set_creation_date(plan.created)
        self.alias_nb_pages()

    def header(self) -> None:
        patient = self._plan.info.patient
        born = human_birth_date(patient.date_of_birth) if patient.date_of_birth else "not recorded"
        nhs = format_nhs_number(self._plan.nhs_number) if self._plan.nhs_number else "absent"
        self.set_font(_FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, f"{patient.display_name}  |  Born {born}  |  NHS number {nhs}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(4)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(_FONT, "", 7)
        self.set_text_color(90, 90, 90)
        self.cell(
            0,
            4,
            f"Confidential: patient-identifiable information. SkinVault export {self._plan.info.export_id}. Page {self.page_no()} of {{nb}}",
            align="C",
        )
        self.set_text_color(0, 0, 0)


def build_summary_pdf(plan: ExportPlan, thumbnails: Mapping[str, Thumbnail]) -> bytes:
    pdf = _SummaryPdf(plan)
    pdf.add_page()
    _title(pdf, plan)
    _details(pdf, plan)
    for folder in plan.folders:
        _folder(pdf, folder, [p for p in plan.photos if p.folder is folder], thumbnails)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str, size: float = 12) -> None:
    if pdf.get_y() > pdf.page_break_trigger - 25:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(_FONT, "B", size)
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(_FONT, "", 10)


def _field(pdf: FPDF, label: str, value: str, label_width: float = 45) -> None:
    pdf.set_font(_FONT, "B", 10)
    y = pdf.get_y()
    pdf.multi_cell(label_width, 5, label, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.set_font(_FONT, "", 10)
    pdf.multi_cell(0, 5, value or "-", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), y + 5))


def _title(pdf: FPDF, plan: ExportPlan) -> None:
    pdf.set_font(_FONT, "B", 16)
    pdf.cell(0, 9, "Patient photographs: summary for the clinical record", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 10)
    pdf.multi_cell(
        0,
        5,
        f"Shared by the patient through SkinVault and exported by {plan.info.clinician.name} on {human_datetime(plan.created)} "
        f"(UK time). The package also holds the original photos (images/), DICOM copies (dicom/) and a FHIR bundle (fhir/).",
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def _details(pdf: FPDF, plan: ExportPlan) -> None:
    info = plan.info
    patient = info.patient
    _heading(pdf, "Patient")
    _field(pdf, "Name", patient.display_name)
    _field(pdf, "Date of birth", human_birth_date(patient.date_of_birth) if patient.date_of_birth else "Not recorded")
    _field(pdf, "NHS number", nhs_number_sentence(plan).removeprefix("NHS number "))
    if not plan.nhs_number:
        _field(pdf, "Identify by", "Name and date of birth")

    _heading(pdf, "Clinic")
    _field(pdf, "Clinic", info.clinic.name)
    _field(pdf, "ODS code", info.clinic.ods_code or "Not recorded")
    _field(pdf, "Exported by", info.clinician.name)
    _field(pdf, "Exported on", human_datetime(plan.created))
    _field(pdf, "Export reference", info.export_id)

    _heading(pdf, "Share and consent")
    share = info.share
    _field(pdf, "Consent given", human_datetime(parse_instant(share.granted_at)))
    _field(pdf, "Share expires", human_datetime(parse_instant(share.expires_at)) if share.expires_at else "No expiry set")
    _field(pdf, "Purposes", ", ".join(_PURPOSES.get(p, p) for p in share.purposes) or "Not recorded")
    _field(pdf, "Consent text version", share.consent_version)
    _field(pdf, "Consent text hash", share.consent_text_hash)

    _heading(pdf, "Triage outcome")
    if info.triage:
        triage = info.triage
        _field(pdf, "Outcome", f"{triage_label(triage.outcome)} ({triage.outcome})")
        _field(pdf, "Recorded by", f"{triage.recorded_by}, {human_datetime(parse_instant(triage.recorded_at))}")
        _field(pdf, "Note", triage.note or "None")
    else:
        _field(pdf, "Outcome", "Not recorded")
    _field(pdf, "Photos", f"{len(plan.photos)} in {len(plan.folders)} folder(s)")


def _comment_lines(comments: tuple[CommentInfo, ...]) -> str:
    return "\n".join(f"{human_datetime(parse_instant(c.created_at))}, {c.author_name}: {c.text}" for c in comments)


def _folder(pdf: FPDF, folder: PlannedFolder, photos: list[PlannedPhoto], thumbnails: Mapping[str, Thumbnail]) -> None:
    _heading(pdf, f"Folder {folder.ordinal}: {folder.info.name}", size=13)
    site = folder.body_site
    _field(pdf, "Body site", f"{site.label} (SNOMED CT {site.code} {site.display})" if site else "Not recorded")
    _field(pdf, "Condition", folder.info.condition or "Not recorded")
    _field(pdf, "Treatment", folder.info.treatment or "Not recorded")
    if folder.comments:
        _field(pdf, "Clinic comments", _comment_lines(folder.comments))
    _clinical(pdf, folder)
    if not photos:
        _field(pdf, "Photos", "None in this export")
    for photo in photos:
        _photo(pdf, photo, thumbnails.get(photo.info.id))


def _clinical(pdf: FPDF, folder: PlannedFolder) -> None:
    """The folder's excision listing and the patient's lesion history, when there are any."""
    from shared_code.domain.lesion_history import BY_ID
    from shared_code.domain.triage import PRIORITY_LABELS, PROCEDURES

    excision = folder.info.excision
    if excision:
        procedure = PROCEDURES[excision.procedure]
        listed = f"{procedure.label} (SNOMED CT {procedure.coding.code} {procedure.coding.display}), priority {PRIORITY_LABELS[excision.priority]}"
        _field(pdf, "Listed for excision", f"{listed}; by {excision.recorded_by}, {human_datetime(parse_instant(excision.recorded_at))}")
    history = folder.info.lesion_history
    if history:
        answers = "\n".join(f"{BY_ID[k].text} {BY_ID[k].display(v)}" for k, v in history.answers if k in BY_ID)
        _field(pdf, "Lesion history", f"Answered by the patient, {human_datetime(parse_instant(history.answered_at))}\n{answers}")


def patient_photo_lines(photo: PlannedPhoto) -> list[str]:
    """What the patient wrote about the photo besides notes: rating, description, treatment."""
    lines = []
    if photo.info.rating is not None:
        lines.append(f"Patient's rating: {photo.info.rating} out of 10")
    if photo.info.description:
        lines.append(f"Patient's description: {photo.info.description}")
    if photo.info.treatment:
        lines.append(f"Treatment at the time: {photo.info.treatment}")
    from shared_code.export_package.clinical import measurement_text

    lines.extend(measurement_text(m) for m in photo.info.measurements)  # the clinic's, calibrated on a ruler
    return lines


def _photo(pdf: FPDF, photo: PlannedPhoto, thumb: Thumbnail | None) -> None:
    thumb_h = _THUMB_W * thumb.height / thumb.width if thumb else 0.0
    if pdf.get_y() + max(thumb_h, 30) > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    top = pdf.get_y()
    if thumb:
        pdf.image(io.BytesIO(thumb.jpeg), x=pdf.l_margin, y=top, w=_THUMB_W, h=thumb_h)
    text_x = pdf.l_margin + _THUMB_W + _GAP
    old_margin = pdf.l_margin
    pdf.set_left_margin(text_x)
    pdf.set_xy(text_x, top)
    pdf.set_font(_FONT, "B", 11)
    if photo.capture_time_known:
        title = f"Photo {photo.index_in_folder}: captured {human_date(photo.captured)}"
    else:
        title = f"Photo {photo.index_in_folder}: uploaded {human_date(photo.uploaded)} (when it was taken is not known)"
    pdf.multi_cell(0, 5.5, title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 9.5)
    lines = []
    if photo.capture_time_known:
        lines.append(f"Captured: {human_datetime(photo.captured)}")
    lines.append(f"Uploaded: {human_datetime(photo.uploaded)}")
    site = photo.folder.body_site
    lines.append(f"Body site: {site.label} (SNOMED CT {site.code})" if site else "Body site: not recorded")
    lines.append(f"Patient's notes: {photo.info.notes or 'none'}")
    lines.extend(patient_photo_lines(photo))
    pdf.multi_cell(0, 4.8, "\n".join(lines), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "B", 9.5)
    pdf.multi_cell(0, 4.8, "Clinic comments:", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 9.5)
    pdf.multi_cell(0, 4.8, _comment_lines(photo.comments) or "None", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 4, f"Files: {photo.image_name}, {photo.dicom_name}", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    text_bottom = pdf.get_y()
    pdf.set_left_margin(old_margin)
    same_page_bottom = top + thumb_h
    pdf.set_xy(old_margin, max(text_bottom, same_page_bottom) + 3 if text_bottom >= top else text_bottom + 3)
