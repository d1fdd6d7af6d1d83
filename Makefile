# Set-up and everyday commands. `make demo` and `make test` each install everything
# they need on a fresh Debian machine (apt packages as root, then a virtual env in .venv).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES := espeak-ng libespeak-ng1 libportaudio2 sox libsndfile1 pocketsphinx-testdata \
	pulseaudio pulseaudio-utils libasound2-plugins chromium chromium-driver \
	fonts-wqy-microhei alsa-utils asterisk-core-sounds-en asterisk-core-sounds-en-wav \
	asterisk-core-sounds-fr asterisk-core-sounds-fr-wav asterisk-moh-opsound-wav \
	asterisk-core-sounds-es asterisk-core-sounds-es-wav asterisk-core-sounds-it \
	asterisk-core-sounds-it-wav asterisk-core-sounds-ru asterisk-core-sounds-ru-wav \
	sound-theme-freedesktop baresip kamailio sip-tester gcc python3-dev
DEMO_DIR := out/demo
DEMO_VALUES := --org 温州气象局 --agent-id 1001 --number 13812345678

.PHONY: setup system-deps demo test lint bench clean

setup: $(STAMP)

system-deps:
	@bash tools/install_system_deps.sh $(APT_PACKAGES)

$(STAMP): pyproject.toml Makefile tools/install_system_deps.sh ivr/detect/_kernels.c
	@$(MAKE) --no-print-directory system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ivr synth --script outbound $(DEMO_VALUES) --out $(DEMO_DIR)
	$(BIN)/ivr replay $(DEMO_DIR) --script outbound $(DEMO_VALUES) --asr reference \
		--expect $(DEMO_DIR)/manifest.yaml --out $(DEMO_DIR)/calls --report $(DEMO_DIR)/report \
		--db $(DEMO_DIR)/calls.db

lint: $(STAMP)
	$(BIN)/ruff check ivr tests tools

# The tests that keep time on a real clock (tests/line/: sound server, SIP) run on their own;
# the rest, which only use the CPU, on every core at once: each file in one worker (its module
# fixtures made once), the longest files first (tests/conftest.py FIRST).
test: $(STAMP)
	$(BIN)/ruff check ivr tests tools
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder -m "not line"; cpu=$$?; \
	$(BIN)/python -m pytest -q -m line; line=$$?; \
	test $$cpu -eq 0 && test $$line -eq 0

bench: $(STAMP)
	$(BIN)/python tools/bench.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
