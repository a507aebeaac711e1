# Backprop, verified — build and test.
#   make book       build the HTML book into _build/html (warnings are errors)
#   make test       ruff + pytest (unit tests, nbval over book/*.ipynb, book build + browser check)
#   make notebooks  re-execute every notebook top to bottom and save it with outputs
#   make clean      remove build output and caches (keeps .venv)
# Each target sets up .venv itself (Python 3.10+) from requirements.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp lives inside .venv: deleting .venv forces a full re-install.
STAMP  := $(VENV)/.requirements-stamp

JB_FLAGS     := --all -W -n --keep-going
NBVAL_FLAGS  := --nbval --nbval-sanitize-with tests/sanitize.cfg
PYTEST_ARGS  ?=

.PHONY: book test notebooks clean venv

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

notebooks: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
