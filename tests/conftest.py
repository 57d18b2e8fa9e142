"""Shared fixtures: the R reference data sets in ../shared/reference (see its README)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

# INTANGIBLES_REFERENCE points elsewhere (e.g. from a git worktree, whose parent has no shared/)
REF = Path(os.environ.get("INTANGIBLES_REFERENCE")
           or Path(__file__).resolve().parents[1].parent / "shared" / "reference")
DATASETS = ("bfi", "hs1939", "consortium_dev")


@pytest.fixture(scope="session")
def ref_dir() -> Path:
    if not REF.is_dir():
        pytest.skip(f"R reference folder not found at {REF} (CI puts ../shared beside the clone)")
    return REF


def load_reference(name: str):
    """(raw data, keys config, R results, listwise reverse-keyed items) for one data set,
    prepared exactly as make_reference.R does."""
    if not REF.is_dir():
        pytest.skip(f"R reference folder not found at {REF}")
    cfg = json.loads((REF / f"{name}.json").read_text())
    ref = json.loads((REF / f"ref_{name}.json").read_text())
    raw = pd.read_csv(REF / cfg["csv"])
    items = [k.lstrip("-") for keys in cfg["scales"].values() for k in keys]
    groups = cfg.get("groups", [])
    keep = raw[items + groups].notna().all(axis=1)
    x = raw.loc[keep, items].astype(float).copy()
    for keys in cfg["scales"].values():
        for k in keys:
            if k.startswith("-"):
                x[k[1:]] = cfg["max"] + cfg["min"] - x[k[1:]]
    return raw, cfg, ref, x


@pytest.fixture(scope="session", params=DATASETS)
def reference(request):
    return (request.param, *load_reference(request.param))
