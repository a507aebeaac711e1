# Backprop, verified — build and test.
#   make book       build the HTML book into _build/html, the Chinese edition into _build/html/zh
#                   (warnings are errors)
#   make test       ruff + pytest (unit tests, nbval over book/*.ipynb, book build + browser check)
#   make test-portable  nbval under OpenBLAS's Prescott kernel and with numpy's SIMD loops off
#   make notebooks  re-execute every notebook top to bottom and save it with outputs
#   make notebooks-stable  re-run every notebook and check it reproduces the stored file exactly
#   make pdf        the PDF editions into _build/pdf/ (xelatex; see "PDF editions" below)
#   make clean      remove build output and caches (keeps .venv)
# Each target sets up .venv itself (Python 3.10+) from requirements.txt.

SHELL  := /bin/bash
# One BLAS thread: on two shared cores OpenBLAS's second thread only waits for the other jobs
# (an MNIST epoch took 40-60 s with two threads and 4-8 s with one), and the numbers are the
# same (the portable check runs with one thread too).
export OPENBLAS_NUM_THREADS ?= 1
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp lives inside .venv: deleting .venv forces a full re-install.
STAMP  := $(VENV)/.requirements-stamp

JB_FLAGS     := --all -W -n --keep-going
NBVAL_FLAGS  := --nbval --nbval-sanitize-with tests/sanitize.cfg
PYTEST_ARGS  ?=
# Both cores: pytest-xdist, a whole test file (a whole notebook, for nbval) per worker at a time.
# The book is built once and shared (tests/conftest.py). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
XDIST_FLAGS  := $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile)

.PHONY: book test test-portable notebooks notebooks-stable clean venv pdf data

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ needed, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# MNIST into the cache (~/.cache/bpcore/mnist, or $BPCORE_DATA/mnist), fetched once and
# checked (md5) on every run: chapter 6 trains on it, the browser's bpcore wheel packs a subset.
data: $(STAMP)
	$(BIN)/bpcore data mnist >/dev/null

# Both editions: English into _build/html/, Chinese (book/zh/) into _build/html/zh/.
book: $(STAMP) data
	$(BIN)/python scripts/build_book.py

test: $(STAMP) data
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests book $(NBVAL_FLAGS) $(XDIST_FLAGS) $(PYTEST_ARGS)

test-portable: $(STAMP) data
	scripts/test_portable.sh $(BIN)/python

notebooks: $(STAMP) data
	$(BIN)/python scripts/run_notebooks.py --jobs 2

# Re-executing must reproduce the notebooks byte for byte (no timings, no addresses, no
# machine-dependent digits): one clean run of each, two at a time, compared with the file as
# stored (the stored file is itself what one clean run saved). Writes nothing.
notebooks-stable: $(STAMP) data
	$(BIN)/python scripts/run_notebooks.py --check --jobs 2
	@echo "make notebooks is stable: a clean run reproduces every stored notebook"

# ---- PDF editions ----------------------------------------------------------------------
# make pdf builds _build/pdf/backprop-verified.pdf and _build/pdf/backprop-verified-zh.pdf,
# the two side by side (one core each; each one's output is printed when it ends). For each:
#   1. book/_ext/pdf_edition.py writes _build/pdf/<name>/_config.yml: the edition's
#      _config.yml with execute_notebooks: off, so the PDF prints the outputs STORED in the
#      notebooks (the HTML build re-executes them; `make test` checks the stored outputs), and
#      the English _config.yml's LaTeX settings as defaults;
#   2. jupyter-book's LaTeX builder with the HTML book's checks (-W -n --keep-going --all)
#      writes _build/pdf/<name>/_build/latex/<name>.tex;
#   3. latexmk runs xelatex (Sphinx's latexmkrc, makeindex) until references settle; any
#      LaTeX error stops it. The log stays in _build/pdf/<name>/_build/latex/<name>.log
#      (tests/test_pdf.py reads it);
#   4. the PDF is copied to _build/pdf/, and into _build/html/pdf/ when the HTML book exists
#      (its header links there; `make book` copies them too).
# tests/test_pdf.py runs `make pdf PDF_DIR=<tmp> PDF_HTML=` (or checks BACKPROP_PDF_DIR).
# Nothing is installed: it needs the Debian packages listed in README.md ("PDF editions").
PDF_DIR      := _build/pdf
PDF_HTML     := _build/html
PDF_TOOLS    := xelatex latexmk makeindex
LATEXMKOPTS  := -interaction=nonstopmode -halt-on-error -file-line-error

pdf: $(STAMP)
	@for tool in $(PDF_TOOLS); do command -v $$tool >/dev/null || { \
	    echo "make pdf: $$tool not found; install the Debian packages in README.md (PDF editions)" >&2; \
	    exit 1; }; done
	@mkdir -p $(PDF_DIR); $(BIN)/python book/_ext/pdf_edition.py editions | { \
	    pids=""; \
	    while read -r name config toc; do \
	        ( set -e; \
	          echo "=== PDF edition $$name ($$config, $$toc)"; \
	          src=$$($(BIN)/python book/_ext/pdf_edition.py config $$name $$config $$toc $(PDF_DIR)/$$name); \
	          $(BIN)/jupyter-book build $$src --builder latex --config $(PDF_DIR)/$$name/_config.yml \
	              --toc $(CURDIR)/$$toc --path-output $(PDF_DIR)/$$name $(JB_FLAGS); \
	          $(MAKE) --no-print-directory -C $(PDF_DIR)/$$name/_build/latex $$name.pdf \
	              LATEXOPTS="$(LATEXMKOPTS)" LATEXMKOPTS="-silent" >/dev/null || { \
	              echo "xelatex failed; the log: $(PDF_DIR)/$$name/_build/latex/$$name.log"; \
	              grep -A3 '^[^ ]*:[0-9]*: \|^!' $(PDF_DIR)/$$name/_build/latex/$$name.log | head -30; \
	              exit 1; }; \
	          cp $(PDF_DIR)/$$name/_build/latex/$$name.pdf $(PDF_DIR)/$$name.pdf; \
	          if [ -n "$(PDF_HTML)" ] && [ -d "$(PDF_HTML)" ]; then \
	              mkdir -p $(PDF_HTML)/pdf && cp $(PDF_DIR)/$$name.pdf $(PDF_HTML)/pdf/; fi; \
	          echo "PDF built: $(PDF_DIR)/$$name.pdf" ) > $(PDF_DIR)/$$name.make.log 2>&1 & \
	        pids="$$pids $$!:$$name"; \
	    done; \
	    failed=0; \
	    for job in $$pids; do \
	        wait $${job%%:*} || failed=1; cat $(PDF_DIR)/$${job#*:}.make.log; \
	    done; \
	    exit $$failed; }

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
