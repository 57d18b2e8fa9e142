"""Turn what people really type in an answer cell into a response code, or a problem.

Accepted, for a response set with codes 1-5 and missing codes 8, 9:
``4``, ``4.0``, ``"4"``, ``" 4 "``, ``"4,0"``, ``"4 - Plutôt d'accord"``, ``"Plutôt d'accord"``,
``"plutot d’accord"`` (case, accents, apostrophes and spaces do not matter), the label in
either language, and the missing-code labels ("Je ne sais pas" -> 8).
Refused, each with a stable code: ``out-of-range`` (7), ``decimal-answer`` (3.5),
``multiple-answers`` ("3, 4", "3 et 4", "3/4"), ``label-code-mismatch`` ("2 - Plutôt d'accord"),
``date-in-answer``, ``boolean-in-answer``, ``invalid-answer`` (any other text; a text longer than
:data:`MAX_ANSWER_CHARS` is refused before any normalization, and messages show at most
the first 60 characters of what was typed, so a hostile cell cannot bloat the log).
Formulas never reach this module: the reader refuses them first (``formula-in-answer``).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["MAX_ANSWER_CHARS", "AnswerCoder", "Coded", "normalize_label", "show_value"]

#: Longest text examined as an answer (labels are a few dozen characters).
MAX_ANSWER_CHARS = 1_000

_SPACES = re.compile(r"\s+")
_PUNCT_SPACE = re.compile(r" ?([;:!?»])|(«) ?")
_CODE_LABEL = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*(?:[-–—:.)=]\s*)?(.*)$")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_MULTI = re.compile(
    r"^\d+(?:[.,]0+)?(?:(?:\s*(?:,|;|/|&|\+|\bet\b|\band\b|\bou\b|\bor\b|-|–)\s*|\s+)\d+(?:[.,]0+)?)+$"
)


#: typographic apostrophes -> "'" (before NFKD, which splits "´" into a space and an accent)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})


def show_value(value) -> str:
    """``repr(value)``, at most 60 characters (a 20 MB cell must not become a 20 MB message)."""
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:57]) + f"... ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**60:
        return f"a {len(str(abs(value)) if abs(value) < 10**4000 else 'many')}-digit number"
    return repr(value)


def normalize_label(text: str) -> str:
    """Case-, accent-, apostrophe- and space-insensitive form of a label; the spaces French
    typography puts before ``: ; ! ?`` and inside « » do not matter either (a label typeset
    by :class:`instrument.typography.Typography` matches the same label typed plainly)."""
    text = str(text).translate(_APOSTROPHES)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _PUNCT_SPACE.sub(lambda m: m.group(1) or m.group(2), _SPACES.sub(" ", text))
    return text.strip().casefold()


@dataclass(frozen=True)
class Coded:
    """The outcome for one cell: a code (``int``), blank (``None``, no problem), or a problem."""

    code: int | None = None
    problem: str = ""  # stable code when refused
    message: str = ""


BLANK = Coded()


class AnswerCoder:
    """Codes the answers of one response set.

    Parameters
    ----------
    codes : scored codes, e.g. (1, 2, 3, 4, 5)
    missing_codes : recorded-but-never-scored codes, e.g. (8, 9)
    labels : mapping code -> labels (any languages) that also mean that code
    """

    def __init__(self, codes, missing_codes=(), labels=None):
        self.codes = tuple(int(c) for c in codes)
        self.missing_codes = tuple(int(c) for c in missing_codes)
        self.allowed = frozenset(self.codes + self.missing_codes)
        self.by_label: dict[str, int] = {}
        for code, texts in (labels or {}).items():
            for text in texts:
                if text:
                    self.by_label[normalize_label(text)] = int(code)
        self._range = f"{min(self.codes)}-{max(self.codes)}" + (
            f" (or {', '.join(map(str, self.missing_codes))})" if self.missing_codes else ""
        )
        # fast paths for what nearly every cell holds: a code as a number, or a label exactly
        # as the drop-down wrote it (same outcome as the full rules below, without their cost)
        self._numbers = {c: Coded(code=c) for c in self.allowed}
        self._exact = {str(c): Coded(code=c) for c in self.allowed}
        for code, texts in (labels or {}).items():
            for text in texts:
                if text and text == text.strip():
                    self._exact[text] = Coded(code=int(code))

    def _number(self, value: float, shown) -> Coded:
        if math.isnan(value) or math.isinf(value):
            return Coded(problem="invalid-answer", message=f"{show_value(shown)} is not an answer; expected {self._range}")
        if value != int(value):
            return Coded(problem="decimal-answer", message=f"{show_value(shown)} is not a whole answer code; expected {self._range}")
        code = int(value)
        if code not in self.allowed:
            return Coded(problem="out-of-range", message=f"{show_value(shown)} is outside the answer codes {self._range}")
        return Coded(code=code)

    def code(self, value) -> Coded:
        """Code one cell value as read from a workbook or CSV (None or "" = blank)."""
        kind = type(value)
        if kind is float or kind is int:
            hit = self._numbers.get(value)
            if hit is not None:
                return hit
        elif kind is str:
            hit = self._exact.get(value)
            if hit is not None:
                return hit
        return self._code(value)

    def _code(self, value) -> Coded:
        if value is None:
            return BLANK
        if isinstance(value, bool):
            return Coded(problem="boolean-in-answer", message=f"{show_value(value)} (TRUE/FALSE) is not an answer; expected {self._range}")
        if isinstance(value, int):  # exact, even beyond the range of a float
            if value in self.allowed:
                return Coded(code=value)
            return Coded(problem="out-of-range", message=f"{show_value(value)} is outside the answer codes {self._range}")
        if isinstance(value, float):  # numbers read from a workbook are floats: 7.0 is shown as 7
            return self._number(value, int(value) if value.is_integer() else value)
        if isinstance(value, str) and len(value) > MAX_ANSWER_CHARS:
            return Coded(problem="invalid-answer", message=f"a text of {len(value):,} characters ({show_value(value)}) "
                         f"is not an answer; expected {self._range}")
        if isinstance(value, _dt.date | _dt.datetime | _dt.time | _dt.timedelta):
            return Coded(problem="date-in-answer", message=f"a date or time ({value}) is not an answer; expected {self._range}")
        text = _SPACES.sub(" ", str(value).replace("\u00a0", " ")).strip()
        if not text:
            return BLANK
        label_code = self.by_label.get(normalize_label(text))
        if label_code is not None:
            return Coded(code=label_code)
        if _NUMBER.match(text):  # "4", "4.0", "4,0" (French decimal comma)
            return self._number(float(text.replace(",", ".")), text)
        if _MULTI.match(text):
            return Coded(problem="multiple-answers", message=f"{show_value(text)} holds more than one answer; choose one of {self._range}")
        match = _CODE_LABEL.match(text)
        if match:
            number, rest = match.group(1).replace(",", "."), match.group(2).strip()
            coded = self._number(float(number), text)
            if coded.problem or not rest:
                return coded
            rest_code = self.by_label.get(normalize_label(rest))
            if rest_code is None:
                return Coded(problem="invalid-answer", message=f"{show_value(text)}: {show_value(rest)} is not a label of this scale")
            if rest_code != coded.code:
                return Coded(
                    problem="label-code-mismatch",
                    message=f"{show_value(text)}: code {coded.code} does not go with the label {show_value(rest)} (code {rest_code})",
                )
            return coded
        return Coded(problem="invalid-answer", message=f"{show_value(text)} is not one of the answers ({self._range} or their labels)")
