"""Every French output of the demo, as a reader sees it, holds no English word and no
decimal point; every English output no French word and no decimal comma.

What is scanned: the text of the HTML files (the figures' SVG text included), the text of
the PDFs (``pdftotext``), the strings of the visible sheets of the workbooks (cells, sheet
names, drop-down messages). Identifiers are not language: item and scale ids, the form
id, flag codes (``low-item-rest-r``), file names, R calls (``psych::alpha``), version
numbers and hashes are taken out before the scan.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

pytestmark = pytest.mark.slow

#: Words that are English only (never a French word, a name or a term the French text uses).
ENGLISH = {
    "the", "and", "of", "with", "from", "which", "when", "not", "is", "are", "or", "to",
    "configural", "default", "removal", "raises", "statistics", "small-cell", "scale", "scales",
    "factor", "factors", "loading", "loadings", "missing", "respondent", "respondents",
    "answer", "answers", "agree", "disagree", "strongly", "somewhat", "form", "member",
    "members", "yes", "kind", "facet", "construct", "select_one", "integer", "item-rest",
    "intercept", "intercepts", "threshold", "thresholds", "suppressed", "reliability",
    "flagged", "ready", "code:",
}
#: Words that are French only.
FRENCH = {
    "le", "la", "les", "des", "du", "et", "avec", "pour", "est", "une", "dans", "sur",
    "réponse", "réponses", "échelle", "échelles", "énoncé", "énoncés", "désaccord",
    "formulaire", "accord", "personnes", "oui", "non", "seuil", "saturation", "facette",
    "construit", "manquant", "suite",
}
#: Names and terms both languages print as they are.
SHARED = re.compile(
    r"et al\.|Rivière-Claire|Agir ensemble à Rivière-Claire|Statistique Canada|"
    r"Banque de dépannage linguistique|Vivre Saint-Michel en santé|"
    r"Bentler & Chou|Hu & Bentler|Fornell & Larcker|Meade & Craig|Yoon & Millsap", re.I)
IDENT = re.compile(
    r"\b[a-z]+[0-9]+\b"                      # item ids (trcpi1)
    r"|\b[a-z]+(?:_[a-z0-9]+)+\b"            # scale and column ids (trust_competence)
    r"|\b[a-z]+(?:-[a-z0-9]+)+\b"            # flag codes (low-item-rest-r)
    r"|\b[\w.-]+\.(?:xlsx|csv|json|yaml|pdf|html|sav|parquet)\b"   # file names
    r"|\b\w+::[\w.]+"                        # R calls (psych::alpha, lavaan::lavTestScore)
    r"|\b[A-Za-z_]\w*\.[A-Za-z_][\w.]*\(?"   # dotted names (fa.parallel, pm.validate)
    r"|\b[0-9a-f]{8,64}\b"                   # hashes
    r"|--[a-z-]+"                            # command-line options
    r"|\bintangibles\b[^\n]*"                # command lines
    r"|(?i:formulaire|form code)\s*:\s*\w+"    # the form id, shown as a code
)
VERSION = re.compile(r"\b(?:version|v)\s*\d+(?:\.\d+)+|\b\d{4}\.\d+\b|\b\d+\.\d+\s*(?:·|\()", re.I)


VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


class _Text(HTMLParser):
    """The text a reader of the page's language reads: not the CSS, not the code
    (``<code>``), not what is marked in another language (``lang="en"`` in a French page:
    the bilingual codebook's English column)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.lang = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag in VOID:
            return
        other = tag != "html" and attrs.get("lang") not in (None, self.lang)
        self.stack.append((tag, tag in ("style", "script", "title", "code") or other))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not any(skip for _, skip in self.stack):
            self.parts.append(data)


def html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return "\n".join(parser.parts)


def pdf_text(path: Path) -> str:
    """The PDF's text; the letters of rotated figure labels come out one by one, so words
    under 3 letters are left to the scan of the same figures in the HTML."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return re.sub(r"(?<![\w'-])[A-Za-zÀ-ÿ]{1,2}(?![\w'-])", " ", text)


def xlsx_text(path: Path) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    parts = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        parts.append(ws.title)
        hidden = {k for k, d in ws.column_dimensions.items() if d.hidden}
        for row in ws.iter_rows():
            parts += [str(c.value) for c in row if c.value is not None and c.column_letter not in hidden]
        for dv in ws.data_validations.dataValidation:
            parts += [x for x in (dv.error, dv.errorTitle, dv.prompt, dv.promptTitle) if x]
    return "\n".join(parts)


def reader_text(path: Path) -> str:
    return {".html": html_text, ".pdf": pdf_text, ".xlsx": xlsx_text}[path.suffix](path)


def problems(text: str, lang: str, idents=()) -> list[str]:
    """English (French) words and decimal points (commas) in ``text`` of ``lang``;
    ``idents``: more identifiers (column names) to leave out."""
    text = SHARED.sub(" ", text)
    for ident in sorted(idents, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(ident)}(?![\w-])", " ", text)
    text = VERSION.sub(" ", text)
    text = IDENT.sub(" ", text)
    words = set(re.findall(r"[A-Za-zÀ-ÿ_:'-]+", text.lower()))
    words = {w.strip("'-:") for w in words} | {w for w in words if w.endswith(":")}
    wrong = ENGLISH if lang == "fr" else FRENCH
    found = sorted(w for w in words if w in wrong)
    if lang == "fr":
        found += [f"decimal point: {m.group(0)}" for m in re.finditer(r"(?<![\w.])\d+\.\d+(?![\w.])", text)]
    else:
        found += [f"decimal comma: {m.group(0)}" for m in re.finditer(r"(?<![\w,])\d+,\d{1,2}(?![\d,])", text)]
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's outputs, and the English report drawn from the same results."""
    from instrument.demo import demo_command
    from instrument.form import load_form
    from instrument.resources import samples_dir
    from instrument.validation import group_labels, render_html
    from psychometrics.report import Validation

    out = tmp_path_factory.mktemp("demo-scan")
    console = Console(file=io.StringIO(), width=200, color_system=None)
    assert demo_command(out, n=300, seed=2026, console=console) == 0
    results = json.loads((out / "report" / "results.json").read_text(encoding="utf-8"))
    form = load_form(samples_dir() / "form_member.yaml")
    labels = {i: dict(form.texts[i]) for i in form.item_ids}
    labels.update({s.name: dict(s.label) for s in form.scales if s.label})
    source = {"data": "scores.xlsx", "form": "form_member.yaml",
              "scale_kinds": {s.name: s.kind for s in form.scales}, "labels": group_labels(form, ["language"])}
    html = render_html(Validation(results, results["flags"], labels), lang="en", source=source)
    (out / "report" / "report_en.html").write_text(html, encoding="utf-8")
    return out


def outputs(out: Path, lang: str) -> list[Path]:
    other = "en" if lang == "fr" else "fr"
    files = [p for p in sorted((out / "questionnaire").iterdir())
             if p.suffix in (".html", ".pdf", ".xlsx") and f"_{lang}" in p.stem and f"_{other}" not in p.stem]
    report = [out / "report" / "report.html", out / "report" / "report.pdf"] if lang == "fr" else [
        out / "report" / "report_en.html"]
    return files + report


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_outputs_speak_one_language(demo, lang):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    files = outputs(demo, lang)
    assert len(files) >= 8
    from instrument.form import load_form
    from instrument.resources import samples_dir

    form = load_form(samples_dir() / "form_member.yaml")
    # identifiers shown as such: the form id, the grid's variable names
    columns = [form.id, "respondent", "language", *(q.id for q in form.context_block)]
    found = {p.name: problems(reader_text(p), lang, columns) for p in files}
    assert not {k: v for k, v in found.items() if v}, found


def test_the_scan_would_catch_the_old_defects():
    assert "configural" in problems("Modèle configural (même structure)", "fr")
    assert "member" in problems("Formulaire member · version 1.0", "fr")
    assert any("decimal point" in x for x in problems("saturation 0.2 sur l'axe", "fr"))
    assert not problems("Code du formulaire : member · version 1.0 · trcpi1 · low-item-rest-r · psych::alpha", "fr")
    assert any("decimal comma" in x for x in problems("a loading of 0,45", "en"))
    assert not problems("1,234 respondents et al. 2007", "en")
