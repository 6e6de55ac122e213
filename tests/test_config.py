"""Configuration: agentcore.toml, [tool.agentcore] in pyproject, environment overrides, sources, errors."""

from __future__ import annotations


import pytest

from agentcore.config import load_config
from agentcore.errors import ConfigurationError


@pytest.fixture(autouse=True)
def hermetic(clean_config):
    """Plugins are already off (conftest); no machine configuration either."""


TOML = """\
# agentcore settings
backend = "transformers"
memory_gb = 16

[specialists.math]
model = "Qwen/Qwen3-4B"
thinking = "on"

[specialists.coder]
backend = "openai"
base_url = "http://gpu:8000/v1"
"""


def test_defaults():
    config = load_config()
    assert config.file is None
    assert config.settings.backend == "transformers" and config.source("backend") == "default"
    assert config.specialist("math").model is None
    assert config.device is None


def test_agentcore_toml_with_line_numbers(tmp_path):
    (tmp_path / "agentcore.toml").write_text(TOML)
    config = load_config()
    assert config.file.endswith("agentcore.toml")
    assert config.settings.memory_gb == 16 and config.source("memory_gb") == "agentcore.toml:3"
    assert config.specialist("math").model == "Qwen/Qwen3-4B"
    assert config.source("specialists.math.model") == "agentcore.toml:6"
    assert config.backend_for("coder") == "openai" and config.backend_for("math") == "transformers"
    assert config.base_url_for("coder") == "http://gpu:8000/v1"
    keys = {v.key: v for v in config.values()}
    assert keys["specialists.math.thinking"].value == "on"
    assert keys["backend"].source == "agentcore.toml:2"


def test_pyproject_tool_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.agentcore]\ndevice = "cuda:1"\n\n[tool.agentcore.specialists.vl]\n'
        'model = "/models/qwen-vl"\n'
    )
    config = load_config()
    assert config.settings.device == "cuda:1" and config.source("device") == "pyproject.toml:5"
    assert config.specialist("vl").model == "/models/qwen-vl"
    assert config.source("specialists.vl.model") == "pyproject.toml:8"


def test_pyproject_without_our_table_is_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config().file is None


def test_agentcore_toml_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.agentcore]\nbackend = "openai"\n')
    (tmp_path / "agentcore.toml").write_text('backend = "transformers"\n')
    assert load_config().settings.backend == "transformers"


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    (tmp_path / "agentcore.toml").write_text(TOML)
    monkeypatch.setenv("AGENTCORE_MATH_MODEL", "Qwen/Qwen3-8B")
    monkeypatch.setenv("AGENTCORE_MEMORY_GB", "48")
    monkeypatch.setenv("AGENTCORE_MATH_THINKING_BUDGET", "1024")
    monkeypatch.setenv("AGENTCORE_BASE_URL", "http://other:8000")
    config = load_config()
    assert config.specialist("math").model == "Qwen/Qwen3-8B"
    assert config.source("specialists.math.model") == "env:AGENTCORE_MATH_MODEL"
    assert config.settings.memory_gb == 48.0 and config.source("memory_gb") == "env:AGENTCORE_MEMORY_GB"
    assert config.specialist("math").thinking_budget == 1024
    assert config.specialist("math").thinking == "on"  # the file's, untouched
    assert config.base_url_for("math") == "http://other:8000"
    assert config.base_url_for("coder") == "http://gpu:8000/v1"  # the specialist's own wins


def test_env_for_specialist_names_and_defaults(monkeypatch):
    monkeypatch.setenv("AGENTCORE_DEFAULT_MODEL", "Qwen/Qwen3-0.6B")
    monkeypatch.setenv("AGENTCORE_MY_LAWYER_MODEL", "Qwen/Qwen3-4B")
    monkeypatch.setenv("AGENTCORE_PLUGINS", "")  # not a setting
    config = load_config()
    assert config.settings.default_model == "Qwen/Qwen3-0.6B"
    assert config.specialist("my_lawyer").model == "Qwen/Qwen3-4B"
    assert "default" not in config.settings.specialists


def test_agentcore_model_is_an_alias_for_the_default_model(monkeypatch):
    monkeypatch.setenv("AGENTCORE_MODEL", "/models/small")
    config = load_config()
    assert config.settings.default_model == "/models/small" and config.source("default_model") == "env:AGENTCORE_MODEL"
    monkeypatch.setenv("AGENTCORE_DEFAULT_MODEL", "/models/other")
    assert load_config().settings.default_model == "/models/other"


def test_explicit_path_and_config_env(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere.toml"
    other.write_text('dtype = "int4"\n')
    assert load_config(other).settings.dtype == "int4"
    monkeypatch.setenv("AGENTCORE_CONFIG", str(other))
    assert load_config().settings.dtype == "int4"
    monkeypatch.setenv("AGENTCORE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match="AGENTCORE_CONFIG"):
        load_config()
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('backnd = "openai"\n', r"unknown setting 'backnd'; allowed: backend"),
        ('[specialists.math]\nmodle = "x"\n', r"agentcore.toml:2: unknown setting 'specialists.math.modle'.*model"),
        ('[specialists.math]\nthinking = "maybe"\n', r"specialists.math.thinking \(agentcore.toml:2\).*'off', 'on' or 'auto'"),
        ('dtype = "fp8"\n', r"dtype.*bf16"),
        ('device = "tpu"\n', r"device"),
        ('memory_gb = -1\n', r"memory_gb"),
        ('specialists = 3\n', r"must be a table"),
        ("backend = \n", r"not valid TOML"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, text, message):
    (tmp_path / "agentcore.toml").write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        load_config()


def test_invalid_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("AGENTCORE_MEMORY_GB", "lots")
    with pytest.raises(ConfigurationError, match="env:AGENTCORE_MEMORY_GB"):
        load_config()


def test_cli_config_and_models(tmp_path, capsys):
    from agentcore.cli import main

    (tmp_path / "agentcore.toml").write_text(TOML)
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "specialists.math.model" in out and "agentcore.toml:6" in out
    assert main(["config", "--json"]) == 0
    assert '"source": "agentcore.toml:3"' in capsys.readouterr().out

    assert main(["models", "--memory-gb", "24"]) == 0
    out = capsys.readouterr().out
    assert "Qwen/Qwen3-235B-A22B" in out and "22B active" in out
    assert "Qwen/Qwen3-4B" in out and "configured (agentcore.toml:6)" in out  # math is configured
    assert "Qwen/Qwen2.5-Coder-7B-Instruct at bf16" in out
    assert main(["models", "--kind", "vl", "--json", "--memory-gb", "10"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert {m["id"] for m in data["models"]} == {
        "Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct",
        "Qwen/Qwen2.5-VL-32B-Instruct", "Qwen/Qwen2.5-VL-72B-Instruct",
    }
    assert data["picks"]["vl"]["model_id"] == "Qwen/Qwen2.5-VL-3B-Instruct"


def test_cli_reports_bad_config_in_one_line(tmp_path, capsys):
    from agentcore.cli import main

    (tmp_path / "agentcore.toml").write_text('backnd = "x"\n')
    assert main(["config"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("agentcore: error: agentcore.toml:1: unknown setting 'backnd'") and err.count("\n") == 1
