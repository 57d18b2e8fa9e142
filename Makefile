# Two commands do everything on a fresh machine (see README):
#   make demo   -> install what is missing, then run the main job on the embedded sample
#   make test   -> install what is missing, then run the test suite
# Python packages are installed at the versions in requirements-lock.txt (the set the tests
# passed with). `make lock` regenerates it; `make test-latest` runs the tests on the newest
# releases allowed by pyproject.toml, in a separate environment, to see whether they still pass.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench lock test-latest doctor clean

$(VENV)/.installed: pyproject.toml requirements-lock.txt tools/setup.sh instrument/system_requirements.tsv
	bash tools/setup.sh $(VENV)

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/intangibles demo --out demo-output

test: setup
	$(PY) -m pytest -n auto -q

doctor: setup
	$(VENV)/bin/intangibles doctor

lint: setup
	$(VENV)/bin/ruff check instrument psychometrics tests bench

bench: setup
	$(PY) bench/run.py

# The lock: every package and version the tests ran with, for Python 3.11 (CI's), by uv.
lock: setup
	$(PY) -m pip install -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 \
		--quiet -o requirements-lock.txt
	@echo "requirements-lock.txt regenerated: run 'make test' (it reinstalls) before committing it."

test-latest:
	rm -rf .venv-latest
	python3 -m venv .venv-latest
	.venv-latest/bin/python -m pip install -q --upgrade pip
	.venv-latest/bin/python -m pip install -q -e ".[test]"
	.venv-latest/bin/python -m pip freeze --exclude-editable > .venv-latest/freeze.txt
	.venv-latest/bin/python -m pytest -n auto -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .venv-latest demo-output build dist
