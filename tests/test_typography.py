"""The one typography and language layer (instrument/typography.py)."""

from __future__ import annotations

import pytest

from instrument.typography import NBSP, NNBSP, Typography


def test_numbers_in_french_and_english():
    fr, en = Typography("fr"), Typography("en")
    assert fr.num(0.773) == "0,77" and en.num(0.773) == "0.77"
    assert fr.num(-0.001) == "0,00" and fr.num(-0.5, 1) == "\u22120,5"
    assert fr.int(12345) == f"12{NNBSP}345" and en.int(12345) == "12,345"
    assert fr.num(1234.5, 1) == f"1{NNBSP}234,5"
    assert fr.pct(12.5) == f"12,5{NBSP}%" and en.pct(12.5) == "12.5%"
    assert fr.p(0.0001) == f"<{NBSP}0,001" and en.p(0.0123) == "0.012"
    assert fr.p_eq(0.04) == f"={NBSP}0,040"
    assert fr.cell(3) == f"<{NBSP}5" and fr.cell(None) == f"<{NBSP}5" and fr.cell(1200) == f"1{NNBSP}200"
    assert fr.interval(0.8, 0.9) == f"[0,80{NNBSP}; 0,90]" and en.interval(0.8, 0.9) == "[0.80, 0.90]"
    assert fr.rule(">=", 0.7) == f"≥{NBSP}0,70" and en.rule("<=", 15.0) == f"≤{NBSP}15"
    assert fr.num(None) == "—" and Typography("fr", na="n.d.").num(float("nan")) == "n.d."


@pytest.mark.parametrize("raw,french,english", [
    ("Prêt? Oui! Alors: go; fin", f"Prêt{NNBSP}? Oui{NNBSP}! Alors{NBSP}: go{NNBSP}; fin",
     "Prêt? Oui! Alors: go; fin"),
    ("questionnaire ! suivants ?", f"questionnaire{NNBSP}! suivants{NNBSP}?", "questionnaire! suivants?"),
    ("« Rivière-Claire »", f"«{NNBSP}Rivière-Claire{NNBSP}»", "« Rivière-Claire »"),
    ("«Oui»", f"«{NNBSP}Oui{NNBSP}»", "«Oui»"),
    # not touched: times, URLs, ratios, an already typeset text
    ("à 10:30, https://x.org/?a=1 et 3:1", "à 10:30, https://x.org/?a=1 et 3:1", "à 10:30, https://x.org/?a=1 et 3:1"),
    (f"Prêt{NNBSP}?", f"Prêt{NNBSP}?", "Prêt?"),
])
def test_text_spaces(raw, french, english):
    assert Typography("fr").text(raw) == french
    assert Typography("en").text(raw) == english
    assert Typography("fr").text(Typography("fr").text(raw)) == french  # idempotent


def test_labels_by_kind_or_flat():
    labels = {"trust": {"fr": "Confiance", "en": "Trust"}, "level": {"users": {"fr": "Personnes desservies", "en": "Service users"}},
              "TRU1": "Je fais confiance: toujours"}
    fr, en = Typography("fr", labels), Typography("en", labels)
    assert fr.label("scale", "trust") == "Confiance" and en.label("scale", "trust") == "Trust"
    assert fr.label("level", "users") == "Personnes desservies"
    assert fr.label("item", "TRU1") == f"Je fais confiance{NBSP}: toujours"
    assert fr.label("scale", "unknown_id") == "unknown_id"
    assert not fr.has_label("scale", "unknown_id") and fr.has_label("scale", "trust")


def test_plot_axes_use_the_decimal_comma():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0.1, 0.9])
    Typography("fr").axes(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert labels and any("," in s for s in labels) and not any("." in s for s in labels), labels


def test_axes_labelled_with_names_keep_them():
    """The CFA loadings plot showed 0, 1, 2... instead of its item codes (the decimal-comma
    formatter replaced the names set with set_yticks)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.barh([0, 1, 2], [0.7, 0.25, 0.8])
    ax.set_yticks([0, 1, 2], ["trcpi1", "trcpi4", "lepri5"])
    Typography("fr").axes(ax)
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["trcpi1", "trcpi4", "lepri5"]
    assert any("," in t.get_text() for t in ax.get_xticklabels())


def test_unknown_language():
    with pytest.raises(ValueError, match=r"'lang'.*got 'de'"):
        Typography("de")
