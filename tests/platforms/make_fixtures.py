"""Write the platform export fixtures of tests/platforms/ (deterministic: same bytes each run).

One file per layout variant (see SOURCES.md for where each layout was read), each for
``data_samples/form_member.yaml``, 6 simulated respondents, with problems planted by hand
AFTER writing (so they are not the writer's doing): what each plants, and the outcome the
reader must give, is in ``expected.csv`` (``file``, ``status``, ``codes``: every problem code,
``;``-separated, warnings included; ``rows_in``, ``scored``, ``incomplete``, ``rejected``).

    .venv/bin/python tests/platforms/make_fixtures.py
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from instrument.form import load_form  # noqa: E402
from instrument.platforms import write_export  # noqa: E402
from instrument.simulate import Design, simulate  # noqa: E402

N = 6
#: file -> (source, variant)
FILES = {
    "kobo_xml_semicolon.csv": ("kobo", "csv"),
    "kobo_xml_comma_nogroups.csv": ("kobo", "csv-comma"),
    "kobo_xml.xlsx": ("kobo", "xlsx"),
    "kobo_labels_fr.csv": ("kobo", "labels-fr"),
    "kobo_labels_en.csv": ("kobo", "labels-en"),
    "odk_central.csv": ("odk", "central"),
    "odk_briefcase.csv": ("odk", "briefcase"),
    "limesurvey_codes.csv": ("limesurvey", "csv"),
    "limesurvey_full.csv": ("limesurvey", "csv-full"),
    "limesurvey_codes.xlsx": ("limesurvey", "xlsx"),
    "redcap_raw.csv": ("redcap", "raw"),
    "redcap_labels.csv": ("redcap", "labels"),
}


def read(path: Path) -> tuple[list, list, str, bool]:
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    sep = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    return rows[0], rows[1:], sep, bom


def write(path: Path, header: list, rows: list, sep: str, bom: bool, quote_all: bool) -> None:
    buffer = io.StringIO()
    w = csv.writer(buffer, delimiter=sep, lineterminator="\r\n" if bom or sep == ";" else "\n",
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))


def col(header: list, ending: str) -> int:
    return next(j for j, h in enumerate(header) if h == ending or h.endswith(("/" + ending, "-" + ending, "[" + ending + "]")))


def plant(name: str, path: Path) -> None:
    """The hand-planted problems of each fixture (the comment says what the reader must find)."""
    if path.suffix == ".xlsx":
        return  # clean: the .xlsx layouts are checked for equality with the workbooks
    header, rows, sep, bom = read(path)
    quote_all = name.startswith(("kobo", "limesurvey"))
    if name == "kobo_xml_semicolon.csv":
        rows[0][col(header, "trcpi1")] = "7"  # out-of-range
        rows.append(list(rows[1]))  # the same submission twice (same _uuid): duplicate-respondent
        rows[4][header.index("_validation_status")] = "validation_status_not_approved"  # rejected-on-platform
        header.append("g_trust/trold9")  # an item of no version of this form: unmapped-column
        for r in rows:
            r.append("3")
    elif name == "kobo_labels_fr.csv":
        # columns 0-1: start, end; 2-6: the context block; 7 on: the items
        rows[0][12] = "peut-être"  # invalid-answer
        rows[1][13] = "Je ne sais pas"  # the missing code's label: read as 8, no problem
    elif name == "odk_central.csv":
        rows[2][header.index("FormVersion")] = "0.9"  # another version of the form: the row is rejected
        rows[3][header.index("ReviewState")] = "rejected"  # a reviewer rejected it: rejected-on-platform
        j = col(header, "lgene1")  # an item dropped from the export: missing-item
        header.pop(j)
        for r in rows:
            r.pop(j)
    elif name == "limesurvey_codes.csv":
        rows[3][header.index("submitdate")] = ""  # not submitted: incomplete-response, left out
        rows[0][col(header, "scbri1")] = "N/A"  # LimeSurvey's "no answer": blank
    elif name == "limesurvey_full.csv":
        rows[4][header.index("Date submitted")] = ""  # incomplete-response
    elif name == "redcap_raw.csv":
        rows[0][col(header, "trcpi4")] = "UNK"  # REDCap missing-data code: read as 8 ("don't know")
        rows[1][col(header, "trcpi4")] = "NASK"  # not asked: blank
        rows[2][header.index("member_complete")] = "0"  # Incomplete: incomplete-response
        rows[3][header.index("member_complete")] = "1"  # Unverified: incomplete-response
        header[2:2] = ["redcap_repeat_instrument", "redcap_repeat_instance"]
        for r in rows:
            r[2:2] = ["", ""]
        other = [rows[0][0], "", "followup", "1", *[""] * (len(header) - 4)]
        rows.append(other)  # a row of another repeating instrument: other-instrument
    elif name == "redcap_labels.csv":
        rows[5][-1] = "Incomplete"  # incomplete-response
        again = list(rows[0])  # record 1 submitted again with another answer: duplicate-respondent (error)
        again[12] = "Plutôt en désaccord" if again[12] != "Plutôt en désaccord" else "Plutôt d'accord"
        rows.append(again)
    write(path, header, rows, sep, bom, quote_all)


def main() -> None:
    form = load_form(ROOT / "data_samples" / "form_member.yaml")
    sample = simulate(form, N, seed=15, design=Design(missing=0.0, dont_know=0.0, not_applicable=0.0))
    frame = sample.responses
    for name, (source, variant) in FILES.items():
        path = HERE / name
        write_export(form, frame, path, source, variant)
        plant(name, path)
    # refused files: another form (no item of ours), another version (most items renamed)
    header, rows, _sep, _bom = read(HERE / "kobo_xml_comma_nogroups.csv")
    keep = [j for j, h in enumerate(header) if h.startswith("_") or h in ("start", "end")]
    other = [header[j] for j in keep] + ["q1", "q2", "q3"]
    write(HERE / "kobo_other_form.csv", other, [[r[j] for j in keep] + ["1", "2", "3"] for r in rows], ",", False, True)
    header, rows, _sep, _bom = read(HERE / "redcap_raw.csv")
    renamed = [h if j < 10 or j % 5 == 0 else h + "_v2" for j, h in enumerate(header)]  # 4 items in 5 renamed
    renamed[-1] = "member_complete"
    write(HERE / "redcap_other_version.csv", renamed, rows, ",", False, False)


if __name__ == "__main__":
    main()
