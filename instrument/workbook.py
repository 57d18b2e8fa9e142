"""The one reader of .xlsx zips: every size and safety check, then python-calamine on a clean copy.

Every consumer of a workbook (returned questionnaires in :mod:`instrument.returns`, the data
files of ``validate``, the workbooks ``simulate`` fills) opens it through :class:`Workbook`.
Before python-calamine parses a byte, the zip's directory is checked (at most ``MAX_MEMBERS``
entries, read from its end record before zipfile builds one object per entry; each part at
most ``MAX_MEMBER_BYTES`` uncompressed, the archive at most ``MAX_TOTAL_BYTES``, compression
ratio at most ``MAX_RATIO`` for parts over 1 MB; no two members of one name, no absolute or
``..`` name, no symbolic link, no Unicode-path extra field that names another part), and the
parts calamine reads are scanned as streams in 1 MB chunks: the values of a sheet must span
at most ``max_cells`` cells from A1 (calamine builds a dense grid: two values at A1 and
XFD1048576 would ask for 17 billion; an empty or whitespace-only cell is not a value, so a
stray space in XFD81 does not count) and ``MAX_MERGED`` merged ranges; the shared strings at most
``MAX_STRINGS`` (counted, and as declared: calamine reserves memory for the declared count);
the workbook at most ``MAX_SHEETS`` sheets; no part declares XML entities.

python-calamine is then fed a NEW zip holding only the parts those checks read, under the names
this reader gave them (the root relationships rewritten to point at ``xl/workbook.xml``): a
decoy member (a second name through the zip's Unicode-path extra field, a relationship to
another workbook or shared-strings part) cannot make it read something the checks did not.
A sheet that needed the exact pass (formulas, cells without positions, unusual XML, or blank
cells far away) is itself rewritten by that pass with only the cells holding a value
(:class:`_Rewrite`): calamine then reads exactly the cells the checks placed.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import itemgetter
from pathlib import PurePosixPath
from xml.sax.saxutils import escape

from instrument.answers import show_value

__all__ = [
    "CHUNK",
    "MAX_CELLS",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_MERGED",
    "MAX_RATIO",
    "MAX_SHEETS",
    "MAX_STRINGS",
    "MAX_TOTAL_BYTES",
    "Refused",
    "Sheet",
    "Workbook",
    "cell_name",
    "check_directory",
    "split_cell",
]

MAX_MEMBER_BYTES = 64 * 2**20  #: largest uncompressed XML part read (a 100,000-cell grid is ~10 MB)
MAX_TOTAL_BYTES = 256 * 2**20  #: largest uncompressed archive
MAX_RATIO = 200  #: largest compression ratio of a part over 1 MB (zip bombs)
MAX_CELLS = 500_000  #: largest sheet read (rows x columns from A1; a 2,000-respondent x 250-column grid)
MAX_MERGED = 50_000  #: most merged ranges in a sheet read
MAX_STRINGS = 500_000  #: most shared strings in a workbook
MAX_SHEETS = 1_000  #: most sheets (and workbook relationships) in a workbook
MAX_MEMBERS = 10_000  #: most parts in a workbook's zip (its central directory, read before anything)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"  # r:id as expat names it
_ENTITY = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
# Quick scans of a sheet part (each starts with a literal, so it runs at C speed). Elements
# with a namespace prefix ("<x:c"), formulas ("<f") or NUL bytes (UTF-16) send the part to
# the exact streaming pass; so does any cell or row whose start tag is not "simple": its
# position first (r="D14", double quotes), then only attributes separated by one space whose
# values are plain tokens (so no second r, no ">" inside a value).
_PREFIXED = re.compile(rb":(?:c|row|f|mergeCell)[\s/>]")
_FORMULA = re.compile(rb"<f[\s/>]")
_C_SIMPLE = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: (?!r=)[\w.:-]++="[\w.: -]*+")*+ ?/?>')
_ROW_SIMPLE = re.compile(rb'<row r="([0-9]{1,7})"(?: (?!r=)[\w.:-]++="[\w.: -]*+")*+ ?/?>')
_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"(?: [\w.:-]++="[\w.: -]*+")*? t="e"')
_TAG_ENDS = (b" ", b">", b"/", b"\t", b"\n", b"\r")  #: what may follow an element's name
_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def _count_tags(data: bytes, name: bytes) -> int:
    """Start tags ``<name`` (without a prefix) in ``data``: plain counts, faster than a regex."""
    return sum(data.count(b"<" + name + end) for end in _TAG_ENDS)


_SI_TAG = re.compile(rb"[<:]si[\s/>]")
_UNIQUE_COUNT = re.compile(rb"\suniqueCount\s*=\s*[\"']\s*([0-9]+)")
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
CHUNK = 2**20  #: parts larger than this are scanned as a stream, in chunks of this size


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


@lru_cache(maxsize=4096)
def split_cell(address: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})", address.strip().upper())
    if not m or int(m.group(2)) < 1:  # row 0 would be read as the last row (index -1)
        raise ValueError(address)
    return int(m.group(2)) - 1, _col_index(m.group(1))


@lru_cache(maxsize=65536)
def cell_name(row: int, col: int) -> str:
    letters, col = "", col + 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


class Refused(Exception):
    def __init__(self, code: str, message: str, **where):
        super().__init__(message)
        self.code, self.message, self.where = code, message, where


def _unsafe_name(name: str) -> bool:
    """A zip member name no spreadsheet program writes: absolute, with a drive, or with '..'."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts or "\x00" in name


def _unicode_path(extra: bytes) -> str | None:
    """The name in an Info-ZIP Unicode-path extra field (0x7075) of a zip entry, if any
    (readers that honour it, like the Rust zip crate under python-calamine, use it instead
    of the entry's name; Python's zipfile ignores it)."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind == 0x7075:
            raw = extra[at + 9 : at + 4 + size] if size >= 5 else b""
            return raw.decode("utf-8", errors="replace")
        at += 4 + size
    return None


def _local_extra(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The extra field of an entry's local header (a second place a reader may take a name from)."""
    at = info.header_offset
    if at < 0 or at + 30 > len(data) or data[at : at + 4] != b"PK\x03\x04":
        return b""
    name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
    return data[at + 30 + name_len : at + 30 + name_len + extra_len]


def check_directory(data: bytes) -> None:
    """The zip's central directory, from its end record, before any reader builds one object
    per entry (300,000 empty entries in a 26 MB file took 325 MB): at most ``MAX_MEMBERS``
    entries in at most ``MAX_MEMBERS`` x 1 kB. Read where zipfile reads it (the zip64 end
    record when its locator is there); a zip without an end record is left to zipfile."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if at < 0 or at + 22 > len(data):
        return
    entries, size = struct.unpack_from("<HI", data, at + 10)
    if at >= 20 and data[at - 20 : at - 16] == b"PK\x06\x07":
        record = struct.unpack_from("<Q", data, at - 12)[0]
        if 0 <= record <= len(data) - 56 and data[record : record + 4] == b"PK\x06\x06":
            entries, size = struct.unpack_from("<QQ", data, record + 32)
    if entries > MAX_MEMBERS or size > MAX_MEMBERS * 1024:
        raise Refused("zip-bomb", f"the zip lists {entries:,} parts in a {size:,}-byte directory; a workbook has "
                       f"a few dozen (limit {MAX_MEMBERS:,})")


class _Archive:
    """The zip of an .xlsx, opened with every size and safety check before a byte is parsed.

    The parts python-calamine reads are checked here first: the answer sheet and ``_meta``
    (:meth:`scan_sheet`: size of the area, formulas), the shared strings and styles (:meth:`check_parts`),
    and the zip itself (sizes, ratios, duplicate or unsafe member names), so that what this
    class checked is exactly what calamine reads, and calamine never allocates more than
    the limits allow.
    """

    def __init__(self, data: bytes, max_cells: int = MAX_CELLS, max_part_bytes: int | None = None):
        self.max_cells = max_cells
        part_limit = MAX_MEMBER_BYTES if max_part_bytes is None else max_part_bytes
        total_limit = max(MAX_TOTAL_BYTES, 2 * part_limit)
        check_directory(data)
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Refused("corrupt-file", f"not a readable .xlsx (damaged or truncated zip: {exc})") from None
        names = {i.filename for i in infos}
        if "mimetype" in names:
            raise Refused("ods-not-supported", "an OpenDocument spreadsheet (.ods): save it as .xlsx (Excel 2007+)")
        if "xl/vbaProject.bin" in names:
            raise Refused("macro-enabled", "a macro-enabled workbook (.xlsm): save it as a plain .xlsx; macros are never run")
        if "xl/workbook.bin" in names:
            raise Refused("corrupt-file", "a binary workbook (.xlsb): save it as .xlsx (Excel 2007+)")
        if "xl/workbook.xml" not in names:
            raise Refused("corrupt-file", "not an Excel workbook (no xl/workbook.xml)")
        seen: set[str] = set()
        for info in infos:
            # two members of one name: this reader and python-calamine could read different ones
            key = info.filename.replace("\\", "/").casefold()
            if key in seen:
                raise Refused("unsafe-zip", f"the zip holds two parts named {show_value(info.filename)} (a tampered file)")
            seen.add(key)
            if _unsafe_name(info.filename):
                raise Refused("unsafe-zip", f"the zip holds a part named {show_value(info.filename)} (an absolute path or '..'); "
                               "no spreadsheet program writes that")
            alias = _unicode_path(info.extra)
            alias = alias if alias is not None else _unicode_path(_local_extra(data, info))
            if alias is not None and alias != info.filename:
                raise Refused("unsafe-zip", f"the zip part {show_value(info.filename)} claims the name {show_value(alias)} in its "
                              "Unicode-path extra field: two readers would see two different files (a tampered file)")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise Refused("unsafe-zip", f"the zip part {show_value(info.filename)} is a symbolic link")
            if info.flag_bits & 0x1:
                raise Refused("encrypted-workbook", f"the zip part {show_value(info.filename)} is encrypted: remove the password, "
                               "save as .xlsx, and send the file again")
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > part_limit or (info.file_size > 2**20 and ratio > MAX_RATIO):
                raise Refused(
                    "zip-bomb" if ratio > MAX_RATIO else "sheet-too-large",
                    f"part {info.filename} expands to {info.file_size:,} bytes (ratio {ratio:.0f}); "
                    f"the limits are {part_limit:,} bytes and a ratio of {MAX_RATIO}",
                )
        if total > total_limit:
            raise Refused("zip-bomb", f"the workbook expands to {total:,} bytes (limit {total_limit:,})")
        self.names = names
        self.external_links = sorted(n for n in names if n.startswith("xl/externalLinks/"))

    def read(self, name: str) -> bytes:
        try:
            data = self.zf.read(name)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
            raise Refused("corrupt-file", f"cannot read part {name}: {exc}") from None
        if _ENTITY.search(data[:4096]) or (b"<!ENTITY" in data):
            raise Refused("xml-entities", f"part {name} declares XML entities (DOCTYPE/ENTITY), refused unread")
        return data

    def chunks(self, name: str):
        """The bytes of a part, in chunks of ``CHUNK`` (memory stays small whatever its size)."""
        try:
            with self.zf.open(name) as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
        except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
            raise Refused("corrupt-file", f"cannot read part {name}: {exc}") from None

    def sheets(self) -> dict[str, tuple[str, str]]:
        """Sheet name -> (part path, state) from workbook.xml and its relationships."""
        try:
            xml = self.read("xl/workbook.xml")
            if b"purl.oclc.org/ooxml/spreadsheetml" in xml[:4096]:
                raise Refused("strict-ooxml", "a Strict Open XML workbook: open it in Excel and save it as an ordinary "
                              "'Excel Workbook (.xlsx)' (File > Save As), then send it again")
            wb = _start_tags(xml, "sheet")
            rels_xml = self.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in self.names else b"<r/>"
            rels = _start_tags(rels_xml, "Relationship")
        except Refused:
            raise
        except Exception as exc:  # expat.ExpatError, a DTD or an entity declaration
            raise Refused("corrupt-file", f"workbook.xml cannot be parsed safely: {exc}") from None
        targets: dict = {}
        for r in rels:
            if r.get("Id") in targets:  # which one would calamine take? refuse rather than guess
                raise Refused("corrupt-file", f"workbook.xml.rels defines the relationship {show_value(r.get('Id'))} twice")
            targets[r.get("Id")] = r.get("Target", "")
        out: dict = {}
        folded: set = set()
        for sheet in wb:
            name = sheet.get("name")
            if name is None or name.casefold() in folded:  # Excel forbids it; two readers could differ
                raise Refused("corrupt-file", f"workbook.xml lists the sheet name {show_value(name)} twice (or none)")
            folded.add(name.casefold())
            target = targets.get(sheet.get(_REL_ID), "")
            path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            out[name] = (path, sheet.get("state", "visible"))
        return out

    def check_parts(self) -> None:
        """The parts python-calamine parses when it opens the workbook: the styles and the
        shared strings declare no XML entities, and there are at most ``MAX_STRINGS`` shared
        strings, counted and as declared (calamine reserves memory for the declared
        ``uniqueCount`` before it reads a string). Read as a stream."""
        for part in ("xl/styles.xml", "xl/sharedStrings.xml"):
            if part in self.names:
                self._check_part(part, count=part.endswith("Strings.xml"))

    def _check_part(self, part: str, count: bool) -> None:
        n, tail, first = 0, b"", True
        for chunk in self.chunks(part):
            data = tail + chunk
            if (first and _ENTITY.search(data[:4096])) or b"<!ENTITY" in data:
                raise Refused("xml-entities", f"part {part} declares XML entities (DOCTYPE/ENTITY), refused unread")
            if count:
                if first:
                    at = data.find(b"sst")
                    declared = _UNIQUE_COUNT.search(data[at : data.find(b">", at) + 1]) if at >= 0 else None
                    if declared and int(declared.group(1)) > MAX_STRINGS:
                        raise Refused("sheet-too-large", f"the workbook declares {int(declared.group(1)):,} shared "
                                       f"strings (limit {MAX_STRINGS:,})")
                n += len(_SI_TAG.findall(data, max(len(tail) - 3, 0)))
                if n > MAX_STRINGS:
                    raise Refused("sheet-too-large", f"the workbook holds more than {MAX_STRINGS:,} shared strings")
            first, tail = False, data[-8:]

    def scan_sheet(self, part: str, sheet: str) -> Scanned:
        """The cells of a sheet part that hold a formula or an Excel error value (A1 name ->
        ``"formula"`` or ``"error"``: calamine reads an error as a blank), after checking that the
        sheet python-calamine would build (a dense grid from A1 to its last value) has at
        most ``max_cells`` cells and ``MAX_MERGED`` merged ranges.

        Parts in the form every spreadsheet program writes (each cell and row with its
        position first), whose whole area from A1 is under the limit, are checked with regexes
        (large ones piece by piece) and given to calamine as they are. Any other part (formulas,
        cells without positions, odd quoting or encodings, or an area over the limit) goes
        through :class:`_Rewrite`, a streaming expat pass that places every cell exactly as
        calamine does and writes the sheet calamine then reads: only the cells holding a value,
        so an empty or whitespace-only cell far away (a stray space in XFD81) is not data and
        does not count towards the area.
        """
        try:
            size = self.zf.getinfo(part).file_size
        except KeyError:
            raise Refused("corrupt-file", f"the sheet {show_value(sheet)} has no part {show_value(part)} in the workbook", sheet=sheet) from None
        flagged = self._scan_quick(part, sheet, size)
        return Scanned(flagged, None) if flagged is not None else self._rewrite(part, sheet)

    def _scan_quick(self, part: str, sheet: str, size: int) -> dict[str, str] | None:
        """The regex checks of :meth:`scan_sheet` (None: the part needs the streaming pass).
        A part over ``CHUNK`` is checked piece by piece, each piece ending after a ``</row>``
        (so no tag is cut in two) and holding at most a few MB: a platform's 5,000-row export
        (a 14 MB sheet) is checked in ~0.1 s instead of ~1 s of expat callbacks, and a
        1,000,000-row sheet leaves at its first pieces (the streaming pass then refuses it
        as soon as its values span more than the limit)."""
        last_row = last_col = merged = 0
        errors: dict[str, str] = {}
        for piece in self._row_pieces(part) if size > CHUNK else (self.read(part),):
            if piece is None or b"\x00" in piece or b"<!" in piece or _FORMULA.search(piece) or _PREFIXED.search(piece):
                return None
            cells = _C_SIMPLE.findall(piece)
            rows = _ROW_SIMPLE.findall(piece)
            if len(cells) != _count_tags(piece, b"c") or len(rows) != _count_tags(piece, b"row"):
                return None
            numbers = {*rows, *map(_SECOND, cells)}  # distinct values first: a piece holds ~20,000 cells
            if numbers:
                last_row = max(last_row, *map(int, numbers))
            if cells:
                last_col = max(last_col, max(_col_index(c.decode()) for c in set(map(_FIRST, cells))) + 1)
            merged += _count_tags(piece, b"mergeCell")
            _check_merged(merged, sheet)
            if last_row * max(last_col, 1) > self.max_cells:  # blank cells count here: the exact pass decides
                return None
            if b' t="e"' in piece:
                errors.update({m.decode(): "error" for m in _ERROR_CELL.findall(piece)})
        return errors

    def _row_pieces(self, part: str):
        """The part in pieces that end after a ``</row>`` (None when no row ends within 8 MB)."""
        buffer = b""
        for chunk in self.chunks(part):
            buffer += chunk
            cut = buffer.rfind(b"</row>")
            if cut < 0:
                if len(buffer) > 8 * CHUNK:
                    yield None
                    return
                continue
            cut += len(b"</row>")
            yield buffer[:cut]
            buffer = buffer[cut:]
        yield buffer

    def _rewrite(self, part: str, sheet: str) -> Scanned:
        """The streaming pass of :meth:`scan_sheet`: flagged cells, and the sheet rewritten
        with only the cells holding a value (see :class:`_Rewrite`)."""
        from xml.parsers import expat

        rewrite = _Rewrite(sheet, self.max_cells, self.blank_strings)
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = rewrite.start
        parser.EndElementHandler = rewrite.end
        parser.CharacterDataHandler = rewrite.text
        parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = rewrite.refuse
        try:
            for chunk in self.chunks(part):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise Refused("corrupt-file", f"the sheet {show_value(sheet)} is not well-formed XML ({exc})", sheet=sheet) from None
        return Scanned(rewrite.flagged, rewrite.xml())

    @cached_property
    def blank_strings(self) -> frozenset[int]:
        """The indexes of the shared strings that are empty or whitespace only (a cell pointing
        at one holds no value). Read as a stream, the phonetic runs (``rPh``) left out as calamine
        leaves them out."""
        from xml.parsers import expat

        if "xl/sharedStrings.xml" not in self.names:
            return frozenset()
        blank: set[int] = set()
        st = {"index": -1, "text": [], "in_t": False, "phonetic": 0}

        def start(name, _attrs):
            local = name.rpartition(":")[2]
            if local == "si":
                st["index"] += 1
                st["text"] = []
            elif local == "rPh":
                st["phonetic"] += 1
            elif local == "t" and not st["phonetic"]:
                st["in_t"] = True

        def end(name):
            local = name.rpartition(":")[2]
            if local == "si" and not "".join(st["text"]).strip():
                blank.add(st["index"])
            elif local == "rPh":
                st["phonetic"] -= 1
            elif local == "t":
                st["in_t"] = False

        def text(data):
            if st["in_t"] and not st["phonetic"]:
                st["text"].append(data)

        def refuse(*_args):
            raise Refused("xml-entities", "part xl/sharedStrings.xml declares XML entities (DOCTYPE/ENTITY), refused unread")

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
        parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = refuse
        try:
            for chunk in self.chunks("xl/sharedStrings.xml"):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise Refused("corrupt-file", f"the shared strings are not well-formed XML ({exc})") from None
        return frozenset(blank)


@dataclass(frozen=True)
class Scanned:
    """What :meth:`_Archive.scan_sheet` found: the flagged cells (A1 name -> ``"formula"`` or
    ``"error"``) and the sheet part to give calamine (None: the part as it is in the zip)."""

    flagged: dict
    xml: bytes | None


_PLAIN = re.compile(r"[\w.:-]{1,32}")  #: an attribute value copied into the rewritten sheet (a style index, a type)


class _Rewrite:
    """The expat handlers of the exact pass over a sheet: every cell placed as calamine places
    it (a cell without a position: the row's row, the column after the previous cell's; a row
    without one: the next row), formulas and error values flagged, and the sheet written anew
    with only the cells that hold a value: a number, a boolean, a date, or a text that is not
    whitespace only (inline, or a shared string that is not blank). Empty cells, blank texts,
    error values (calamine reads them as blanks), rows, formulas' text, the dimension and
    everything but the merged ranges are left out; the area from A1 to the last value kept
    must stay under ``max_cells``, checked as the cells are read (a 1,000,000-row sheet is
    refused at its first 500,000 cells)."""

    def __init__(self, sheet: str, max_cells: int, blank_strings):
        self.sheet, self.max_cells, self.blank_strings = sheet, max_cells, blank_strings
        self.flagged: dict[str, str] = {}
        self.row, self.col, self.rows, self.cols, self.merged = -1, -1, 0, 0, 0
        self.cell: dict | None = None
        self.capture: list | None = None  # where the text being read goes (a value, an inline string)
        self.phonetic = 0
        self.out: list[bytes] = []
        self.out_row = -1
        self.merges: list[bytes] = []

    def start(self, name, attrs):
        local = name.rpartition(":")[2]  # no namespace processing: "x:c" -> "c"
        if local == "c":
            self._start_cell(attrs)
        elif local == "row":
            ref = attrs.get("r")
            if ref is None:
                self.row += 1
            elif ref.isascii() and ref.isdigit() and 0 < int(ref) <= 1_048_576:
                self.row = int(ref) - 1
            else:
                raise Refused("corrupt-file", f"a row of sheet {show_value(self.sheet)} has the number {show_value(ref[:20])}",
                              sheet=self.sheet)
            self.col = -1
        elif self.cell is not None:
            if local == "f":
                self.flagged[self.cell["name"]] = "formula"
            elif local == "v":
                self.capture = self.cell["v"]
            elif local == "rPh":
                self.phonetic += 1
            elif local == "t" and not self.phonetic:
                self.capture = self.cell["is"]
        elif local == "mergeCell":
            self.merged += 1
            _check_merged(self.merged, self.sheet)
            ref = attrs.get("ref", "")
            if re.fullmatch(r"[A-Z]{1,3}[0-9]{1,7}(?::[A-Z]{1,3}[0-9]{1,7})?", ref):
                self.merges.append(f'<mergeCell ref="{ref}"/>'.encode())

    def _start_cell(self, attrs):
        ref = attrs.get("r")
        if ref is None:
            r, c = self.row, self.col + 1
        else:
            m = _REF.fullmatch(ref)
            if not m or int(m.group(2)) < 1:
                raise Refused("corrupt-file", f"a cell of sheet {show_value(self.sheet)} has the position "
                              f"{show_value(ref[:20])}", sheet=self.sheet)
            r, c = int(m.group(2)) - 1, _col_index(m.group(1).upper())
        r = max(r, 0)
        self.col = c
        self.cell = {"pos": (r, c), "name": cell_name(r, c), "t": attrs.get("t", "n"), "s": attrs.get("s"),
                     "v": [], "is": []}
        if self.cell["t"] == "e":
            self.flagged.setdefault(self.cell["name"], "error")

    def end(self, name):
        local = name.rpartition(":")[2]
        if local == "c" and self.cell is not None:
            self._keep(self.cell)
            self.cell = self.capture = None
        elif local in ("v", "t"):
            self.capture = None
        elif local == "rPh":
            self.phonetic -= 1

    def text(self, data):
        if self.capture is not None and not self.phonetic:
            self.capture.append(data)

    def refuse(self, *_args):
        raise Refused("xml-entities", f"the sheet {show_value(self.sheet)} declares a DTD or XML entities, refused unparsed",
                      sheet=self.sheet)

    def _keep(self, cell: dict) -> None:
        """Write the cell into the new sheet when it holds a value (and grow the area)."""
        kind = cell["t"] if _PLAIN.fullmatch(cell["t"]) else "n"
        text = "".join(cell["is"] if kind == "inlineStr" else cell["v"])
        if kind == "e" or not text.strip():
            return
        if kind == "s" and text.strip().isdigit() and int(text) in self.blank_strings:
            return
        r, c = cell["pos"]
        if r + 1 > self.rows or c + 1 > self.cols:
            self.rows, self.cols = max(self.rows, r + 1), max(self.cols, c + 1)
            if self.rows * self.cols > self.max_cells:
                _check_area(self.rows, self.cols, self.sheet, self.max_cells, cell["name"])
        if r != self.out_row:
            self.out.append(b"</row>" if self.out_row >= 0 else b"")
            self.out.append(b'<row r="%d">' % (r + 1))
            self.out_row = r
        style = f' s="{cell["s"]}"' if cell["s"] and _PLAIN.fullmatch(cell["s"]) else ""
        body = (f'<is><t xml:space="preserve">{_escape(text)}</t></is>' if kind == "inlineStr"
                else f"<v>{_escape(text)}</v>")
        self.out.append(f'<c r="{cell["name"]}"{style} t="{kind}">{body}</c>'.encode())
        if len(self.out) > 4096:  # one bytes object per few thousand cells, not one per cell
            self.out[:] = [b"".join(self.out)]

    def xml(self) -> bytes:
        merges = b"".join(self.merges)
        return b"".join((b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="',
                         MAIN_NS.encode(), b'"><sheetData>', *self.out, b"</row>" if self.out_row >= 0 else b"",
                         b"</sheetData>", b'<mergeCells count="%d">%s</mergeCells>' % (len(self.merges), merges)
                         if merges else b"", b"</worksheet>"))


def _escape(text: str) -> str:
    """Text for the rewritten sheet: ``& < >`` escaped, a carriage return kept as a reference
    (an XML parser would read a literal one as a line feed)."""
    return escape(text, {"\r": "&#13;"})


def _check_merged(merged: int, sheet: str) -> None:
    if merged > MAX_MERGED:
        raise Refused("sheet-too-large", f"the sheet {show_value(sheet)} has more than {MAX_MERGED:,} merged ranges "
                       f"(limit {MAX_MERGED:,})", sheet=sheet)


def _check_area(rows: int, cols: int, sheet: str, max_cells: int, last: str) -> None:
    """Refuse a sheet whose values span more than ``max_cells`` cells from A1 (``last``: the value that goes past)."""
    if rows * cols > max_cells:
        raise Refused("sheet-too-large", f"the sheet {show_value(sheet)} spans {rows:,} rows x {cols:,} columns from A1 "
                      f"(up to the value in {last}); the limit is {max_cells:,} cells: delete what lies far from the rest",
                      sheet=sheet, cell=last)


def _start_tags(data: bytes, local_name: str) -> list[dict]:
    """The attributes of every element named ``local_name`` (any namespace), namespaced
    attributes as ``uri}name``. A plain expat pass, several times faster than building a
    tree; like defusedxml it refuses any DTD or entity declaration (``read`` already
    refuses them before a byte is parsed)."""
    from xml.parsers import expat

    found: list[dict] = []

    def start(name, attrs):
        if name.rpartition("}")[2] == local_name:
            found.append(attrs)
            if len(found) > MAX_SHEETS:
                raise Refused("too-many-sheets", f"the workbook lists more than {MAX_SHEETS:,} {local_name} "
                               "elements; a returned questionnaire has a few sheets")

    def refuse(*_args):
        raise Refused("xml-entities", "an XML part declares a DTD or entities, refused unparsed")

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.Parse(data, True)
    return found




_ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
              b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
              b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
              b"</Relationships>")
_BOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/sharedStrings.xml")


@dataclass(frozen=True)
class Sheet:
    """One sheet as python-calamine read it from the checked parts.

    ``grid``: rows of values from A1 (``""`` for a blank cell); ``flagged``: A1 name ->
    ``"formula"`` or ``"error"`` (found in the XML: calamine gives a formula's cached value and
    reads an error value as blank); ``merged``: calamine's merged ranges ``((r0, c0), (r1, c1))``.
    """

    name: str
    grid: list
    flagged: dict
    merged: list


class Workbook:
    """An .xlsx opened through every check of this module; :meth:`read` gives a sheet.

    ``max_cells`` bounds the area of a sheet read (calamine holds ~100 bytes per cell),
    ``max_part_bytes`` the uncompressed size of a part (default ``MAX_MEMBER_BYTES``; the
    archive may hold twice that, at least ``MAX_TOTAL_BYTES``). Raises :class:`Refused` (with
    a stable code) for anything unsafe or unreadable.
    """

    def __init__(self, data: bytes, *, max_cells: int = MAX_CELLS, max_part_bytes: int | None = None):
        self._archive = _Archive(data, max_cells, max_part_bytes)
        self.sheets = self._archive.sheets()  # name -> (part, state)
        self.external_links = self._archive.external_links
        self._parts_checked = False

    def read(self, name: str) -> Sheet:
        """The sheet ``name``: its part scanned (area, formulas, error values), then read by
        python-calamine from a new zip of only the parts checked."""
        import python_calamine as pc

        archive = self._archive
        if not self._parts_checked:
            archive.check_parts()
            self._parts_checked = True
        part = self.sheets[name][0]
        scanned = archive.scan_sheet(part, name)
        try:
            book = pc.CalamineWorkbook.from_filelike(io.BytesIO(self._clean_zip(part, scanned.xml)))
            sheet = book.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except Exception as exc:  # calamine errors on damaged parts
            raise Refused("corrupt-file", f"the sheet {show_value(name)} cannot be read: {exc}", sheet=name) from None
        return Sheet(name, grid, scanned.flagged, list(merged))

    def _clean_zip(self, sheet_part: str, sheet_xml: bytes | None) -> bytes:
        """A new zip of the parts this module checked, under the names it read them by (the
        sheet as :meth:`_Archive.scan_sheet` rewrote it, when it did)."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as clean:
            clean.writestr("_rels/.rels", _ROOT_RELS)
            if sheet_xml is not None:
                clean.writestr(sheet_part, sheet_xml)
            for part in (*_BOOK_PARTS, sheet_part):
                if part in self._archive.names and not (part == sheet_part and sheet_xml is not None):
                    with clean.open(part, "w", force_zip64=True) as fh:
                        for chunk in self._archive.chunks(part):
                            fh.write(chunk)
        return out.getvalue()
