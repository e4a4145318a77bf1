# Yingzhi: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
NPM ?= npm
FRONTEND := frontend

.PHONY: run test lint typecheck pytest install frontend frontend-test clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Reinstalled whenever the lock file changes.
$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && $(NPM) ci --no-audit --no-fund
	touch $@

# Type-check and build the SPA into frontend/dist (served by the app at /).
frontend: $(FRONTEND)/node_modules/.installed
	cd $(FRONTEND) && $(NPM) run build

# vitest, and the check that the build runs on Chrome 69-class WebViews.
frontend-test: frontend
	cd $(FRONTEND) && $(NPM) test && $(NPM) run check:legacy

run: install frontend
	YINGZHI_DEMO_MODE=true $(BIN)/yingzhi db upgrade
	YINGZHI_DEMO_MODE=true $(BIN)/yingzhi demo --if-empty
	YINGZHI_DEMO_MODE=true $(BIN)/yingzhi serve --port $(PORT) --banner

lint: install
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests migrations bench

typecheck: install
	$(BIN)/mypy app tests bench

pytest: install frontend
	$(BIN)/pytest

# The browser tests (tests/browser) drive the built SPA, so the front end is built first.
test: lint typecheck frontend-test pytest

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) var/*.db* .mypy_cache .ruff_cache .pytest_cache $(FRONTEND)/node_modules $(FRONTEND)/dist
