# The README's two commands are `make demo` and `make test`; both run the same idempotent install first.
VENV ?= $(HOME)/.cache/lip-toolkit/venv
export LIP_TOOLKIT_VENV := $(VENV)
BIN := $(VENV)/bin
DEMO_OUT ?= demo_out
# Real photos the demo also predicts and draws in its report (the project's six LIP images, where present).
DEMO_PHOTOS ?= $(wildcard ../shared/real/images)

.PHONY: install demo test test-slow bench docs-cli

install:
	@scripts/install.sh

# --overwrite: `make demo` again replaces its own earlier demo_out (once the new run has succeeded).
demo: install
	$(BIN)/lip-toolkit demo --out $(DEMO_OUT) --overwrite $(if $(DEMO_PHOTOS),--photos $(DEMO_PHOTOS))

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

test-slow: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -m slow tests

bench: install
	$(BIN)/python benchmarks/run_all.py   # runs every benchmark and rewrites docs/benchmarks.md
