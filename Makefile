# Livret — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The browser tests drive Debian's Chromium; Playwright never downloads a browser.
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver

.PHONY: help install system-deps setup run test test-fast test-browser browser lint format migration messages \
	bench fuzz clean

help: ## List the targets and what they do
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) system-deps ## Create .venv and install Livret with its dev tools

system-deps: ## Pango and fonts for the PDF livret (installed with apt-get when missing, as root)
	@if ldconfig -p | grep -q libpangoft2-1.0 && fc-list 2>/dev/null | grep -qi dejavu; then \
	  :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fontconfig; \
	else \
	  echo "Pango or the DejaVu fonts are missing: the livret PDF needs them." \
	       "Install them with: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"; \
	fi

setup: install ## Upgrade the database, load the referentials and the demo school
	$(BIN)/livret db upgrade
	$(BIN)/livret seed referentials
	$(BIN)/livret seed demo

run: setup ## Set everything up and serve on http://127.0.0.1:8000 (SQLite, demo data)
	@echo "Livret on http://$(HOST):$(PORT)/ — stop with Ctrl-C"
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT)

test: install lint browser ## Run lint, type checks and the whole test suite (browser tests too)
	$(BIN)/python -m pytest

test-fast: install ## Run the test suite only
	$(BIN)/python -m pytest -x -q

test-browser: install browser ## Run the browser tests only (Playwright + Debian's Chromium)
	$(BIN)/python -m pytest -q -m browser tests/browser

browser: ## Install Debian's chromium + chromium-driver when missing (needs root)
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	elif [ ! -x $(CHROMIUM) ]; then \
	  echo "Chromium is missing ($(CHROMIUM)) and this is not root: the browser tests will be" \
	       "skipped. Install it with: sudo apt-get install chromium chromium-driver"; \
	fi

lint: install ## ruff (lint + format check) and mypy
	$(BIN)/ruff check app tests migrations seeds
	$(BIN)/ruff format --check app tests migrations
	$(BIN)/mypy

format: install ## Format the code with ruff
	$(BIN)/ruff check --fix app tests migrations
	$(BIN)/ruff format app tests migrations

migration: install ## Autogenerate a migration: make migration name="what changes"
	@test -n "$(name)" || (echo 'usage: make migration name="what changes"'; exit 2)
	$(BIN)/alembic revision --autogenerate -m "$(name)"

# Keywords that mark translatable strings (every DomainError subclass: tests/test_i18n.py).
BABEL_KEYWORDS := -k N_ -k translate:2 -k NotFound -k Forbidden -k Conflict -k InvalidInput -k TooManyRequests -k Unauthenticated -k CsrfError -k DomainError -k CredentialsRejected -k ReauthenticationFailed -k ContentTooLarge -k FormInvalid -k ImportRejected -k ServiceUnavailable -k FieldErrors -k LinkUnusable

messages: install ## Re-extract the strings and refresh the catalogs: make messages [adds=FRENCH.json]
	$(BIN)/python tools/translate.py $(adds)

bench: install ## Run the benchmarks and print the figures (never fails on speed)
	@if [ -f bench/run.py ]; then $(BIN)/python bench/run.py; else echo "no benchmark yet"; fi

# Not part of `make test`: CI runs the same test derandomized, with fewer examples.
fuzz: install ## Fuzz every API operation at random, longer than CI: make fuzz [examples=100] [seed=N]
	LIVRET_TEST_FUZZ_SEED=$(or $(seed),random) LIVRET_TEST_FUZZ_EXAMPLES=$(or $(examples),100) \
	  LIVRET_TEST_FUZZ_VERBOSE=1 $(BIN)/python -m pytest -q --timeout=0 --show-capture=no \
	  -p no:cacheprovider tests/test_api_fuzz.py

clean: ## Remove the virtualenv and local data (var/)
	rm -rf $(VENV) var
