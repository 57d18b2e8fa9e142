"""Read the data file of ``validate`` (and the other analysis commands) safely.

One reader per format, each bounded before the data is built: at most ``MAX_DATA_BYTES``
on disk and ``MAX_DATA_CELLS`` cells (rows x columns, read from the file's own metadata
for Parquet and SPSS before a row is loaded). An .xlsx goes through
:class:`instrument.workbook.Workbook`, the same checks as a returned questionnaire (zip
bombs, far-apart cells, declared-count bombs, decoy parts, XML entities), so no workbook
can make the process abort. Every refusal raises :class:`DataError` with a stable code and
the file's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DATA_SUFFIXES", "MAX_DATA_BYTES", "MAX_DATA_CELLS", "DataError", "read_data"]

DATA_SUFFIXES = (".csv", ".xlsx", ".parquet", ".sav")
MAX_DATA_BYTES = 512 * 2**20  #: largest data file read
MAX_DATA_CELLS = 5_000_000  #: most cells (rows x columns) in a data file: 100,000 x 50
_XLSX_PART_BYTES = 256 * 2**20  #: largest sheet part of a data workbook (5,000,000 cells of ~40 bytes)


class DataError(Exception):
    """A data file that cannot be read: ``code`` (kebab-case) and a message naming the file."""

    def __init__(self, code: str, message: str, status: int = 1):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


def read_data(path, *, allow_empty: bool = False) -> pd.DataFrame:
    """Read a data file: .csv (UTF-8, comma or semicolon), .xlsx (first sheet), .parquet,
    .sav (SPSS; user-missing values become NA). Raises :class:`DataError` naming the file.
    ``allow_empty``: a header without rows is a table of no rows (a ties table with no tie),
    not the ``empty-file`` error."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise DataError("unsupported-file", f"{path}: the data file must end with {', '.join(DATA_SUFFIXES)}; "
                        f"got {path.suffix or 'no suffix'!r}.", 2)
    if not path.is_file():
        raise DataError("missing-file", f"{path}: no such file.")
    size = path.stat().st_size
    if size > MAX_DATA_BYTES:
        raise DataError("file-too-large", f"{path}: {size:,} bytes; the limit for a data file is {MAX_DATA_BYTES:,}.")
    try:
        df = {".csv": _csv, ".xlsx": _xlsx, ".parquet": _parquet, ".sav": _sav}[suffix](path)
    except DataError:
        raise
    except RecursionError:
        raise DataError("corrupt-file", f"{path}: the {suffix} file nests too deeply to be read.") from None
    except MemoryError:
        raise DataError("file-too-large", f"{path}: the {suffix} file needs more memory than is available.") from None
    except Exception as e:  # a broken file: name it, say what the reader said
        raise DataError("corrupt-file", f"{path}: cannot read this {suffix} file ({type(e).__name__}: "
                        f"{str(e)[:300]}).") from e
    df.columns = [str(c).strip() for c in df.columns]
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise DataError("duplicate-column", f"{path}: column {dup[0][:80]!r} appears more than once.")
    if df.empty and not (allow_empty and len(df.columns)):
        raise DataError("empty-file", f"{path}: no rows of data.")
    return df


def _cells(path: Path, rows: int, cols: int) -> None:
    if rows * max(cols, 1) > MAX_DATA_CELLS:
        raise DataError("sheet-too-large", f"{path}: {rows:,} rows x {cols:,} columns; the limit is "
                        f"{MAX_DATA_CELLS:,} cells.")


def _csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    with open(path, "rb") as fh:  # a bound before pandas builds anything: lines x fields of the first line
        head = fh.readline(1_000_000)
        lines = 1 + sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(2**20), b""))
    _cells(path, lines, head.count(b",") + head.count(b";") + head.count(b"\t") + 1)
    df = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", dtype=str,
                     keep_default_na=False, na_values=[""])
    return df.apply(_maybe_numeric)


def _xlsx(path: Path) -> pd.DataFrame:
    import pandas as pd

    from instrument.workbook import Refused, Workbook

    try:
        book = Workbook(path.read_bytes(), max_cells=MAX_DATA_CELLS, max_part_bytes=_XLSX_PART_BYTES)
        if not book.sheets:
            raise DataError("empty-file", f"{path}: the workbook has no sheet.")
        grid = book.read(next(iter(book.sheets))).grid
    except Refused as r:
        where = f" (sheet {r.where['sheet']!r})" if r.where.get("sheet") else ""
        raise DataError(r.code, f"{path}{where}: {r.message}.") from None
    if not grid:
        raise DataError("empty-file", f"{path}: no rows of data.")
    header = [f"Unnamed: {j}" if v in ("", None) else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
              for j, v in enumerate(grid[0])]
    rows = [[None if v == "" else v for v in row] for row in grid[1:] if any(v != "" for v in row)]
    df = pd.DataFrame(rows, columns=header)
    return df.infer_objects()


def _parquet(path: Path) -> pd.DataFrame:
    import pandas as pd
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    _cells(path, meta.num_rows, meta.num_columns)
    return pd.read_parquet(path)


def _sav(path: Path) -> pd.DataFrame:
    import pyreadstat

    _df, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    cols = max(meta.number_columns or 1, 1)
    if meta.number_rows is not None and meta.number_rows >= 0:
        _cells(path, meta.number_rows, cols)
    limit = MAX_DATA_CELLS // cols + 1  # a file that does not say how many rows it has is read up to the bound
    df, _meta = pyreadstat.read_sav(str(path), row_limit=limit)
    _cells(path, len(df), cols)
    return df


def _maybe_numeric(col):
    import pandas as pd

    conv = pd.to_numeric(col.str.strip().str.replace(",", ".", regex=False), errors="coerce")
    if (conv.notna() | col.isna()).all():
        return conv
    return col
