"""Names of the files inside the package (pure)."""

from __future__ import annotations

import re
import unicodedata

_MAX_SLUG = 40


def slugify(text: str, fallback: str) -> str:
    """ASCII, lower-case, hyphen-separated; accents folded ("Grain de beauté" -> "grain-de-beaute")."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    slug = slug[:_MAX_SLUG].rstrip("-")
    return slug or fallback


def folder_label(ordinal: int, name: str) -> str:
    """ "01-mole-on-left-arm": the ordinal keeps two folders with the same name apart."""
    return f"{ordinal:02d}-{slugify(name, 'folder')}"


class UniqueNames:
    """Hands out stems once; a repeated stem gets "-2", "-3" (two photos taken in the same second)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def claim(self, stem: str) -> str:
        candidate, counter = stem, 1
        while candidate in self._used:
            counter += 1
            candidate = f"{stem}-{counter}"
        self._used.add(candidate)
        return candidate
