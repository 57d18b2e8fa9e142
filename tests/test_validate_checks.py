"""validate's verdicts on degenerate data (issue 14, class 11): a scale whose alpha/omega
cannot be computed, or that rests on a handful of rows, is never "ready"; NumPy's
RuntimeWarnings about such data do not leak to the terminal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

import psychometrics as pm
from psychometrics.reliability import _resampled_covs

ROOT = Path(__file__).resolve().parents[1]


def likert(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    z = f * 0.7 + rng.normal(size=(n, 8)) * 0.7
    return pd.DataFrame(np.clip(np.round(z + 3), 1, 5), columns=[f"a{j}" for j in range(4)] + [f"b{j}" for j in range(4)])


def test_a_constant_item_or_three_rows_is_not_ready():
    x = likert(200)
    x["a3"] = 3.0  # constant: alpha and omega are NA
    keys = {"scales": {"A": ["a0", "a1", "a2", "a3"], "B": ["b0", "b1", "b2", "b3"]}, "min": 1, "max": 5}
    v = pm.validate(x, keys, n_boot=20)
    a = v.results["scales"]["A"]
    assert not a["ready"] and "no-reliability" in a["not_ready"], a.get("not_ready")
    few = pm.validate(likert(3), {"scales": {"B": ["b0", "b1", "b2", "b3"]}, "min": 1, "max": 5}, n_boot=20)
    b = few.results["scales"]["B"]
    assert not b["ready"] and ("too-few-rows" in b["not_ready"] or "no-reliability" in b["not_ready"])


def test_no_runtime_warning_reaches_the_terminal(tmp_path):
    """The validate command on 8 rows with a constant item and two identical items: nothing on
    stderr (NumPy's RuntimeWarnings about divide by zero, log and sqrt of invalid values
    reached the terminal, from reliability.py and factor.py)."""
    x = likert(8)
    x["a3"] = 3.0
    x["b1"] = x["b0"]
    data = tmp_path / "d.csv"
    x.to_csv(data, index=False)
    keys = tmp_path / "k.json"
    keys.write_text('{"scales": {"A": ["a0", "a1", "a2", "a3"], "B": ["b0", "b1", "b2", "b3"]}, "min": 1, "max": 5}')
    code = textwrap.dedent(f"""
        import io, sys
        from rich.console import Console
        from instrument.validation import validate_command
        sys.exit(validate_command({str(data)!r}, keys={str(keys)!r}, out={str(tmp_path / 'out')!r},
                                  console=Console(file=io.StringIO()), n_boot=20))
    """)
    run = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Warning" not in run.stderr, run.stderr[-2000:]


def test_the_chunked_bootstrap_draws_the_same_resamples(monkeypatch):
    """Chunks of resamples (bounded memory) give exactly the draws of one (n_boot, n) draw."""
    import psychometrics.reliability as rel

    v = np.random.default_rng(0).normal(size=(500, 4))
    whole = _resampled_covs(v, 37, 5)
    monkeypatch.setattr(rel, "_BOOT_CELLS", 700)  # chunks of one resample
    np.testing.assert_allclose(_resampled_covs(v, 37, 5), whole, rtol=0, atol=1e-12)
