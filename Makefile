# chatcart — two commands matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run test install lint types imports test-sqlite test-postgres services chromium bench clean

## make run: set up the embedded shape (SQLite), seed the demo shop once, serve on :8000
run: $(STAMP)
	@mkdir -p var
	$(BIN)/chatcart db upgrade
	$(BIN)/chatcart demo seed
	@echo "Serving on http://127.0.0.1:8000 — demo: http://127.0.0.1:8000/demo — Fake Messenger: http://127.0.0.1:8000/admin/fake-messenger — Ctrl-C stops"
	CHATCART_SANDBOX=true $(BIN)/chatcart serve

## make test: everything — lint, types, import contracts, suite on SQLite and on PostgreSQL+Redis
test: $(STAMP) chromium services lint types test-sqlite test-postgres

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

test-sqlite: $(STAMP)
	env -u CHATCART_TEST_DATABASE_URL -u CHATCART_TEST_REDIS_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(STAMP) services
	CHATCART_TEST_DATABASE_URL=$(PG_URL) CHATCART_TEST_REDIS_URL=$(REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

## PostgreSQL and Redis must be up for the scaled-shape run (DESIGN.md §7)
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; pg_isready -h 127.0.0.1 -p 5432
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done; redis-cli -h 127.0.0.1 -p 6379 ping

## Debian's Chromium for the browser tests (never `playwright install`)
chromium:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; }

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
