# Opastin tasks. Quick start: `make run` (set up and start), `make test` (the whole suite).
SHELL := /bin/bash
.DEFAULT_GOAL := help
ACTIONS_PY := .venvs/actions/bin/python
RASA := .venvs/rasa/bin/rasa

.PHONY: translations coverage audit help setup web run console test test-rasa test-images test-staff-loop check shell interactive lint format index prepare validate eval bench lock clean loadtest nlu-eval

help:  ## list the tasks
	@grep -E '^[a-z-]+:.*## ' Makefile | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup:  ## create or update both virtual environments (no-op when up to date)
	@py=$$(scripts/find_python.sh 3.11) && $$py scripts/bootstrap.py

web:  ## install the chat widget (npm ci) and put its bundle into web/vendor/
	@scripts/setup_web.sh

run: setup web  ## build what is missing, start the action server, Rasa and the chat page
	@$(ACTIONS_PY) -m opastin run

shell: setup  ## talk to the bot in this terminal (Rasa's own `rasa shell`, action server started)
	@$(ACTIONS_PY) -m opastin shell $(RASA_ARGS)

interactive: setup  ## `rasa interactive` on bot/data with the action server (RASA_ARGS=...)
	@$(ACTIONS_PY) -m opastin interactive $(RASA_ARGS)

console: setup  ## start the bot with its HTTP API on and the staff console (docs/console.md)
	@$(ACTIONS_PY) -m console run

test:  ## set up what is missing, lint, type check, then run every test (unit, Rasa, end-to-end)
	@scripts/test_machine.sh
	@scripts/run_tests.sh

test-rasa: setup  ## unit tests of bot/'s Python code, in the Rasa venv (fast, no model)
	@.venvs/rasa/bin/python -m pytest tests/rasa_venv

test-staff-loop: setup  ## the console's inbox -> annotate -> train -> publish -> roll back in a browser (slow)
	@TEST_STAFF_LOOP=1 $(ACTIONS_PY) -m pytest tests/console/test_console_e2e.py -k roll_back -n 0 --durations=5

test-images: setup  ## only the image tests: each Dockerfile's pip line in a scratch venv; train / serve
	@$(ACTIONS_PY) -m pytest tests/images -n 2 --durations=5

# The fast tier, for after a small change: no servers, browsers or system packages. It
# assumes the venvs are set up (`make setup` once) and does not re-check them.
check:  ## fast checks (about a minute): lint, format, types, unit tests without servers
	@scripts/check.sh

lint: setup  ## ruff lint and format check
	@$(ACTIONS_PY) -m ruff check . && $(ACTIONS_PY) -m ruff format --check .

format: setup  ## apply ruff formatting and safe fixes
	@$(ACTIONS_PY) -m ruff check --fix . && $(ACTIONS_PY) -m ruff format .

validate: setup  ## check the corpus (file, line and field for every error)
	@$(ACTIONS_PY) -m knowledge validate

coverage: setup  ## the topic map of the newcomer journey with service counts and gaps
	@$(ACTIONS_PY) -m knowledge coverage

audit: setup  ## corpus sources due for re-checking (older than 12 months) and unverified facts
	@$(ACTIONS_PY) -m knowledge audit

translations: setup  ## per language: missing texts, failed checks (numbers, names, meaning), unreviewed
	@$(ACTIONS_PY) -m tools.translations

index: setup  ## build the search index if the corpus or encoder changed
	@$(ACTIONS_PY) -m embeddings build

prepare: setup  ## build the index and train the Rasa model if needed
	@$(ACTIONS_PY) -m opastin prepare

eval: setup  ## retrieval evaluation tables, and pictures in var/reports/
	@$(ACTIONS_PY) -m tools.eval.retrieval

nlu-eval: setup  ## NLU pipelines: cross-validation per language, ready time, turn latency; pictures
	@$(ACTIONS_PY) -m tools.eval.nlu

bench: setup  ## latency, build time and memory benchmarks for this machine
	@$(ACTIONS_PY) -m tools.bench.search
	@$(ACTIONS_PY) -m tools.bench.turns

loadtest: setup  ## load test on local PostgreSQL/Redis and 2 Rasa instances (LOADTEST_ARGS=...)
	@scripts/system_deps.sh
	@$(ACTIONS_PY) -m tools.loadtest $(or $(LOADTEST_ARGS),--store postgres --rasa 2 -n 40 -m 5 --socketio 8)

lock: setup  ## re-pin requirements/*.lock from the current venvs
	@for v in rasa actions; do { echo "# pip constraints for .venvs/$$v; regenerate with: make lock"; \
	  .venvs/$$v/bin/pip freeze --exclude-editable | sed 's/+cpu$$//'; } > requirements/$$v.lock; done

clean:  ## remove built artefacts (index, models, logs); keeps the venvs and the tracker store
	rm -rf var/index var/models var/logs
