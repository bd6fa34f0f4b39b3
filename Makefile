# Two commands do all the set-up on a fresh machine:
#   make serve   - install, build the index from seeds/ (first time), serve the chat
#   make test    - install (Python packages, the cluster extra and Debian's chromium), run every test
#   make lint    - install, then ruff (settings in pyproject.toml)
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE ?= 1

.PHONY: install lint serve test chromium

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# The cluster extra (Ray), for the cluster tests; the single-machine service never needs it.
$(VENV)/.installed-cluster: $(VENV)/.installed requirements-cluster.txt
	$(PY) -m pip install --quiet -r requirements-cluster.txt
	touch $@

lint: install
	$(PY) -m ruff check .

serve: install
	$(PY) -m qa serve

test: install $(VENV)/.installed-cluster chromium
	$(PY) -m pytest

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
