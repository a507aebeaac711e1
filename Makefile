# Backprop, verified — build and test.
#   make book       build the HTML book into _build/html (warnings are errors)
#   make test       ruff + pytest (unit tests, nbval over book/*.ipynb, book build + browser check)
#   make test-portable  nbval under four OpenBLAS kernels and with numpy's SIMD loops off
#   make notebooks  re-execute every notebook top to bottom and save it with outputs
#   make notebooks-stable  run `make notebooks` twice and check the second run changes nothing
#   make clean      remove build output and caches (keeps .venv)
# Each target sets up .venv itself (Python 3.10+) from requirements.txt.

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp lives inside .venv: deleting .venv forces a full re-install.
STAMP  := $(VENV)/.requirements-stamp

JB_FLAGS     := --all -W -n --keep-going
NBVAL_FLAGS  := --nbval --nbval-sanitize-with tests/sanitize.cfg
PYTEST_ARGS  ?=

.PHONY: book test test-portable notebooks notebooks-stable clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ needed, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Book built: _build/html/index.html"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests book $(NBVAL_FLAGS) $(PYTEST_ARGS)

test-portable: $(STAMP)
	scripts/test_portable.sh $(BIN)/python

notebooks: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py

# Re-executing must reproduce the notebooks byte for byte (no timings, no addresses, no
# machine-dependent digits): run twice, compare the second run with the first.
notebooks-stable: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py
	rm -rf _build/notebooks-first && mkdir -p _build/notebooks-first
	cp book/*.ipynb _build/notebooks-first/
	$(BIN)/python scripts/run_notebooks.py
	@for f in book/*.ipynb; do \
	    cmp -s "$$f" "_build/notebooks-first/$$(basename $$f)" || { \
	        echo "$$f changed between two runs of make notebooks:"; \
	        diff <(python3 -c 'import json,sys; [print(json.dumps(c.get("outputs"))) for c in json.load(open(sys.argv[1]))["cells"]]' "_build/notebooks-first/$$(basename $$f)") \
	             <(python3 -c 'import json,sys; [print(json.dumps(c.get("outputs"))) for c in json.load(open(sys.argv[1]))["cells"]]' "$$f") | head -20; \
	        exit 1; }; \
	done
	@echo "make notebooks is stable: a second run changed nothing"

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
