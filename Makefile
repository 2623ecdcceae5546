# The first two targets are the README's two commands; both set up .venv on a fresh machine.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TOOLS  := $(VENV)/.tools
STORE  ?= demo_output/store

.PHONY: demo test setup clean

demo: $(STAMP)
	$(VENV)/bin/posegraph demo --out demo_output

test: $(STAMP) $(TOOLS)
	$(PYTHON) -m pytest -q

setup: $(STAMP)

# torch goes in first, pinned: the CPU wheel is on disk, a bare `torch` pulls CUDA builds.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e ".[dev,onnx]"
	touch $(STAMP)

# Chromium, its driver and ffmpeg for the live tests (a real browser, a real UDP stream); those
# tests skip without them. Installed with apt-get where this user is root, tried once per .venv.
$(TOOLS):
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v ffmpeg >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make: installing chromium, chromium-driver and ffmpeg (apt-get) for the live tests"; \
	  (timeout 900 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq \
	    chromium chromium-driver ffmpeg) >/dev/null 2>&1 \
	  || echo "make: apt-get could not install them; the browser and stream tests will skip"; \
	else echo "make: chromium, chromium-driver or ffmpeg missing (as root: apt-get install chromium" \
	  "chromium-driver ffmpeg); the browser and stream tests will skip"; fi
	@touch $(TOOLS)

clean:
	rm -rf $(VENV) demo_output .pytest_cache
