"""The paper questionnaire as PDF: the HTML of :mod:`instrument.export.printed`, laid out
by WeasyPrint (same template, same CSS), one file per language and per order version.

No network and no file access while rendering: the HTML is self-contained and the URL
fetcher only allows ``data:`` URLs. The PDF is tagged (structure for screen readers),
carries the form's title and language, and uses the fonts installed on the machine
(DejaVu Sans first).
"""

from __future__ import annotations

import os
from pathlib import Path

from instrument.export.common import version_paths
from instrument.export.printed import check_options, render
from instrument.files import atomic_path
from instrument.model import Form

__all__ = ["to_bytes", "write"]


def _document(form: Form, *, lang: str, paper: str, version: str | None):
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render(form, lang=lang, paper=paper, version=version)
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"]))


def to_bytes(form: Form, *, lang: str = "fr", paper: str = "A4", version: str | None = None) -> bytes:
    """The PDF of one language and one order version, as bytes."""
    check_options(form, lang, paper, version, "to_bytes")
    return _document(form, lang=lang, paper=paper, version=version).write_pdf(pdf_tags=True)


def write(
    form: Form,
    path: str | os.PathLike,
    *,
    lang: str = "fr",
    paper: str = "A4",
    version: str | None = None,
) -> list[Path]:
    """Write the questionnaire as PDF in one language; returns the files written.

    ``path`` receives the first order version; a counterbalanced form also gets
    ``<stem>_<V>.pdf`` for each other version V (``version="B"`` writes only B to ``path``).
    Example::

        write(form, "out/member_fr.pdf", lang="fr", paper="Letter")
    """
    check_options(form, lang, paper, version, "write")
    written = []
    for label, target in version_paths(form, path, version):
        document = _document(form, lang=lang, paper=paper, version=label)
        with atomic_path(target) as tmp:
            document.write_pdf(tmp, pdf_tags=True)
        written.append(Path(target))
    return written
