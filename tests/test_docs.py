"""The docs stay true to the code: generated sections are fresh, and hand-written references exist."""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["gen_hooks_doc", "gen_cli_doc"])
def test_generated_sections_are_up_to_date(script: str) -> None:
    gen = _script(script)
    text = gen.DOC.read_text(encoding="utf-8")
    assert gen.updated(text) == text, f"{gen.DOC.name} is stale: run .venv/bin/python scripts/{script}.py"


def test_every_hook_is_documented_with_its_docstring() -> None:
    from agentcore import hookspecs

    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    gen = _script("gen_hooks_doc")
    names = [name for name, *_ in gen.hook_specs()]
    assert names and all(f"### `{name}(" in text for name in names)
    declared = {n for n, f in vars(hookspecs).items() if hasattr(f, "agentcore_spec")}
    assert set(names) == declared
    first_line = inspect.getdoc(hookspecs.agentcore_verify_answer).splitlines()[0]
    assert gen.markdown(first_line) in text


def test_stale_hooks_section_is_detected(tmp_path: Path) -> None:
    gen = _script("gen_hooks_doc")
    stale = gen.DOC.read_text(encoding="utf-8").replace("Register tools", "Registers tools")
    assert gen.updated(stale) != stale


def test_architecture_table_lists_every_module_and_only_real_ones() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    # Every path the doc names exists.
    for path in re.findall(r"`((?:agentcore|plugins|prompts)/[\w./*-]*)`", text):
        if "*" in path or "<" in path:
            assert list(ROOT.glob(path)), path
        else:
            assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"
    # Every module and package of agentcore is in the table (private and __main__ aside).
    for item in sorted((ROOT / "agentcore").iterdir()):
        if item.name.startswith("_") or item.name == "__pycache__" or item.suffix not in (".py", ""):
            continue
        if item.is_dir() and not (item / "__init__.py").exists():
            continue
        name = f"agentcore/{item.name}/" if item.is_dir() else f"agentcore/{item.name}"
        assert f"`{name}`" in text, f"docs/architecture.md does not list {name}"
    for item in (ROOT / "agentcore" / "backends").glob("*.py"):
        if not item.name.startswith("_"):
            assert f"`{item.name}`" in text, f"docs/architecture.md does not list backends/{item.name}"
    for item in (ROOT / "plugins").iterdir():
        if item.is_dir() and (item / "__init__.py").exists():
            assert f"`plugins/{item.name}/`" in text


def test_configuration_lists_every_agent_option_and_setting() -> None:
    from agentcore.agent import Agent
    from agentcore.config import Settings, SpecialistSettings

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    agent_section = text.split("## `Agent(...)`")[1].split("\n## ")[0]
    for name, param in inspect.signature(Agent.__init__).parameters.items():
        if name == "self":
            continue
        row = next((line for line in agent_section.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"Agent option {name!r} is not in docs/configuration.md"
        assert f"`{param.default!r}`".replace("'", '"') in row, f"the default of {name!r} in the doc is not {param.default!r}"
    for key in [k for k in Settings.model_fields if k != "specialists"] + list(SpecialistSettings.model_fields):
        assert f"`{key}`" in text, f"config key {key!r} is not in docs/configuration.md"


def test_documented_environment_variables_are_read_by_the_code() -> None:
    from agentcore.config import ENV_PREFIX, Settings

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    sources = "\n".join(p.read_text(encoding="utf-8") for d in ("agentcore", "plugins") for p in (ROOT / d).rglob("*.py"))
    # config.py reads AGENTCORE_<KEY> for each global key (and per specialist) by building the name.
    built = {ENV_PREFIX + key.upper() for key in Settings.model_fields if key != "specialists"}
    for var in set(re.findall(r"`(AGENTCORE_[A-Z_]+|HF_HUB_OFFLINE|NO_COLOR)`", text)):
        if var.startswith("AGENTCORE_MATH_") or var.endswith("_"):
            continue  # per-specialist variables are built from the specialist's name
        assert var in sources or var in built, f"{var} is documented but never read"


def test_docs_link_to_files_that_exist() -> None:
    for doc in [*DOCS.glob("*.md"), ROOT / "examples" / "plugin-template" / "README.md"]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            assert (doc.parent / target).resolve().exists(), f"{doc.name} links to {target}, which does not exist"
