# `make demo` and `make test` each set up .venv on a fresh machine, then run.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo test test-all install chromium bench-deps lint clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" bash examples/demo.sh

# Tests marked slow (full checks with a fast variant) run under CI=true (tests/conftest.py); test-all runs them here.
test: $(STAMP) chromium
	$(PY) -m pytest -q

test-all: $(STAMP) chromium
	$(PY) -m pytest -q --run-slow

# The browser tests drive Debian's chromium through playwright (never `playwright install`).
# CI runs as root; elsewhere sudo asks first.
chromium:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

bench-deps: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]' $(TORCH_PINS)

lint: $(STAMP)
	$(PY) -m ruff check convlens tests benchmarks examples
	$(PY) -m vermin --no-tips --violations -t=3.10- --eval-annotations convlens tests examples benchmarks

# work/ (what the README's commands write: your runs) is kept; so are the decode-once image cache and the cached
# features, which live outside the repository.
clean:
	rm -rf $(VENV) demo-out .pytest_cache
	@echo "The decoded-image and feature cache is kept in $${CONVLENS_CACHE:-$$HOME/.cache/convlens};"
	@echo "  'convlens data cache' shows its size, 'convlens data cache --clear' empties it."
