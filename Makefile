# make test  -- set up .venv (torch, basicsr 1.4.2, this package) and run the test suite
# make demo  -- set up .venv, train the CPU demo, enhance a few dark photos into out/demo/
# make test-slow -- the multi-process and multi-minute tests (DDP ranks, SIGKILL resume, torch.compile)
# make test-benchmarks -- the maintained benchmarks' tests (CI runs them after make test)
# make lint  -- set up .venv, run ruff (pyproject.toml [tool.ruff]: 120 columns, import order)
PY := .venv/bin/python

.PHONY: setup test test-slow test-benchmarks demo lint

setup:
	bash scripts/setup_env.sh

test: setup
	$(PY) -m pytest -q -m "not slow"

test-slow: setup
	$(PY) -m pytest -q -m slow

test-benchmarks: setup
	$(PY) -m pytest -q benchmarks/tests

demo: setup
	bash scripts/run_demo.sh

lint: setup
	$(PY) -m ruff check .
