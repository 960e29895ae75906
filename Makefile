# ticketbot: `make run` starts the console bot, `make test` runs every test.
# Both create .venv on first use and keep it in step with setup.cfg.

PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; \
	done)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PROJECT_FILES := setup.cfg pyproject.toml
HOST ?= 127.0.0.1
PORT ?= 8000
EXAMPLE_PLUGIN := plugins/ticketbot-stats
WEBHOOK_PLUGIN := plugins/ticketbot-webhook

.PHONY: run serve test bench lint models models-department models-intent clean help

help:
	@echo "make run    set up .venv and start the console bot (embedded API, local SQLite)"
	@echo "make serve  set up .venv and run the ticket API on http://127.0.0.1:8000 (HOST=, PORT=)"
	@echo "make test   set up .venv with the test extras and run the whole test suite"
	@echo "make bench  run the benchmarks and update BENCHMARKS.md"
	@echo "make models retrain the shipped models from the bundled data"
	@echo "            (make models-intent or models-department: one of them)"
	@echo "make lint   ruff"
	@echo "make clean  remove .venv and caches"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "ticketbot needs Python 3.11 or newer: install it, or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): $(BIN)/python $(PROJECT_FILES)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): $(BIN)/python $(PROJECT_FILES) $(EXAMPLE_PLUGIN)/setup.cfg $(WEBHOOK_PLUGIN)/setup.cfg
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e $(EXAMPLE_PLUGIN) -e $(WEBHOOK_PLUGIN)
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/ticketbot shell

serve: $(RUN_STAMP)
	$(BIN)/ticketbot serve --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	@# A test uninstalls and reinstalls the example plugin; if that run was killed half-way,
	@# put the plugin back before testing.
	@$(BIN)/python -c 'import ticketbot_stats' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -e $(EXAMPLE_PLUGIN)
	$(BIN)/python -m pytest

models: models-department models-intent

models-department: $(RUN_STAMP)
	$(BIN)/ticketbot train department --out trained_models/department.pkl

models-intent: $(RUN_STAMP)
	TICKETBOT_LOAD_PLUGINS=create_ticket,read_ticket,delete_ticket,comment_ticket,close_ticket,reopen_ticket,entities,fallback,small_talk \
		$(BIN)/ticketbot train intent --out trained_models/intent.pkl

bench: $(TEST_STAMP)
	$(BIN)/python -m bench.department_it_tickets
	$(BIN)/python -m bench.department_independent
	$(BIN)/python -m bench.intent_quality
	$(BIN)/python -m bench.conversations
	$(BIN)/python -m bench.intents_wikit
	$(BIN)/python -m bench.api_throughput
	$(BIN)/python -m bench.shell_startup
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.learning_loop
	$(BIN)/python -m bench.model_switch
	$(BIN)/python -m bench.scale

lint: $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check ticketbot api plugins tests bench
	$(BIN)/ruff format --check ticketbot api plugins tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
