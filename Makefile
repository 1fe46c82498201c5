# Clearcut: `make run` serves the site, `make test` runs every test. Both set everything up first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup weights run test test-unit test-e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python manage.py fetch_models
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py collectstatic --noinput -v0

run: setup
	$(BIN)/daphne -b $(HOST) -p $(PORT) project.asgi:application

# Browser tests run in their own pytest process: Playwright leaves an event loop behind
# that breaks pytest-asyncio tests run after it.
test: setup
	$(BIN)/pytest -m "not e2e"
	$(BIN)/pytest -m e2e

bench: setup
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.foreground
	$(BIN)/python -m bench.upsampling
	$(BIN)/python -m bench.memory

clean:
	rm -rf $(VENV) var models/*.safetensors
