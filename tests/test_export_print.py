"""The paper questionnaire: HTML (printed.py) and PDF (pdf.py) from the same template."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from form_fixture import make_form
from markupsafe import escape

from instrument.export import pdf, printed
from instrument.export.printed import BLOCK_SIZE, css_string, render, template_data
from instrument.resources import samples_dir
from instrument.typography import Typography


@pytest.fixture(scope="module")
def form():
    return make_form()


@pytest.fixture(scope="module")
def nasty():
    return make_form(nasty=True)


class _Table(HTMLParser):
    """Collects, per <table class="grid">, its column headers and each row's cells."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self.stack: list[str] = []
        self.cell: list[str] | None = None
        self.row: list[tuple[str, str, dict]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "grid" in (attrs.get("class") or ""):
            self.tables.append({"head": [], "rows": []})
        if not self.tables:
            return
        self.stack.append(tag)
        if tag == "tr":
            self.row = []
        if tag in ("td", "th"):
            self.cell = []
            self.cell_attrs = attrs
            self.cell_tag = tag

    def handle_endtag(self, tag):
        if not self.tables:
            return
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append((self.cell_tag, " ".join("".join(self.cell).split()), self.cell_attrs))
            self.cell = None
        if tag == "tr" and self.row is not None:
            where = "head" if "thead" in self.stack else "rows"
            self.tables[-1][where].append(self.row)
            self.row = None
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _grid(html: str) -> list[dict]:
    parser = _Table()
    parser.feed(html)
    return parser.tables


# --------------------------------------------------------------------------- HTML


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_html_holds_every_item_text_in_its_language_only(form, lang):
    html = render(form, lang=lang)
    other = "en" if lang == "fr" else "fr"
    assert f'<html lang="{lang}">' in html
    for item in form.items:
        assert str(escape(form.texts[item.id][lang])) in html, item.id
        assert str(escape(form.texts[item.id][other])) not in html, item.id
    assert str(escape(form.title[lang])) in html
    assert "{consortium}" not in html
    assert "Vivre ensemble à Lévis" in html


def test_html_is_self_contained(form):
    html = render(form, lang="fr")
    assert "<style>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html


def test_everything_from_the_spec_is_escaped(nasty):
    for lang in ("fr", "en"):
        html = render(nasty, lang=lang)
        assert "<script" not in html.lower()
        assert "&lt;script&gt;alert(" in html
        # the title also goes into the CSS page header: as hex escapes, never raw
        style = html[html.index("<style>") + len("<style>") : html.index("</style>")]
        assert "<" not in style and "alert(" not in style


def test_css_string_escapes_everything_but_letters_digits_spaces():
    out = str(css_string('a "b" </style> \\ \n é'))
    assert out.startswith('"') and out.endswith('"')
    inner = out[1:-1]
    # each escape is six hex digits and a space, so it never swallows the next character
    assert re.fullmatch(r"(?:[A-Za-z0-9 ]|\\[0-9a-f]{6} )*", inner)
    assert inner.count("\\") == 8  # " " < / > \ newline é
    assert "\\00003c " in inner and "\\0000e9 " in inner


@pytest.mark.parametrize(("paper", "size"), [("A4", "size: A4;"), ("Letter", "size: letter;"), ("letter", "size: letter;"), ("a4", "size: A4;")])
def test_page_size_css(form, paper, size):
    html = render(form, lang="fr", paper=paper)
    assert size in html
    assert "counter(page)" in html and "counter(pages)" in html


def test_bad_options_name_the_parameter(form):
    with pytest.raises(ValueError, match=r"'paper' parameter .* got 'A3'"):
        render(form, lang="fr", paper="A3")
    with pytest.raises(ValueError, match=r"'lang' parameter .* got 'de'"):
        render(form, lang="de")
    with pytest.raises(ValueError, match=r"'version' parameter .* got 'C'"):
        render(form, lang="fr", version="C")


def test_grid_table_semantics_and_codes(form):
    html = render(form, lang="fr")
    tables = _grid(html)
    labels = [c.label["fr"] for c in form.response_set.choices] + [c.label["fr"] for c in form.response_set.missing]
    rows = []
    for table in tables:
        assert len(table["head"]) == 1, "one header row per block (repeated on each page via thead)"
        head = table["head"][0]
        assert all(tag == "th" and attrs.get("scope") == "col" for tag, _, attrs in head)
        head_text = [text for _, text, _ in head[2:]]
        assert len(head_text) == len(labels) == 7
        for label, text, code in zip(labels, head_text, [1, 2, 3, 4, 5, 8, 9], strict=True):
            assert text == f"{label} {code}"
        for row in table["rows"]:
            if len(row) == 1:  # a recall-context row inside a mixed block
                assert row[0][2].get("scope") == "rowgroup"
                continue
            number, text, *boxes = row
            assert text[0] == "th" and text[2].get("scope") == "row"
            assert [b[1] for b in boxes] == ["☐"] * 7
            assert "miss-first" in boxes[5][2]["class"]
            rows.append((int(number[1]), text[1]))
    # every item once, numbered 1..k in form order
    assert [n for n, _ in rows] == list(range(1, len(form.items) + 1))
    assert [t for _, t in rows] == [Typography("fr").text(form.texts[i]["fr"]) for i in form.versions["A"]]
    assert "thead" in html and "break-inside: avoid" in html


def test_blocks_follow_recall_contexts_without_one_item_tables(form):
    data = template_data(form, lang="fr")
    blocks = data["blocks"]
    sizes = [sum(len(s["rows"]) for s in b["segments"]) for b in blocks]
    assert sum(sizes) == len(form.items)
    assert max(sizes) <= BLOCK_SIZE
    # the fixture: 12 items 'since_joined' (-> 6 + 6), 5 'since_org_joined', then three
    # alternating single items merged into the previous block (no one-item tables)
    assert sizes == [6, 6, 8]
    assert [b["single"] for b in blocks] == [True, True, False]
    mixed = blocks[2]["segments"]
    assert [len(s["rows"]) for s in mixed] == [5, 1, 1, 1]
    assert mixed[0]["recall"].startswith("Depuis que votre organisme participe au consortium Vivre ensemble")
    assert blocks[0]["recall"] == "Depuis que vous participez au consortium Vivre ensemble à Lévis"


def test_context_block_has_tick_boxes_and_write_in_boxes(form):
    html = render(form, lang="fr")
    section = html[html.index('class="context"') : html.index('class="items"')]
    for q in form.context_block:
        assert str(escape(Typography("fr").text(q.label["fr"]))) in section
        for c in q.choices:
            assert f"{escape(c.label['fr'])} <span class=\"code\"" in section
    years = section[section.index('id="q-years"') :]
    years = years[: years.index("</div>")]
    assert years.count('class="cell"') == 2  # 0..60: two digits
    cid = section[section.index('id="q-consortium_id"') :]
    assert cid[: cid.index("</div>")].count('class="cell"') == 10


def test_instructions_footer_and_meta(form):
    html = render(form, lang="fr", version="B")
    assert "une seule case par ligne" in html
    assert "confidentielles" in html
    assert "Je ne sais pas" in html and "Ne s&#39;applique pas" in html
    # the form id is shown as a code, never as a word of the French sentence ("Formulaire member")
    assert "Code du formulaire\u00a0: member · version 1.0 · ordre B · 3f9a1c0d" in html
    assert "Formulaire member" not in html
    en = render(form, lang="en")
    assert "Form code: member · version 1.0 · order A" in en and "confidential" in en


def test_write_one_file_per_version(form, tmp_path):
    written = printed.write(form, tmp_path / "member_fr.html", lang="fr")
    assert written == [tmp_path / "member_fr.html", tmp_path / "member_fr_B.html"]
    a, b = (p.read_text(encoding="utf-8") for p in written)
    rows_a = [r for t in _grid(a) for r in t["rows"] if len(r) > 1]
    rows_b = [r for t in _grid(b) for r in t["rows"] if len(r) > 1]
    assert rows_a[0][1][1] == form.texts[form.items[0].id]["fr"]
    assert rows_b[0][1][1] == form.texts[form.items[-1].id]["fr"]  # B = A reversed
    assert rows_b[0][0][1] == "1"
    only = printed.write(form, tmp_path / "only_b.html", lang="fr", version="B")
    assert only == [tmp_path / "only_b.html"]
    assert only[0].read_text(encoding="utf-8") == b
    single = make_form(versions=False)
    assert printed.write(single, tmp_path / "one.html", lang="en") == [tmp_path / "one.html"]
    assert not list(tmp_path.glob(".*.tmp"))


# --------------------------------------------------------------------------- PDF


def _pdfinfo(path: Path) -> dict:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def _need(tool: str):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")


@pytest.fixture(scope="module")
def pdfs(form, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    files = {}
    for lang in ("fr", "en"):
        for paper in ("A4", "Letter"):
            written = pdf.write(form, out / f"member_{lang}_{paper}.pdf", lang=lang, paper=paper)
            files[lang, paper] = written
    return files


def test_pdf_is_written_for_each_language_paper_and_version(pdfs):
    for (lang, paper), written in pdfs.items():
        assert [p.name for p in written] == [f"member_{lang}_{paper}.pdf", f"member_{lang}_{paper}_B.pdf"]
        for p in written:
            data = p.read_bytes()
            assert data.startswith(b"%PDF-")
            assert b"%%EOF" in data[-64:]


@pytest.mark.tool
@pytest.mark.parametrize(("paper", "points"), [("A4", "595.276 x 841.89"), ("Letter", "612 x 792")])
def test_pdf_page_size_and_count(pdfs, paper, points):
    _need("pdfinfo")
    for lang in ("fr", "en"):
        info = _pdfinfo(pdfs[lang, paper][0])
        assert info["Page size"].startswith(points)
        # 20 items + context block: more than the first page, far less than one page per item
        assert 2 <= int(info["Pages"]) <= 6
        assert info["Title"].startswith("Retombées" if lang == "fr" else "Benefits")


@pytest.mark.tool
def test_pdf_text_page_numbers_accents_and_repeated_headers(pdfs, form):
    _need("pdftotext")
    path = pdfs["fr", "A4"][0]
    pages = int(_pdfinfo(path)["Pages"]) if shutil.which("pdfinfo") else None
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    chunks = text.split("\f")
    chunks = [c for c in chunks if c.strip()]
    n = pages or len(chunks)
    for i, chunk in enumerate(chunks, start=1):
        assert f"Page {i} / {n}" in chunk
        assert "Code du formulaire : member · version 1.0 · ordre A" in chunk.replace("\u00a0", " ")
    # every page holding items starts its grid with the response labels
    for chunk in chunks[1:]:
        if re.search(r"^\s*\d+\s+\S", chunk, re.M):
            assert "Je ne sais" in chunk and "Tout à" in chunk
    flat = " ".join(text.split())
    assert "Retombées de la participation au consortium" in flat
    assert "Vivre ensemble à Lévis" in flat
    assert "Éducation" in flat and "Développement économique" in flat


@pytest.mark.tool
def test_pdf_renders_page_one(pdfs, tmp_path):
    _need("pdftoppm")
    path = pdfs["en", "Letter"][0]
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p*.png"))
    assert len(pngs) == 1
    data = pngs[0].read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5_000


@pytest.mark.tool
def test_pdf_shows_markup_as_text(nasty, tmp_path):
    _need("pdftotext")
    (path,) = pdf.write(nasty, tmp_path / "n.pdf", lang="fr", version="A")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert '<script>alert("x")</script>' in " ".join(text.split())


def test_pdf_bad_paper_writes_nothing(form, tmp_path):
    with pytest.raises(ValueError, match="'paper'"):
        pdf.write(form, tmp_path / "x.pdf", paper="A5")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- sample spec


def test_sample_form_from_the_bank(tmp_path):
    spec = samples_dir() / "form_member.yaml"
    from instrument.form import load_form

    real = load_form(spec)
    for lang in real.languages:
        html = render(real, lang=lang)
        for item in real.items:
            assert Typography(lang).nobr(real.texts[item.id][lang]) in html, item.id
        assert "{consortium}" not in html
        rows = [r for t in _grid(html) for r in t["rows"] if len(r) > 1]
        assert len(rows) == len(real.items)
    written = pdf.write(real, tmp_path / f"{real.id}_fr.pdf", lang="fr")
    assert len(written) == len(real.versions or {"A": ()})
    assert all(p.read_bytes().startswith(b"%PDF-") for p in written)


def test_french_text_has_its_spaces_and_names_keep_their_hyphen(form):
    html = render(form, lang="fr")
    # the stem ends with a narrow no-break space before "?" like "questionnaire !"
    assert "suivants\u202f?" in html and "suivants?" not in html
    assert "questionnaire\u202f!" in html and "questionnaire !" not in html
    # a hyphenated name is one unbreakable unit wherever it appears
    from instrument.form import load_form

    sample = render(load_form(samples_dir() / "form_member.yaml"), lang="fr")
    assert sample.count('<span class="nobr">Rivière-Claire</span>') >= 10
    assert "Rivière-Claire" not in sample.replace('<span class="nobr">Rivière-Claire</span>', "")
    en = render(form, lang="en")
    assert "statements?" in en and "\u202f?" not in en


@pytest.mark.tool
def test_pdf_headers_are_never_hyphenated_and_items_keep_their_recall(tmp_path):
    """The sample form (alternating recall contexts, a hyphenated consortium name): the
    response labels are whole words, every page of items starts with the recall lead-in of
    its first item, "Rivière-Claire" is never cut."""
    _need("pdftotext")
    from instrument.form import load_form

    sample = load_form(samples_dir() / "form_member.yaml")
    for lang, cut in (("fr", ("désac‐", "s'ap‐", "désac-", "s'ap-")), ("en", ("Some‐", "dis‐", "Some-what", "dis-agree"))):
        path = pdf.write(sample, tmp_path / f"s_{lang}.pdf", lang=lang, version="A")[0]
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        for piece in cut:
            assert piece not in text, piece
        assert not re.search(r"Rivière[-‐]\s*\n", text)
        for chunk in text.split("\f"):
            first_item = re.search(r"^\s{0,4}\d{1,2}\s+\S", chunk, re.M)
            if first_item and "…" in chunk:
                assert chunk.index("…") < first_item.start(), chunk[:600]
