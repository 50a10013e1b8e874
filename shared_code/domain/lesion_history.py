"""The lesion-history questionnaire a patient answers per folder, and its answers. Pure.

Short and in plain words: how long, change in size, shape or colour, bleeding, itching, personal or
family history of skin cancer, and skin type (Fitzpatrick I-VI described as people know it).
The answers are kept with the folder (so they go when the folder or account goes), shown to the
clinic in the case, and exported as a FHIR QuestionnaireResponse and in the PDF summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

QUESTIONNAIRE_URL = "https://skinvault.nhs.example/fhir/Questionnaire/lesion-history"
QUESTIONNAIRE_VERSION = "1"
ANSWER_SYSTEM = "https://skinvault.nhs.example/fhir/CodeSystem/lesion-history-answers"

_YES_NO = (("yes", "Yes"), ("no", "No"), ("not-sure", "Not sure"))


@dataclass(frozen=True)
class Question:
    link_id: str
    text: str
    options: tuple[tuple[str, str], ...]

    def display(self, code: str) -> str:
        return dict(self.options)[code]


QUESTIONS: tuple[Question, ...] = (
    Question(
        "duration",
        "How long have you had it?",
        (
            ("under-1-month", "Less than a month"),
            ("1-6-months", "1 to 6 months"),
            ("6-12-months", "6 to 12 months"),
            ("over-1-year", "More than a year"),
            ("always", "As long as I can remember"),
        ),
    ),
    Question("changedSize", "Has it changed in size?", _YES_NO),
    Question("changedShape", "Has it changed in shape?", _YES_NO),
    Question("changedColour", "Has it changed in colour?", _YES_NO),
    Question("bleeding", "Has it bled without being knocked or scratched?", _YES_NO),
    Question("itching", "Does it itch?", _YES_NO),
    Question("personalHistory", "Have you had skin cancer before?", _YES_NO),
    Question("familyHistory", "Has a parent, brother, sister or child had melanoma (skin cancer)?", _YES_NO),
    Question(
        "skinType",
        "Which best describes your skin in the sun?",
        (
            ("I", "Always burns, never tans (very fair skin)"),
            ("II", "Usually burns, tans a little (fair skin)"),
            ("III", "Sometimes burns, tans slowly to light brown"),
            ("IV", "Rarely burns, tans easily to mid brown"),
            ("V", "Very rarely burns, tans very easily (brown skin)"),
            ("VI", "Never burns (dark brown or black skin)"),
        ),
    ),
)
BY_ID = {q.link_id: q for q in QUESTIONS}

LESION_HISTORY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": [q.link_id for q in QUESTIONS],
    "properties": {q.link_id: {"enum": [code for code, _ in q.options]} for q in QUESTIONS},
}


def questionnaire_view() -> dict[str, Any]:
    return {
        "url": QUESTIONNAIRE_URL,
        "version": QUESTIONNAIRE_VERSION,
        "items": [{"linkId": q.link_id, "text": q.text, "options": [{"code": c, "display": d} for c, d in q.options]} for q in QUESTIONS],
    }


@dataclass(frozen=True)
class LesionHistory:
    """One folder's answers (the latest; answering again replaces them, answeredAt says when)."""

    answers: tuple[tuple[str, str], ...]  # (linkId, code) in question order
    answered_at: str
    version: str = QUESTIONNAIRE_VERSION

    @classmethod
    def from_answers(cls, body: dict[str, str], answered_at: str) -> LesionHistory:
        return cls(tuple((q.link_id, body[q.link_id]) for q in QUESTIONS), answered_at)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> LesionHistory:
        return cls(tuple((k, v) for k, v in doc["answers"].items() if k in BY_ID), doc["answeredAt"], doc.get("version", QUESTIONNAIRE_VERSION))

    def to_doc(self) -> dict[str, Any]:
        return {"answers": dict(self.answers), "answeredAt": self.answered_at, "version": self.version}

    def lines(self) -> list[tuple[str, str]]:
        """(question, answer) in plain words."""
        return [(BY_ID[k].text, BY_ID[k].display(v)) for k, v in self.answers]

    def view(self) -> dict[str, Any]:
        return {
            "answeredAt": self.answered_at,
            "version": self.version,
            "answers": [{"linkId": k, "question": BY_ID[k].text, "answer": v, "answerText": BY_ID[k].display(v)} for k, v in self.answers],
        }

    @classmethod
    def view_of(cls, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        return cls.from_doc(doc).view() if doc else None
