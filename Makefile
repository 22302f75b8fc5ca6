# tierwise: `make demo` and `make test` are the two entry points; everything else is plumbing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo
export TIERWISE_DB ?= $(DEMO_DIR)/tierwise.duckdb

.PHONY: demo test venv chromium lint typecheck unit bench clean sample focus-validator

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/pdftoppm ]; then \
	  echo "installing Chromium (and poppler-utils, which renders the memo's PDF pages) from Debian's packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver poppler-utils >/dev/null; \
	fi

demo: PORT ?= 8501
demo: $(STAMP)
	$(BIN)/tierwise demo --dir $(DEMO_DIR) --serve --port $(PORT) $(if $(LOGIN),--login $(LOGIN))

lint: $(STAMP)
	$(BIN)/ruff check app ingest queries sample_data store tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: $(STAMP) chromium focus-validator lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# focus-validator 2.2.1 needs Python >= 3.12 and pyarrow < 20, so it lives in its own venv (tests find it there).
FOCUS_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) python3.12)
focus-validator:
	test -x .venv-focus/bin/focus-validator || ($(FOCUS_PYTHON) -m venv .venv-focus && \
	  .venv-focus/bin/pip install --quiet "focus-validator==2.2.1" "pyarrow<20")

sample: $(STAMP)
	$(BIN)/tierwise sample --out sample_data/committed

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache test-artifacts
