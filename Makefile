# Two commands a developer needs: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-stock lint typecheck content-check chat bench search-bench browser e2e refresh-renderer clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/wegwijzer db upgrade
	$(BIN)/wegwijzer serve

test: install
	$(BIN)/pytest

# The HTTP-level tests once more with the speed-ups off (SPEEDUPS=false, bot/speedups.py): the
# stock Bot Framework code paths must answer the same. CI runs it after `make test`.
test-stock: install
	SPEEDUPS=false $(BIN)/pytest -q tests/web

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

content-check: install
	$(BIN)/wegwijzer content check

chat: install
	$(BIN)/wegwijzer chat

search-bench: install
	$(BIN)/wegwijzer search bench

# Issue 4's throughput benchmark (see bench/__init__.py); options through ARGS="--only wegwijzer".
bench: install
	@command -v wrk >/dev/null || apt-get install -y wrk || { \
		echo "make bench needs wrk: run 'apt-get install -y wrk' as root (or build it from github.com/wg/wrk)" >&2; \
		exit 1; }
	$(BIN)/python -m bench $(ARGS)

# Debian's chromium for the dev chat's browser tests (tests/devchat, marked e2e); needs root.
# Without it `make test` skips those tests (CI fails instead). Playwright never downloads one.
browser:
	@test -x /usr/bin/chromium || { \
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }; } || { \
		echo "the browser tests need Debian's chromium: run 'apt-get install -y chromium' as root" >&2; \
		exit 1; }

# Only the browser tests: the walks through the dev chat and the gallery of every card.
e2e: install
	$(BIN)/pytest -m e2e

# Fetch the Adaptive Cards renderer the dev chat page vendors (needs npm; nothing else does).
refresh-renderer:
	devtools/refresh-renderer.sh $(ARGS)

# Issue 18's outbox benchmark: 10,000 messages, two dispatchers, one PostgreSQL (bench/outbox.py).
bench-outbox: install
	$(BIN)/python -m bench.outbox $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
