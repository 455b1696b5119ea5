# The README's commands. `make run` indexes seeds/ and opens the search page; `make test` runs the tests.
# Both set up a virtual environment first (torch's CPU wheel before the project, so pip never pulls CUDA).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INDEX_DIR ?= index
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser run index test test-all test-es es-node lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0

setup: $(BIN)/python
	$(BIN)/pip install -e ".[test]"

# Debian's Chromium and CJK fonts for the browser test (a test tool's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium fonts-noto-cjk)

index: setup
	$(BIN)/python -m indexer reindex seeds --index-dir $(INDEX_DIR)

run: index
	SEARCH_INDEX_DIR=$(INDEX_DIR) $(BIN)/streamlit run search_app/app.py --server.port $(PORT)

# The quick suite plus the Elasticsearch integration tests (a test node is built and started when Java and
# Maven are present; the tests skip, saying so, when they are not). A bare `pytest` leaves integration out.
test: setup browser
	@start=$$(date +%s); $(BIN)/pytest -m "not slow"; status=$$?; \
	  echo "make test: $$(( $$(date +%s) - start )) s of tests"; exit $$status

# Everything: slow tests (the shared corpus where present) and property tests at full strength.
test-all: setup browser
	@start=$$(date +%s); TEST_THOROUGH=1 $(BIN)/pytest -m "slow or not slow"; status=$$?; \
	  echo "make test-all: $$(( $$(date +%s) - start )) s of tests"; exit $$status

# Only the tests that need a live Elasticsearch (ELASTICSEARCH_URL, or a test node started for the run).
test-es: setup
	$(BIN)/pytest -m integration

# A test node in the foreground on http://127.0.0.1:9250 until Ctrl-C (ES_TEST_HTTP_PORT to move it).
es-node: setup
	$(BIN)/python tests/es_test_node.py

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(INDEX_DIR) test-output .pytest_cache
