# tierwise: `make demo` and `make test` are the two entry points; everything else is plumbing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo
export TIERWISE_DB ?= $(DEMO_DIR)/tierwise.duckdb

.PHONY: demo test venv chromium lint typecheck unit bench clean sample

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "installing Chromium from Debian's packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/tierwise demo --dir $(DEMO_DIR)

lint: $(STAMP)
	$(BIN)/ruff check app ingest queries sample_data tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: $(STAMP) chromium lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

sample: $(STAMP)
	$(BIN)/tierwise sample --out sample_data/committed

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache test-artifacts
