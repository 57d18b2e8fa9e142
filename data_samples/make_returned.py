"""Write ``data_samples/returned/``: sample returned files for ``form_member.yaml``.

Clean workbooks (French and English, order versions A and B), messy ones (what people
really type), foreign ones (another form version, a deleted ``_meta`` sheet, an .xls renamed
.xlsx, a CSV with wrong columns) and a duplicate respondent, each with its expected outcome
in ``returned/expected.csv`` (also listed in ``data_samples/README.md``).

The workbooks come from the project's own exporters (:mod:`instrument.export.xlsx` and
:mod:`instrument.export.grid`); the answers and the messy edits are written with openpyxl.
Deterministic: the same code gives the same bytes (fixed zip timestamps and document dates)::

    .venv/bin/python data_samples/make_returned.py
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "form_member.yaml"
OUT = HERE / "returned"
FIXED_TIME = (2026, 1, 15, 12, 0, 0)
FIXED_STAMP = "2026-01-15T12:00:00Z"

#: file -> (status, problem codes, respondents read, what it is). ``codes`` lists every
#: problem code the file gets (errors and warnings, the rejection reason included).
EXPECTED: dict[str, tuple[str, tuple[str, ...], int, str]] = {}


def expect(name, status, codes=(), respondents=1, what=""):
    EXPECTED[name] = (status, tuple(sorted(codes)), respondents, what)


# ----------------------------------------------------------------------------- helpers
def deterministic(data: bytes) -> bytes:
    """Fixed zip timestamps and document dates: the same workbook gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                part = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_STAMP.encode(), part)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, part)
    return out.getvalue()


def save(wb, name: str) -> Path:
    buf = io.BytesIO()
    wb.save(buf)
    path = OUT / name
    path.write_bytes(deterministic(buf.getvalue()))
    return path


def meta_of(wb) -> dict:
    return {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True) if r[0]}


def answer_cells(wb) -> tuple[object, dict]:
    meta = meta_of(wb)
    return wb[meta["answer_sheet"]], {k[5:]: v for k, v in meta.items() if k.startswith("cell:")}


def choice_label(form, code: int, lang: str) -> str:
    from instrument.export.common import labelled

    choice = next(c for c in form.response_set.all_choices() if c.code == code)
    return labelled(choice, lang)


def context_answers(form, lang: str, i: int) -> dict:
    """Context answers as a respondent picks them in the drop-downs."""
    from instrument.export.common import labelled

    out = {}
    for q in form.context_block:
        if q.type == "select_one":
            out[q.id] = labelled(q.choices[i % len(q.choices)], lang)
        elif q.type == "integer":
            out[q.id] = 2 + i
        else:
            out[q.id] = f"RC{1 + i % 3:02d}"
    return out


def respondent_workbook(form, sample, index: int, *, lang: str, version: str, respondent: str, blanks=()):
    """A personalized workbook filled with simulated respondent ``index``'s answers."""
    import pandas as pd

    from instrument.export.xlsx import build_workbook

    wb = build_workbook(form, lang=lang, version=version, respondent=respondent)
    ws, cells = answer_cells(wb)
    row = sample.responses.iloc[index]
    for qid, value in context_answers(form, lang, index).items():
        ws[cells[qid]] = value
    for item in form.item_ids:
        code = row[item]
        if item in blanks or pd.isna(code):
            continue
        ws[cells[item]] = choice_label(form, int(code), lang)
    return wb, ws, cells


# ----------------------------------------------------------------------------- the files
def build() -> dict:
    from openpyxl.utils.cell import (
        column_index_from_string,
        coordinate_from_string,
        get_column_letter,
    )

    from instrument.export.grid import build_workbook as build_grid
    from instrument.export.xlsx import build_workbook
    from instrument.form import load_form
    from instrument.simulate import Design, simulate

    form = load_form(SPEC)
    # complete answers (no blank, no missing code) so every planted value is the only oddity
    sample = simulate(form, 12, seed=2026, design=Design(missing=0.0, dont_know=0.0, not_applicable=0.0))
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()

    # clean: both languages, both order versions; a few blanks and missing codes in one
    wb, _, _ = respondent_workbook(form, sample, 0, lang="fr", version="A", respondent="R101")
    save(wb, "member_R101_fr.xlsx")
    expect("member_R101_fr.xlsx", "scored", what="propre / clean: fr, version A")
    wb, _, _ = respondent_workbook(form, sample, 1, lang="fr", version="B", respondent="R102")
    save(wb, "member_R102_fr_B.xlsx")
    expect("member_R102_fr_B.xlsx", "scored", what="propre / clean: fr, version B")
    wb, _, _ = respondent_workbook(form, sample, 2, lang="en", version="A", respondent="R103")
    save(wb, "member_R103_en.xlsx")
    expect("member_R103_en.xlsx", "scored", what="propre / clean: en, version A")
    wb, ws, cells = respondent_workbook(
        form, sample, 3, lang="en", version="B", respondent="R104", blanks=("trcpi4", "scaci3", "drtio1")
    )
    ws[cells["lesei2"]] = choice_label(form, 8, "en")  # Don't know
    ws[cells["lgcri1"]] = choice_label(form, 9, "en")  # Not applicable
    save(wb, "member_R104_en_B.xlsx")
    expect("member_R104_en_B.xlsx", "scored",
           what="propre / clean: en, version B, 3 blanks, « Don't know », « Not applicable »")

    # messy but readable: every value is coerced to its code, no problem
    wb, ws, cells = respondent_workbook(form, sample, 4, lang="fr", version="A", respondent="R105")
    for item, value in MESSY_ACCEPTED.items():
        ws[cells[item]] = value[0]
    save(wb, "member_R105_fr_messy-accepted.xlsx")
    expect("member_R105_fr_messy-accepted.xlsx", "scored",
           what="libellés sans code, nombres en texte, espaces, apostrophe courbe, « Je ne sais pas »... "
                "tout est lu / labels without codes, numbers as text, stray spaces, curly apostrophe: all read")

    # messy and refused cell by cell: the other answers are kept
    wb, ws, cells = respondent_workbook(form, sample, 5, lang="fr", version="B", respondent="R106")
    for item, (value, _) in MESSY_REFUSED.items():
        ws[cells[item]] = value
    save(wb, "member_R106_fr_B_messy-refused.xlsx")
    expect("member_R106_fr_B_messy-refused.xlsx", "scored-with-issues",
           codes=sorted({code for _, code in MESSY_REFUSED.values()}),
           what="7, 3,5, « 3, 4 », « 2 - Plutôt d'accord », « peut-être », une date, VRAI : refusés cellule "
                "par cellule / refused cell by cell")

    # a formula in an item cell and one in a context cell; an answer typed beside its cell
    wb, ws, cells = respondent_workbook(form, sample, 6, lang="en", version="A", respondent="R107")
    ws[cells[FORMULA_ITEM]] = "=3+1"
    ws[cells["years"]] = "=2+3"
    ws[cells[BESIDE_ITEM]] = None
    letters, row_number = coordinate_from_string(cells[BESIDE_ITEM])
    beside = f"{get_column_letter(column_index_from_string(letters) + 1)}{row_number}"
    ws[beside] = choice_label(form, 4, "en")
    save(wb, "member_R107_en_formula-beside.xlsx")
    expect("member_R107_en_formula-beside.xlsx", "scored-with-issues",
           codes=("answer-outside-cell", "formula-in-answer"),
           what="formule (jamais évaluée) et réponse tapée à côté de sa cellule / a formula (never evaluated) "
                "and an answer typed beside its cell")

    # a blank workbook (sent back untouched)
    save(build_workbook(form, lang="fr", version="A"), "member_fr_blank.xlsx")
    expect("member_fr_blank.xlsx", "rejected", ("empty-response",), 0, "classeur vide / blank workbook")

    # a filled data-entry grid: several respondents, one row without a respondent code
    grid = build_grid(form, lang="fr", version="A", rows=8)
    meta = meta_of(grid)
    ws = grid[meta["answer_sheet"]]
    col = {k[4:]: v for k, v in meta.items() if k.startswith("col:")}
    first = int(meta["first_data_row"])
    codes = ["G201", "G202", 1203, None]  # 1203: a numeric code as a clerk types it
    for k, code in enumerate(codes):
        r = first + k + (1 if k == 3 else 0)  # an empty row before the last one
        row = sample.responses.iloc[7 + k]
        ws[f"{col['respondent']}{r}"] = code
        ws[f"{col['sector']}{r}"] = 1 + k % 3
        ws[f"{col['years']}{r}"] = 5 + k
        for item in form.item_ids:
            ws[f"{col[item]}{r}"] = int(row[item])
    ws[f"{col['lesei1']}{first}"] = 8  # don't know, as a bare code
    save(grid, "member_grid_fr.xlsx")
    expect("member_grid_fr.xlsx", "scored", ("missing-respondent-code",), 4,
           "grille de saisie : 4 personnes, une ligne sans code (avertissement) / data-entry grid: 4 respondents, "
           "one row without a respondent code (warning)")

    # a CSV export from a spreadsheet (French Excel: semicolons), matched by its columns only
    with open(OUT / "member_entry.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(["respondent", *[q.id for q in form.context_block], *form.item_ids])
        for k, code in enumerate(("C301", "C302")):
            row = sample.responses.iloc[10 + k]
            writer.writerow([code, 2, 3, 1, 4, "RC02", *[int(row[i]) for i in form.item_ids]])
    expect("member_entry.csv", "scored", ("no-metadata",), 2,
           "CSV (séparateur « ; ») : pas d'empreinte du formulaire, lu par ses colonnes (avertissement) / "
           "CSV with semicolons: no form fingerprint, matched by its columns (warning)")

    # foreign: another version of the form (a modified copy of the spec)
    with tempfile.TemporaryDirectory() as tmp:
        spec2 = Path(tmp) / "form_member_v2.yaml"
        text = SPEC.read_text(encoding="utf-8")
        spec2.write_text(text.replace('version: "1.0"', 'version: "2.0"', 1), encoding="utf-8")
        form2 = load_form(spec2)
    assert form2.version == "2.0"
    wb, _, _ = respondent_workbook(form2, sample, 8, lang="fr", version="A", respondent="R130")
    save(wb, "member_R130_fr_v2.xlsx")
    expect("member_R130_fr_v2.xlsx", "rejected", ("unknown-form-version",), 0,
           "classeur d'une autre version du formulaire (2.0) / workbook of another form version (2.0)")

    # foreign: the hidden _meta sheet deleted
    wb, _, _ = respondent_workbook(form, sample, 9, lang="fr", version="A", respondent="R131")
    wb.security = None
    del wb["_meta"]
    save(wb, "member_R131_fr_no-meta.xlsx")
    expect("member_R131_fr_no-meta.xlsx", "rejected", ("missing-metadata",), 0,
           "feuille _meta supprimée / _meta sheet deleted")

    # foreign: an old .xls renamed .xlsx (the OLE2 signature is what the reader checks)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    (OUT / "member_R132_en.xlsx").write_bytes(ole)
    expect("member_R132_en.xlsx", "rejected", ("legacy-xls",), 0,
           "un .xls renommé .xlsx / an .xls renamed .xlsx")

    # foreign: a CSV whose columns do not match the form (ids renamed by hand)
    with open(OUT / "member_wrong-columns.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        renamed = [f"Q{n}" if n % 10 == 0 else i for n, i in enumerate(form.item_ids)]
        writer.writerow(["respondent", *renamed])
        writer.writerow(["C401", *[3] * len(renamed)])
    expect("member_wrong-columns.csv", "rejected", ("missing-column",), 0,
           "CSV dont des colonnes ont été renommées / CSV with renamed columns")

    # the same respondent code in two files (sent twice): both kept, both reported
    wb, _, _ = respondent_workbook(form, sample, 10, lang="fr", version="A", respondent="R140")
    save(wb, "member_R140_fr.xlsx")
    wb, ws, cells = respondent_workbook(form, sample, 11, lang="fr", version="A", respondent="R140")
    save(wb, "member_R140_fr (1).xlsx")
    for name in ("member_R140_fr.xlsx", "member_R140_fr (1).xlsx"):
        expect(name, "scored", ("duplicate-respondent",),
               what="même code R140 dans deux fichiers (avertissement) / same code R140 in two files (warning)")

    # this list itself: a stray CSV in the folder is accounted for too
    expect("expected.csv", "rejected", ("other-form",), 0,
           "cette liste : un CSV étranger est aussi compté / this list: a stray CSV is accounted for too")
    with open(OUT / "expected.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "status", "codes", "respondents", "what"])
        for name, (status, codes_, n, what) in sorted(EXPECTED.items()):
            writer.writerow([name, status, ";".join(codes_), n, what])
    return EXPECTED


#: R105 (fr, version A): item -> (what is typed, the code it must give)
MESSY_ACCEPTED = {
    "trcpi1": ("Plutôt d'accord", 4),  # label without its code
    "trcpi4": ("4", 4),  # number as text
    "trcpi5": ("  5  ", 5),  # stray spaces
    "trcpo1": ("Plutôt d’accord", 4),  # curly apostrophe
    "trigi1": ("tout a fait d'accord", 5),  # lower case, accents dropped
    "trigi2": ("Je ne sais pas", 8),  # "don't know" without its code
    "trigo1": (3, 3),  # a number
    "trigo5": ("2,0", 2),  # French decimal comma
    "trige1": ("4-Plutôt d'accord", 4),  # no spaces around the dash
    "scbri1": ("Somewhat agree", 4),  # the English label in a French workbook
    "scbri3": ("ne s’applique pas", 9),  # "not applicable", lower case, curly apostrophe
    "scbri5": ("2 -  Plutôt  en désaccord ", 2),  # doubled spaces
}

#: R106 (fr, version B): item -> (what is typed, the refusal code)
MESSY_REFUSED = {
    "trcpi1": (7, "out-of-range"),
    "trcpi4": (3.5, "decimal-answer"),
    "trcpi5": ("3, 4", "multiple-answers"),
    "trcpo1": ("2 - Plutôt d'accord", "label-code-mismatch"),
    "trigi1": ("peut-être", "invalid-answer"),
    "trigi2": (dt.datetime(2026, 3, 1), "date-in-answer"),
    "trigo1": (True, "boolean-in-answer"),
}

#: R107 (en, version A): the item holding a formula, and the one answered beside its cell
FORMULA_ITEM = "scaci1"
BESIDE_ITEM = "lepri1"


if __name__ == "__main__":
    expected = build()
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{len(expected)} files written to {OUT} ({total / 1024:.0f} KB)")
