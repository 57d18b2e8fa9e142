"""Run every benchmark once, one after the other (``make bench``).

Each script prints its own table of figures and ratios against its peers (pandas loop,
pingouin, factor_analyzer, semopy, and R's psych / lavaan when ``Rscript`` is installed);
``bench/README.md`` records one run of each with the machine it ran on. Pass script names
to run only some: ``python bench/run.py factor cfa``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("scoring", "platforms", "reliability", "factor", "cfa", "wlsmv", "sem", "lnam", "twolevel",
           "montecarlo", "feedback", "agreement", "ordinal_invariance")


def main(argv: list[str]) -> int:
    chosen = argv or list(SCRIPTS)
    unknown = [name for name in chosen if name not in SCRIPTS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose among {list(SCRIPTS)}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== bench_{name}.py ===", flush=True)
        if subprocess.run([sys.executable, str(HERE / f"bench_{name}.py")]).returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
