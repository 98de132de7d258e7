# The README's commands are these targets. Each creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-unit lint bench bench-nlu bench-kb rasa-train rasa-serve clean compose-check

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(CHROMIUM):
	@echo "installing Debian's chromium for the browser tests (once)"
	@$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null

install: $(STAMP) $(CHROMIUM)

demo: $(STAMP)
	$(BIN)/kamidesk demo

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/kamidesk bench

bench-nlu: $(STAMP)
	$(BIN)/python scripts/bench_nlu.py

bench-kb: $(STAMP)
	$(BIN)/python scripts/bench_kb.py

rasa-train:
	bash scripts/rasa.sh train

rasa-serve:
	bash scripts/rasa.sh serve

compose-check:
	docker-compose -f docker-compose.yml config -q

clean:
	rm -rf $(VENV) var/*.db var/*.db-* .pytest_cache
