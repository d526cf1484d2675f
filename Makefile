# Two commands matter: `make run` and `make test`. Both set everything up first.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run demo test test-slow bench lint screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh $(wildcard biometrics/*/*.c)
	bash scripts/setup.sh

## Run the station on simulators: the GUI when there is a display, else the headless demo.
run: setup
	$(PY) -m station run

demo: setup
	$(PY) -m station demo --headless --families 5 --out demo-out

## Every test CI runs (slow evaluations excluded; see test-slow).
test: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

## Full FVC evaluations, the full tearing sweep and soak tests.
test-slow: setup
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

## Benchmarks print figures; see docs/performance.md.
bench: setup
	$(PY) benchmarks/run_all.py

## Screenshots of every screen into docs/screenshots/ (offscreen, no display needed).
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots.py

lint: setup
	$(PY) -m ruff check .
	$(PY) ../shared/hooks/check_layers.py .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
