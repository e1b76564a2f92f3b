# The two commands: `make run` serves the portal, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PORTAL_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test bench lint format demo-data clean-data translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever a requirements file changes (the stamp is older than it).
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

demo-data: $(VENV)/.runtime-installed
	$(BIN)/flask --app app portal prepare-demo

run: demo-data
	$(BIN)/python app.py

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-data:
	rm -rf $(PORTAL_DATA_DIR)

# Add new message ids to the zh_CN catalog (then translate the empty ones).
translations: $(VENV)/.runtime-installed
	$(BIN)/python translations/update.py
