"""Body sites a folder can be about, coded in SNOMED CT (pure data, no I/O).

The keys are what the API accepts as a folder's ``bodySite`` ("scalp", "left-forearm", "fingernail").
Each maps to ``(sctid, display)``: a SNOMED CT body-structure concept id and its English term.
FHIR exports put them in ``Media.bodySite`` (system http://snomed.info/sct); DICOM exports put them in
the Anatomic Region Sequence (coding scheme designator SCT).

Choice of concepts
- Regions ("... structure" concepts) rather than "entire ..." concepts, as DICOM PS3.16 does.
- Laterality is pre-coordinated (Structure of left forearm) where SNOMED CT has the concept: one code
  carries the whole meaning for an EPR. ``laterality()`` gives the side separately for DICOM.
- Hair and nails use the dermatology concepts of DICOM CID 4029 (Dermatology Anatomic Site):
  "Hair", "Nail unit of finger", "Nail unit of toe".

Provenance of each code (so a clinical-safety reviewer knows what was checked):
- [CID] listed in DICOM PS3.16 CID 4029 (dermatology sites) or CID 4031 (common anatomic regions);
- [VS] found with this term in published FHIR value sets of SNOMED CT body sites;
- [M] from the SNOMED CT browser by memory only: confirm in a terminology server before relying on it.
Every code passes the Verhoeff check digit that all SCTIDs carry (tests/unit/domain/test_body_sites.py),
which catches transcription slips but not a wrong concept.
"""

from __future__ import annotations

SNOMED_CT_SYSTEM = "http://snomed.info/sct"

BODY_SITES: dict[str, tuple[str, str]] = {
    # Head and neck
    "scalp": ("41695006", "Scalp structure"),  # [M] brief
    "hair": ("386045008", "Hair structure"),  # [CID 4029 "Hair"]
    "face": ("89545001", "Face structure"),  # [M] brief
    "forehead": ("52795006", "Forehead structure"),  # [M]
    "nose": ("45206002", "Nasal structure"),  # [M] brief
    "lips": ("48477009", "Lip structure"),  # [M]
    "ear": ("117590005", "Ear structure"),  # [M] brief
    "neck": ("45048000", "Neck structure"),  # [CID 4031 "Neck"]
    # Trunk
    "chest": ("51185008", "Thoracic structure"),  # [M] brief
    "breast": ("76752008", "Breast structure"),  # [CID 4031 "Breast"]
    "abdomen": ("818983003", "Abdomen structure"),  # [VS "Abdomen"]
    "back": ("77568009", "Structure of back of trunk"),  # [VS]
    "lower-back": ("37822005", "Lower back structure"),  # [VS]
    "armpit": ("76261009", "Skin structure of axilla"),  # [CID 4029 "Skin of axilla"]
    "groin": ("26893007", "Inguinal region structure"),  # [M]
    "genitals": ("60944009", "Skin structure of external genitalia"),  # [CID 4029 "Skin of external genitalia"]
    "perianal": ("397158004", "Perianal region structure"),  # [M]
    "buttock": ("46862004", "Buttock structure"),  # [VS]
    # Upper limbs
    "left-shoulder": ("91775009", "Structure of left shoulder region"),  # [VS]
    "right-shoulder": ("91774008", "Structure of right shoulder region"),  # [VS]
    "left-upper-arm": ("368208006", "Left upper arm structure"),  # [VS]
    "right-upper-arm": ("368209003", "Right upper arm structure"),  # [VS]
    "left-elbow": ("368148009", "Left elbow region structure"),  # [VS]
    "right-elbow": ("368149001", "Right elbow region structure"),  # [VS]
    "left-forearm": ("66480008", "Structure of left forearm"),  # [VS]
    "right-forearm": ("64262003", "Structure of right forearm"),  # [VS]
    "left-wrist": ("5951000", "Structure of left wrist region"),  # [VS]
    "right-wrist": ("9736006", "Structure of right wrist region"),  # [VS]
    "left-hand": ("85151006", "Structure of left hand"),  # [M]
    "right-hand": ("78791008", "Structure of right hand"),  # [M]
    "left-palm": ("789216008", "Structure of palm of left hand"),  # [VS]
    "right-palm": ("789217004", "Structure of palm of right hand"),  # [VS]
    "left-back-of-hand": ("789218009", "Structure of dorsum of left hand"),  # [VS]
    "right-back-of-hand": ("789219001", "Structure of dorsum of right hand"),  # [VS]
    "finger": ("7569003", "Finger structure"),  # [CID 4031 "Finger"]
    "fingernail": ("770809003", "Nail unit of finger"),  # [CID 4029]
    # Lower limbs
    "left-hip": ("287679003", "Left hip region structure"),  # [VS]
    "right-hip": ("287579007", "Right hip region structure"),  # [VS]
    "left-thigh": ("61396006", "Structure of left thigh"),  # [VS]
    "right-thigh": ("11207009", "Structure of right thigh"),  # [VS]
    "left-knee": ("82169009", "Structure of left knee region"),  # [VS]
    "right-knee": ("6757004", "Structure of right knee region"),  # [VS]
    "left-lower-leg": ("48979004", "Structure of left lower leg"),  # [VS]
    "right-lower-leg": ("32696007", "Structure of right lower leg"),  # [VS]
    "left-ankle": ("51636004", "Structure of left ankle"),  # [VS]
    "right-ankle": ("6685009", "Structure of right ankle"),  # [VS]
    "left-foot": ("22335008", "Structure of left foot"),  # [M]
    "right-foot": ("7769000", "Structure of right foot"),  # [M]
    "sole": ("57999000", "Structure of sole of foot"),  # [M]
    "toe": ("29707007", "Toe structure"),  # [M]
    "toenail": ("770805009", "Nail unit of toe"),  # [CID 4029]
    # Anywhere else on the skin (the folder's name says where)
    "skin-other": ("39937001", "Skin structure"),  # [CID 4029 "Skin"]
}


def body_site(key: str) -> tuple[str, str]:
    """(sctid, display) for an API bodySite key; KeyError for an unknown key."""
    return BODY_SITES[key]


def is_known_body_site(key: object) -> bool:
    return isinstance(key, str) and key in BODY_SITES


def laterality(key: str) -> str | None:
    """ "L", "R" or None (unpaired or unspecified side), from the key's "left-"/"right-" prefix."""
    if key not in BODY_SITES:
        raise KeyError(key)
    if key.startswith("left-"):
        return "L"
    if key.startswith("right-"):
        return "R"
    return None


def human_label(key: str) -> str:
    """A plain-English label for people: "left-upper-arm" -> "Left upper arm"."""
    if key not in BODY_SITES:
        raise KeyError(key)
    return _LABELS.get(key) or key.replace("-", " ").capitalize()


_LABELS = {"skin-other": "Skin (other site)"}
