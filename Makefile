# The first two targets are the README's two commands; both set up .venv on a fresh machine.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STORE  ?= demo_output/store

.PHONY: demo test setup clean

demo: $(STAMP)
	$(VENV)/bin/posegraph demo --out demo_output

test: $(STAMP)
	$(PYTHON) -m pytest -q

setup: $(STAMP)

# torch goes in first, pinned: the CPU wheel is on disk, a bare `torch` pulls CUDA builds.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) demo_output .pytest_cache
