"""Writing files safely: every output goes to a temporary file beside its target, then
is renamed over it, so an interrupted run leaves the previous output intact and never a
half-written file.

Outputs are also reproducible: the same inputs give the same bytes. Writers that stamp the
time of writing are corrected: the zip entries and ``docProps/core.xml`` dates of an .xlsx
(:func:`reproducible_zip`, :func:`save_workbook`), the header dates of SPSS .sav and Stata
.dta files (:func:`fix_timestamps`). The date written is ``SOURCE_DATE_EPOCH`` when that
variable is set (the reproducible-builds convention), else 1980-01-01 00:00 UTC.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "OutputError",
    "atomic_path",
    "check_output",
    "fix_timestamps",
    "output_time",
    "reproducible_zip",
    "save_workbook",
    "write_bytes",
    "write_text",
]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``target``.

    Use it with writers that want a path (openpyxl, pyreadstat, WeasyPrint)::

        with atomic_path(out) as tmp:
            workbook.save(tmp)

    On any exception the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


class OutputError(Exception):
    """An output path that cannot or must not be written: ``code`` (kebab-case) and a message."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, 2


def _real(path: Path) -> Path:
    return Path(os.path.normcase(os.path.realpath(path)))


def check_output(target: str | os.PathLike, *, inputs=(), others=(), suffixes=None, folder: bool = False) -> Path:
    """The one guard of every output path, called BEFORE any work: raises :class:`OutputError`.

    ``inputs``: the files and folders read (an output must not be one of them, nor inside an
    input folder, where the next run would read it as input); ``others``: the other outputs of
    the same run (``--log``: two outputs on one path would replace each other); ``suffixes``:
    the suffixes allowed (``folder=True``: the target is a folder to create or fill). Checks
    that the target is not an existing folder (or, for a folder, not an existing file), that no
    parent is a file, and that the nearest existing parent folder is writable.
    """
    target = Path(target)
    real = _real(target)
    if not folder and target.is_dir():
        raise OutputError("output-is-folder", f"{target} is a folder; --out names a file (e.g. scores.csv).")
    if suffixes is not None and not folder and target.suffix.lower() not in suffixes:
        raise OutputError("bad-output-suffix", f"{target}: the output must end with {', '.join(suffixes)}; got "
                          f"{target.suffix or 'no suffix'!r}.")
    for item in inputs:
        item = Path(item)
        if _real(item) == real:
            raise OutputError("output-is-input", f"{target} is an input of this run: it would be overwritten.")
        if item.is_dir() and real.is_relative_to(_real(item)):
            if real.is_file():
                raise OutputError("output-is-input", f"{target} is an input of this run: it would be overwritten.")
            raise OutputError("output-in-input-folder", f"{target} is inside the input folder {item}: the next run "
                              "would read it as input; write it elsewhere.")
        if folder and _real(item).is_relative_to(real):
            raise OutputError("output-is-input", f"the output folder {target} holds the input {item}.")
    for other in others:
        if other is not None and _real(Path(other)) == real:
            raise OutputError("output-collision", f"{target} is also the path of another output of this run ({other}).")
    if folder and target.exists() and not target.is_dir():
        raise OutputError("output-not-folder", f"{target} exists and is a file; --out names a folder.")
    parent = target.parent if not folder else target
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError("output-parent-not-folder", f"{target}: {parent} is a file, not a folder.")
    try:  # a real probe: permissions, ACLs and read-only mounts all answer here
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise OutputError("output-not-writable", f"{target}: the folder {parent} cannot be written to "
                          f"({exc.strerror or exc}).") from None
    return target


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (fsync before rename)."""
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(target)


def write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically."""
    return write_bytes(target, text.encode(encoding))


def output_time() -> _dt.datetime:
    """The date stamped in outputs: ``SOURCE_DATE_EPOCH`` (UTC) if set, else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC).replace(tzinfo=None)
        return max(moment, _dt.datetime(1980, 1, 1))  # a zip cannot store an earlier date
    return _dt.datetime(1980, 1, 1)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CORE_DATE = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)")


def reproducible_zip(data: bytes) -> bytes:
    """The same zip (an .xlsx) with every entry dated :func:`output_time`, fixed permissions,
    and the ``created``/``modified`` dates of ``docProps/core.xml`` set to that time (openpyxl
    writes the time of saving in both places). Entries keep their order and content."""
    moment = output_time()
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_DATE.sub(lambda m: m.group(1) + stamp + m.group(2), body)
            fixed = zipfile.ZipInfo(info.filename, date_time=moment.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, body)
    return out.getvalue()


def save_workbook(workbook, target: str | os.PathLike) -> Path:
    """Save an openpyxl workbook to ``target`` atomically and reproducibly."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return write_bytes(target, reproducible_zip(buffer.getvalue()))


def fix_timestamps(path: str | os.PathLike) -> None:
    """Replace the time of writing that ReadStat stamps in a .sav header (bytes 92-108,
    ``dd Mon yy`` + ``hh:mm:ss``) or a .dta header (``<timestamp>``) by :func:`output_time`."""
    path = Path(path)
    moment = output_time()
    month = _MONTHS[moment.month - 1]  # English abbreviations whatever the locale, as ReadStat writes them
    with open(path, "r+b") as fh:
        head = fh.read(1024)
        if head[:4] in (b"$FL2", b"$FL3") and len(head) >= 109:
            fh.seek(92)
            fh.write(f"{moment:%d} {month} {moment:%y}{moment:%H:%M:%S}".encode("ascii"))
        else:
            at = head.find(b"<timestamp>")
            if at >= 0 and head[at + 11] == 17:
                fh.seek(at + 12)
                fh.write(f"{moment:%d} {month} {moment:%Y %H:%M}".encode("ascii"))
