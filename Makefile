# Two commands do everything on a fresh machine (see README):
#   make demo   -> install what is missing, then run the main job on the embedded sample
#   make test   -> install what is missing, then run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench clean

$(VENV)/.installed: pyproject.toml tools/setup.sh
	bash tools/setup.sh $(VENV)

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/intangibles demo --out demo-output

test: setup
	$(PY) -m pytest -n auto -q

lint: setup
	$(VENV)/bin/ruff check instrument psychometrics tests bench

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) demo-output build dist
