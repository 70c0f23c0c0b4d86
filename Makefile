# The two commands of the quick start: `make demo` and `make test`.
# Each creates .venv when missing and installs the project (with test tools) into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-robust lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,deploy]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dlzoo run recipes/lenet5_digits.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15

# The learning tests at seeds 0-4, each with oneDNN on and off, then the margins table
# (tests/MARGINS.md). Not what CI runs: about 27 minutes on 2 cores.
MARGINS_LOG := runs/margins.jsonl
test-robust: $(STAMP)
	mkdir -p runs && rm -f $(MARGINS_LOG)
	status=0; for seed in 0 1 2 3 4; do for onednn in 1 0; do \
	  echo "== DLZOO_TEST_SEED=$$seed TF_ENABLE_ONEDNN_OPTS=$$onednn"; \
	  DLZOO_TEST_SEED=$$seed TF_ENABLE_ONEDNN_OPTS=$$onednn DLZOO_MARGINS_LOG=$(CURDIR)/$(MARGINS_LOG) \
	    $(BIN)/python -m pytest -n 2 -q -m learning || status=1; \
	done; done; \
	$(BIN)/python -m tests.margins $(MARGINS_LOG) || status=1; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check pipelines models tuning explain tests benchmarks

clean:
	rm -rf runs .pytest_cache
