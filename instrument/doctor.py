"""``intangibles doctor``: what the toolkit needs, what this machine has, how to fix a gap.

One command a research assistant runs when something looks wrong. It checks, and reports
in French or English:

- Python (>= 3.11) and every Python package against ``requirements-lock.txt`` (the
  versions the tests passed with); a package of ``pyproject.toml`` that is missing is an
  error, a version that differs from the lock is a warning;
- the system libraries WeasyPrint opens for PDF (GLib, Pango, HarfBuzz and its subset
  library, Fontconfig) and the DejaVu fonts, each with the ``apt-get`` line that fixes it;
  the list is ``instrument/system_requirements.tsv``, the same one ``tools/setup.sh``
  installs from;
- whether a PDF can really be written: one page through WeasyPrint in a temporary folder,
  in a child process where every warning is an error (a missing HarfBuzz-subset only
  warns, and the tests turn warnings into errors);
- the optional tools the outputs can be checked with (pdftoppm, LibreOffice, Chromium, R
  with psych, lavaan, semTools, multilevel, sna, lme4).

Exit code 0 when everything required is there, 1 otherwise. The probes are plain
functions of this module, so tests replace them to simulate a missing library.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from instrument import resources
from instrument.typography import say

__all__ = ["Check", "doctor_command", "run_checks"]

OK, WARN, MISSING = "ok", "warn", "missing"
R_PACKAGES = ("psych", "lavaan", "semTools", "multilevel", "sna", "lme4", "GPArotation", "jsonlite")

TEXT = {
    "fr": {
        "title": "intangibles doctor : ce dont la boîte à outils a besoin, ce qui est installé",
        "what": "Vérification", "need": "Besoin", "status": "État", "found": "Trouvé", "fix": "Pour corriger",
        "required": "requis", "test": "tests", "optional": "facultatif",
        OK: "ok", WARN: "à noter", MISSING: "manque",
        "python": "Python ≥ 3.11", "packages": "Paquets Python (comparés au verrou)",
        "pdf": "Écrire un PDF (une page, dossier temporaire)",
        "r": "R et ses paquets (valeurs de référence)",
        "locked_same": "{n} paquets aux versions du verrou",
        "differs": "{n} diffèrent du verrou : {names}", "absent": "absent",
        "no_lock": "pas de fichier de verrou ici", "missing_pkgs": "manquants : {names}",
        "pdf_ok": "PDF écrit ({size} octets)",
        "good": "Tout ce qui est requis est là.",
        "bad": "{n} élément(s) requis manquant(s) : voir la colonne « Pour corriger ».",
        "rerun": "Ou relancez « make test » : tools/setup.sh installe ce qui manque.",
    },
    "en": {
        "title": "intangibles doctor: what the toolkit needs, what is installed",
        "what": "Check", "need": "Need", "status": "Status", "found": "Found", "fix": "How to fix",
        "required": "required", "test": "tests", "optional": "optional",
        OK: "ok", WARN: "note", MISSING: "missing",
        "python": "Python >= 3.11", "packages": "Python packages (against the lock)",
        "pdf": "Write a PDF (one page, temporary folder)",
        "r": "R and its packages (reference values)",
        "locked_same": "{n} packages at the locked versions",
        "differs": "{n} differ from the lock: {names}", "absent": "absent",
        "no_lock": "no lock file here", "missing_pkgs": "missing: {names}",
        "pdf_ok": "PDF written ({size} bytes)",
        "good": "Everything required is there.",
        "bad": "{n} required item(s) missing: see the 'How to fix' column.",
        "rerun": "Or run 'make test' again: tools/setup.sh installs what is missing.",
    },
}


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    what: str  # what was checked (already in the report's language)
    need: str  # required | test | optional
    status: str  # ok | warn | missing
    found: str  # version, path or message
    fix: str = ""  # the command that fixes it ("" when nothing to do)

    @property
    def failed(self) -> bool:
        return self.need == "required" and self.status == MISSING


# --------------------------------------------------------------------------- probes


def probe_library(soname: str) -> str | None:
    """The library's name when the dynamic loader can open it (as WeasyPrint does)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return None
    return soname


def probe_font(family: str) -> str | None:
    """The first font file of that family that Fontconfig knows."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    out = subprocess.run([fc_list, f":family={family}", "file"], capture_output=True, text=True, timeout=30)
    files = sorted((line.rstrip(": ") for line in out.stdout.splitlines() if line.strip()), key=len)
    return files[0] if files else None


def probe_tool(name: str) -> str | None:
    """The program's path when it is on the PATH (LibreOffice installs ``soffice``)."""
    return shutil.which(name)


def probe_pdf() -> tuple[bool, str]:
    """Write one page with WeasyPrint in a child process that turns warnings into errors."""
    code = (
        "import pathlib, sys, tempfile\n"
        "from weasyprint import HTML\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    p = pathlib.Path(d, 'doctor.pdf')\n"
        "    HTML(string='<p style=\"font-family: DejaVu Sans\">Confiance « é » 0,77 — 1 000</p>').write_pdf(p)\n"
        "    print(p.stat().st_size)\n"
    )
    try:
        run = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                             timeout=120)
    except subprocess.TimeoutExpired:
        return False, "timeout (120 s)"
    if run.returncode == 0:
        return True, run.stdout.strip()
    lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
    return False, lines[-1] if lines else f"exit {run.returncode}"


def probe_r() -> tuple[str | None, list[str]]:
    """R's version and the reference packages it lacks (``None`` when R is absent)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None, list(R_PACKAGES)
    code = ("cat(paste(R.version$major, R.version$minor, sep='.'), '\\n');"
            f"for (p in c({', '.join(repr(p) for p in R_PACKAGES)})) "
            "if (!requireNamespace(p, quietly = TRUE)) cat(p, '\\n')")
    try:
        out = subprocess.run([rscript, "-e", code], capture_output=True, text=True, timeout=60).stdout
    except subprocess.TimeoutExpired:
        return "?", []
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    return (lines[0] if lines else "?"), lines[1:]


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- checks


def read_lock(path: Path | None) -> dict[str, str]:
    """``{name: version}`` from a pip requirements lock (markers and comments ignored)."""
    if path is None or not path.is_file():
        return {}
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[_canonical(match[1])] = match[2]
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_packages() -> list[str]:
    """The distributions intangibles itself depends on (from its installed metadata)."""
    requires = importlib.metadata.requires("intangibles") or []
    return [_canonical(re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0]) for r in requires if "extra ==" not in r]


def check_packages(t: dict) -> list[Check]:
    version = ".".join(map(str, sys.version_info[:3]))
    python = Check(t["python"], "required", OK if sys.version_info >= (3, 11) else MISSING, version,
                   "" if sys.version_info >= (3, 11) else "apt-get install -y python3 (>= 3.11)")
    pins = read_lock(resources.lock_file())
    missing = [name for name in required_packages() if installed_version(name) is None]
    if missing:
        found, status = t["missing_pkgs"].format(names=", ".join(missing)), MISSING
        fix = "pip install -c requirements-lock.txt -e .  (make setup)"
    elif not pins:
        found, status, fix = t["no_lock"], WARN, ""
    else:
        differ = sorted(f"{n} {installed_version(n)}≠{v}" for n, v in pins.items()
                        if installed_version(n) not in (None, v))
        status = WARN if differ else OK
        found = (t["differs"].format(n=len(differ), names=", ".join(differ[:6]) + ("…" if len(differ) > 6 else ""))
                 if differ else t["locked_same"].format(n=len(pins)))
        fix = "pip install -c requirements-lock.txt -e ." if differ else ""
    return [python, Check(t["packages"], "required", status, found, fix)]


def check_system(t: dict, lang: str) -> list[Check]:
    """One line per entry of system_requirements.tsv."""
    probes = {"lib": probe_library, "font": probe_font, "tool": probe_tool}
    checks = []
    for need, kind, probe, packages, french, english in resources.system_requirements():
        if kind == "tool" and probe == "Rscript":
            checks.append(check_r(t, packages))
            continue
        found = probes[kind](probe)
        fix = "" if found else "sudo apt-get install -y " + packages.split("|")[0]
        what = french if lang == "fr" else english
        checks.append(Check(what, need, OK if found else MISSING, found or f"{probe} — {t['absent']}", fix))
    return checks


def check_r(t: dict, packages: str) -> Check:
    version, lacking = probe_r()
    if version is None:
        return Check(t["r"], "optional", MISSING, t["absent"], "sudo apt-get install -y " + packages)
    found = f"R {version}" + (" — " + t["missing_pkgs"].format(names=", ".join(lacking)) if lacking else "")
    debian = " ".join("r-cran-" + p.lower() for p in lacking)
    return Check(t["r"], "optional", WARN if lacking else OK, found,
                 f"sudo apt-get install -y {debian}" if lacking else "")


def check_pdf(t: dict) -> Check:
    ok, detail = probe_pdf()
    found = t["pdf_ok"].format(size=detail) if ok else detail
    return Check(t["pdf"], "required", OK if ok else MISSING, found,
                 "" if ok else "make setup  (tools/setup.sh: apt-get the PDF libraries above)")


def run_checks(lang: str = "fr") -> list[Check]:
    """Every check, in report order."""
    t = TEXT[lang]
    return [*check_packages(t), *check_system(t, lang), check_pdf(t)]


# --------------------------------------------------------------------------- command


def doctor_command(*, lang: str = "fr", console=None) -> int:
    """Print the report as a table; 0 when everything required is there, 1 otherwise."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if lang not in TEXT:
        raise ValueError(f"The 'lang' parameter of doctor must be one of 'fr', 'en'; got {lang!r}.")
    console = console or Console()
    t = TEXT[lang]
    checks = run_checks(lang)
    table = Table(title=t["title"], show_lines=False, expand=False)
    for column in ("what", "need", "status", "found", "fix"):
        table.add_column(t[column], overflow="fold")
    colour = {OK: "green", WARN: "yellow", MISSING: "red"}
    for c in checks:  # Text(): a path or a message with brackets is not rich markup
        table.add_row(Text(c.what), t[c.need], Text(t[c.status], style=colour[c.status]), Text(c.found), Text(c.fix))
    console.print(table)
    failed = [c for c in checks if c.failed]
    if failed:
        fr, en = TEXT["fr"], TEXT["en"]  # the table in --lang, the verdict in both languages
        say(console, fr["bad"].format(n=len(failed)), en["bad"].format(n=len(failed)), style="red")
        say(console, fr["rerun"], en["rerun"])
        return 1
    say(console, TEXT["fr"]["good"], TEXT["en"]["good"], style="green")
    return 0
