"""instrument.answers: what people type in an answer cell -> a code, or a stable refusal code."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instrument.answers import AnswerCoder, Coded, normalize_label

LABELS = {
    1: ("Tout à fait en désaccord", "Strongly disagree"),
    2: ("Plutôt en désaccord", "Somewhat disagree"),
    3: ("Ni en accord ni en désaccord", "Neither agree nor disagree"),
    4: ("Plutôt d'accord", "Somewhat agree"),
    5: ("Tout à fait d'accord", "Strongly agree"),
    8: ("Je ne sais pas", "Don't know"),
    9: ("Ne s'applique pas", "Not applicable"),
}
CODES = (1, 2, 3, 4, 5)
MISSING = (8, 9)


def make_coder() -> AnswerCoder:
    # what instrument.returns.Expected gives: each label, and "<code> - <label>", both languages
    labels = {c: [t for text in texts for t in (text, f"{c} - {text}")] for c, texts in LABELS.items()}
    return AnswerCoder(CODES, MISSING, labels)


CODER = make_coder()

ACCEPTED = [
    # numbers, as numbers or as text
    (4, 4),
    (4.0, 4),
    (1, 1),
    ("4", 4),
    (" 4 ", 4),
    ("\u00a04\u00a0", 4),
    ("4.0", 4),
    ("4,0", 4),
    ("+4", 4),
    ("4.", 4),
    # missing codes are answers, kept as read
    (8, 8),
    ("9", 9),
    # labelled answers as the drop-down writes them, in either language
    ("4 - Plutôt d'accord", 4),
    ("4 - Somewhat agree", 4),
    ("8 - Je ne sais pas", 8),
    ("9 - Not applicable", 9),
    # the same with other separators or spacing
    ("4-Plutôt d'accord", 4),
    ("4 – Plutôt d'accord", 4),
    ("4: Plutôt d'accord", 4),
    ("4) Plutôt d'accord", 4),
    ("4 = Plutôt d'accord", 4),
    ("4 -   Plutôt   d'accord  ", 4),
    # bare labels: case, accents, apostrophes, spaces do not matter
    ("Plutôt d'accord", 4),
    ("Plutôt d’accord", 4),
    ("Plutôt d‘accord", 4),
    ("Plutôt d`accord", 4),
    ("plutot d'accord", 4),
    ("PLUTÔT D'ACCORD", 4),
    ("  plutôt   d'accord ", 4),
    ("tout a fait d'accord", 5),
    ("Somewhat agree", 4),
    ("somewhat AGREE", 4),
    ("Je ne sais pas", 8),
    ("je ne sais pas", 8),
    ("Ne s’applique pas", 9),
    ("don’t know", 8),
    ("Ni en accord ni en desaccord", 3),
    # blanks: no code, no problem
    (None, None),
    ("", None),
    ("   ", None),
    ("\u00a0", None),
]


@pytest.mark.parametrize(("value", "code"), ACCEPTED, ids=[repr(v) for v, _ in ACCEPTED])
def test_accepted_values_give_their_code(value, code):
    coded = CODER.code(value)
    assert coded == Coded(code=code), coded
    assert coded.problem == ""
    assert CODER._code(value) == coded  # the full rules, without the fast paths


REFUSED = [
    (7, "out-of-range"),
    (0, "out-of-range"),
    (-1, "out-of-range"),
    (6, "out-of-range"),
    ("7", "out-of-range"),
    ("7 - Plutôt d'accord", "out-of-range"),
    (10, "out-of-range"),
    (3.5, "decimal-answer"),
    ("3.5", "decimal-answer"),
    ("3,5", "decimal-answer"),
    (4.0000001, "decimal-answer"),
    ("3, 4", "multiple-answers"),
    ("3,4 ,5", "multiple-answers"),
    ("3 et 4", "multiple-answers"),
    ("3 ou 4", "multiple-answers"),
    ("3 and 4", "multiple-answers"),
    ("3 or 4", "multiple-answers"),
    ("3/4", "multiple-answers"),
    ("3; 4", "multiple-answers"),
    ("3 & 4", "multiple-answers"),
    ("3+4", "multiple-answers"),
    ("3-4", "multiple-answers"),
    ("3 – 4", "multiple-answers"),
    ("3 4", "multiple-answers"),
    ("2 - Plutôt d'accord", "label-code-mismatch"),
    ("5 - Somewhat agree", "label-code-mismatch"),
    ("8 - Not applicable", "label-code-mismatch"),
    (dt.date(2026, 3, 1), "date-in-answer"),
    (dt.datetime(2026, 3, 1, 9, 30), "date-in-answer"),
    (dt.time(4, 0), "date-in-answer"),
    (dt.timedelta(days=4), "date-in-answer"),
    (True, "boolean-in-answer"),
    (False, "boolean-in-answer"),
    ("peut-être", "invalid-answer"),
    ("x", "invalid-answer"),
    ("4 - peut-être", "invalid-answer"),
    ("Plutôt", "invalid-answer"),
    ("NSP", "invalid-answer"),
    (float("nan"), "invalid-answer"),
    (float("inf"), "invalid-answer"),
    (float("-inf"), "invalid-answer"),
    ("inf", "invalid-answer"),
    ("nan", "invalid-answer"),
]


@pytest.mark.parametrize(("value", "problem"), REFUSED, ids=[repr(v) for v, _ in REFUSED])
def test_refused_values_give_a_stable_code_and_no_answer(value, problem):
    coded = CODER.code(value)
    assert coded.code is None
    assert coded.problem == problem, coded
    assert coded.message, "a refusal says why"


def test_messages_name_the_value_and_the_allowed_codes():
    coded = CODER.code(7)
    assert "7" in coded.message and "1-5" in coded.message and "8, 9" in coded.message
    assert "7.0" not in CODER.code(7.0).message  # numbers read from Excel are floats: shown as typed
    assert "'3, 4'" in CODER.code("3, 4").message
    mismatch = CODER.code("2 - Plutôt d'accord").message
    assert "code 2" in mismatch and "(code 4)" in mismatch


def test_huge_integers_are_out_of_range_not_an_error():
    assert CODER.code(10**400).problem == "out-of-range"
    assert CODER.code(-(10**400)).problem == "out-of-range"
    assert CODER.code("1" * 400).problem in {"out-of-range", "invalid-answer"}


def test_no_missing_codes_means_8_is_out_of_range():
    coder = AnswerCoder((1, 2, 3, 4), (), {1: ["Jamais"], 4: ["Toujours"]})
    assert coder.code(8).problem == "out-of-range"
    assert coder.code("toujours") == Coded(code=4)
    assert "or" not in coder.code(8).message.split("codes")[1]


def test_normalize_label():
    assert normalize_label("  Plutôt   D’ACCORD ") == "plutot d'accord"
    assert normalize_label("Ne s\u2018applique\u00a0pas") == "ne s'applique pas"
    assert normalize_label("Ne s\u02bcapplique pas") == "ne s'applique pas"
    assert normalize_label("ÉCOLE") == "ecole"


# ----------------------------------------------------------------------------- properties
@given(st.integers(min_value=1, max_value=5) | st.sampled_from(MISSING))
def test_any_allowed_integer_gives_that_code(n):
    assert CODER.code(n) == Coded(code=n)
    assert CODER.code(float(n)) == Coded(code=n)
    assert CODER.code(str(n)) == Coded(code=n)
    assert CODER.code(f" {n}.0 ") == Coded(code=n)


@given(st.integers().filter(lambda n: n not in (*CODES, *MISSING)))
def test_any_other_integer_is_out_of_range(n):
    assert CODER.code(n).problem == "out-of-range"
    assert CODER.code(str(n)).problem == "out-of-range"


APOSTROPHES = ("'", "’", "‘", "`", "´", "ʼ")
SPACES = (" ", "  ", "\u00a0", "\t", " \u202f")


def strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@st.composite
def label_variants(draw):
    code = draw(st.sampled_from(sorted(LABELS)))
    text = draw(st.sampled_from(LABELS[code]))
    if draw(st.booleans()):
        text = strip_accents(text)
    text = "".join(ch.upper() if draw(st.booleans()) else ch.lower() for ch in text)
    text = text.replace("'", draw(st.sampled_from(APOSTROPHES)))
    words = text.split(" ")
    text = words[0]
    for w in words[1:]:
        text += draw(st.sampled_from(SPACES)) + w
    if draw(st.booleans()):
        text = f"{code}{draw(st.sampled_from([' - ', '-', ' – ', ': ', ' = ']))}{text}"
    text = draw(st.sampled_from(["", " ", "\u00a0", "  "])) + text + draw(st.sampled_from(["", " ", "\t"]))
    return text, code


@given(label_variants())
@settings(max_examples=300)
def test_any_label_variant_gives_its_code(case):
    text, code = case
    assert CODER.code(text) == Coded(code=code), text
    assert CODER._code(text) == Coded(code=code), text


ANYTHING = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.text(alphabet="0123456789 ,.;/-+–etouand")
    | st.dates()
    | st.datetimes()
    | st.times()
    | st.timedeltas()
    | st.decimals(allow_nan=False)
    | st.fractions()
)


@given(ANYTHING)
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_never_raises_and_always_answers_or_refuses(value):
    coded = CODER.code(value)
    assert isinstance(coded, Coded)
    assert coded == CODER._code(value), "the fast paths agree with the full rules"
    if coded.code is not None:
        assert coded.problem == "" and coded.code in (*CODES, *MISSING)
    elif coded.problem:
        assert coded.problem in {
            "out-of-range", "decimal-answer", "multiple-answers", "label-code-mismatch",
            "date-in-answer", "boolean-in-answer", "invalid-answer",
        }
        assert coded.message
