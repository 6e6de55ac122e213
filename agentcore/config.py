"""Configuration: which model and backend each specialist uses, from a file and the environment.

Where settings come from, later ones winning:

1. defaults (below);
2. the first file found of: ``$AGENTCORE_CONFIG``, ``./agentcore.toml``, ``[tool.agentcore]`` in
   ``./pyproject.toml``;
3. environment variables.

The file::

    backend = "transformers"        # transformers | openai | a backend a plugin registers
    base_url = "http://localhost:8000/v1"   # for the openai backend
    default_model = "Qwen/Qwen3-0.6B"       # used when a specialist's model is unavailable
    device = "auto"                 # auto | cpu | cuda | cuda:N | mps
    dtype = "auto"                  # auto | bf16 | int8 | int4
    memory_gb = 24                  # memory for model selection and the model pool (default: measured)

    [specialists.math]              # any specialist, built-in or from a plugin
    model = "Qwen/Qwen3-8B"         # instead of choosing by memory
    backend = "openai"
    base_url = "http://gpu-box:8000/v1"
    thinking = "on"                 # off | on | auto
    thinking_budget = 2048

Environment variables: ``AGENTCORE_BACKEND``, ``AGENTCORE_BASE_URL``, ``AGENTCORE_DEFAULT_MODEL``,
``AGENTCORE_DEVICE``, ``AGENTCORE_DTYPE``, ``AGENTCORE_MEMORY_GB`` (``AGENTCORE_MODEL``, the in-process
backend's name for the default model, counts as ``AGENTCORE_DEFAULT_MODEL`` when that is unset), and per specialist
``AGENTCORE_<NAME>_MODEL``, ``_BACKEND``, ``_BASE_URL``, ``_THINKING``, ``_THINKING_BUDGET`` (the name upper-cased,
``-`` as ``_``: ``AGENTCORE_MATH_MODEL``). Every value keeps its source (``default``, ``agentcore.toml:12``,
``env:AGENTCORE_MATH_MODEL``), which ``agentcore config`` shows.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentcore.errors import ConfigurationError

CONFIG_ENV = "AGENTCORE_CONFIG"
ENV_PREFIX = "AGENTCORE_"


class SpecialistSettings(BaseModel):
    """One specialist's settings (all optional: unset means the specialist's own default)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    backend: str | None = None
    base_url: str | None = None
    thinking: Literal["off", "on", "auto"] | None = None
    thinking_budget: int | None = Field(default=None, gt=0)


class Settings(BaseModel):
    """Global settings."""

    model_config = ConfigDict(extra="forbid")

    backend: str = "transformers"
    base_url: str | None = None
    default_model: str | None = None  # None: the embedded default model
    device: str = Field(default="auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    dtype: Literal["auto", "bf16", "int8", "int4"] = "auto"
    memory_gb: float | None = Field(default=None, gt=0)
    specialists: dict[str, SpecialistSettings] = Field(default_factory=dict)


_GLOBAL_KEYS = [k for k in Settings.model_fields if k != "specialists"]
_SPECIALIST_KEYS = list(SpecialistSettings.model_fields)


class ConfigValue(BaseModel):
    """A setting's effective value and where it came from."""

    key: str  # dotted: "backend", "specialists.math.model"
    value: Any
    source: str


class EffectiveConfig(BaseModel):
    """The settings in force, with the source of each value."""

    settings: Settings
    sources: dict[str, str] = Field(default_factory=dict)  # dotted key → source
    file: str | None = None

    def source(self, key: str) -> str:
        return self.sources.get(key, "default")

    def specialist(self, name: str) -> SpecialistSettings:
        """The settings of specialist ``name`` (empty when nothing is configured for it)."""
        return self.settings.specialists.get(name, SpecialistSettings())

    def backend_for(self, name: str) -> str:
        return self.specialist(name).backend or self.settings.backend

    def base_url_for(self, name: str) -> str | None:
        return self.specialist(name).base_url or self.settings.base_url

    def apply(self, specialist: Any) -> Any:
        """A copy of ``specialist`` with the configured thinking mode and budget applied (if any)."""
        settings = self.specialist(specialist.name)
        if settings.thinking is None and settings.thinking_budget is None:
            return specialist
        policy = specialist.thinking.model_copy(
            update={
                k: v
                for k, v in {"mode": settings.thinking, "budget": settings.thinking_budget}.items()
                if v is not None
            }
        )
        return specialist.model_copy(update={"thinking": policy})

    @property
    def device(self) -> str | None:
        """The configured device, or ``None`` for auto."""
        return None if self.settings.device == "auto" else self.settings.device

    def values(self) -> list[ConfigValue]:
        """Every setting, global first, then per specialist (only those configured), with sources."""
        out = [ConfigValue(key=k, value=getattr(self.settings, k), source=self.source(k)) for k in _GLOBAL_KEYS]
        for name, spec in sorted(self.settings.specialists.items()):
            for key in _SPECIALIST_KEYS:
                value = getattr(spec, key)
                dotted = f"specialists.{name}.{key}"
                if value is not None:
                    out.append(ConfigValue(key=dotted, value=value, source=self.source(dotted)))
        return out


# ---------------------------------------------------------------------------------------------------------
# Reading


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError as exc:
            raise ConfigurationError("reading agentcore.toml on Python 3.10 needs `pip install tomli`") from exc
    return tomllib.loads(text)


def _line_numbers(text: str, prefix: tuple[str, ...] = ()) -> dict[str, int]:
    """Dotted key → line number of its assignment, by a light scan (tomllib gives no positions).

    Understands ``[table]`` headers and ``key = value`` lines, which is what agentcore's settings use;
    keys it cannot place simply get the file name without a line.
    """
    lines: dict[str, int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[([^\[\]]+)\]", stripped)
        if header:
            table = tuple(part.strip().strip('"') for part in header.group(1).split("."))
            continue
        assign = re.match(r'^("?[\w.-]+"?)\s*=', stripped)
        if assign:
            key = table + tuple(part.strip('"') for part in assign.group(1).split("."))
            if key[: len(prefix)] == prefix:
                lines[".".join(key[len(prefix) :])] = number
    return lines


def find_config_file(cwd: Path | None = None) -> tuple[Path, tuple[str, ...]] | None:
    """The config file in force and the table inside it (``()`` or ``("tool", "agentcore")``), if any."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(f"{CONFIG_ENV}={explicit}: no such file; point it at an agentcore.toml")
        return path, (("tool", "agentcore") if path.name == "pyproject.toml" else ())
    cwd = cwd or Path.cwd()
    toml = cwd / "agentcore.toml"
    if toml.is_file():
        return toml, ()
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = _toml_loads(pyproject.read_text(encoding="utf-8"))
        except Exception:  # someone else's broken pyproject is not our configuration error
            return None
        if isinstance(data.get("tool"), dict) and "agentcore" in data["tool"]:
            return pyproject, ("tool", "agentcore")
    return None


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """``{"specialists": {"math": {"model": x}}, "backend": y}`` → dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "specialists":
            if not isinstance(value, dict):
                raise ConfigurationError("'specialists' must be a table: [specialists.<name>] with model = ...")
            for name, table in value.items():
                if not isinstance(table, dict):
                    raise ConfigurationError(
                        f"'specialists.{name}' must be a table of {', '.join(_SPECIALIST_KEYS)}"
                    )
                for sub, sub_value in table.items():
                    flat[f"specialists.{name}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def _check_key(key: str, where: str) -> None:
    parts = key.split(".")
    if parts[0] == "specialists":
        if len(parts) != 3 or parts[2] not in _SPECIALIST_KEYS:
            raise ConfigurationError(
                f"{where}: unknown setting {key!r}; a specialist's settings are: {', '.join(_SPECIALIST_KEYS)}"
            )
    elif key not in _GLOBAL_KEYS:
        raise ConfigurationError(
            f"{where}: unknown setting {key!r}; allowed: {', '.join(_GLOBAL_KEYS)}, "
            "and [specialists.<name>] tables"
        )


def _env_values(specialist_names: set[str]) -> dict[str, tuple[Any, str]]:
    """Dotted key → (raw value, "env:NAME") for the AGENTCORE_* variables that are settings."""
    out: dict[str, tuple[Any, str]] = {}
    for key in _GLOBAL_KEYS:
        name = ENV_PREFIX + key.upper()
        if name in os.environ:
            out[key] = (os.environ[name], f"env:{name}")
    if "default_model" not in out and os.environ.get("AGENTCORE_MODEL"):
        # The in-process backend's own name for the default model; AGENTCORE_DEFAULT_MODEL wins over it.
        out["default_model"] = (os.environ["AGENTCORE_MODEL"], "env:AGENTCORE_MODEL")
    by_env_name = {n.upper().replace("-", "_"): n for n in specialist_names}
    suffixes = sorted((k.upper() for k in _SPECIALIST_KEYS), key=len, reverse=True)
    pattern = re.compile(rf"^{ENV_PREFIX}([A-Z0-9_]+?)_({'|'.join(suffixes)})$")
    for name, value in os.environ.items():
        match = pattern.match(name)
        if not match or match.group(1) == "DEFAULT":  # AGENTCORE_DEFAULT_MODEL is global
            continue
        spec = by_env_name.get(match.group(1), match.group(1).lower())
        out[f"specialists.{spec}.{match.group(2).lower()}"] = (value, f"env:{name}")
    return out


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def load_config(path: str | Path | None = None, *, env: bool = True) -> EffectiveConfig:
    """The effective configuration: defaults, then the config file (``path`` or found), then the environment.

    Raises :class:`ConfigurationError` naming the key, what is allowed and where it was set.
    """
    if path is not None:
        file: tuple[Path, tuple[str, ...]] | None = (
            Path(path),
            (("tool", "agentcore") if Path(path).name == "pyproject.toml" else ()),
        )
        if not Path(path).is_file():
            raise ConfigurationError(f"config file {path} does not exist")
    else:
        file = find_config_file()

    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    file_name: str | None = None
    if file is not None:
        file_path, table = file
        file_name = str(file_path)
        text = file_path.read_text(encoding="utf-8")
        try:
            parsed = _toml_loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"{file_path}: not valid TOML: {exc}") from exc
        for part in table:
            parsed = parsed.get(part, {})
        if not isinstance(parsed, dict):
            raise ConfigurationError(f"{file_path}: [{'.'.join(table)}] must be a table")
        lines = _line_numbers(text, table)
        label = file_path.name
        for key, value in _flatten(parsed).items():
            where = f"{label}:{lines[key]}" if key in lines else label
            _check_key(key, where)
            _set(data, key, value)
            sources[key] = where

    if env:
        names = set(data.get("specialists", {}))
        try:
            from agentcore.specialists import builtin_specialists

            names |= set(builtin_specialists())
        except ImportError:  # pragma: no cover - partial checkouts
            pass
        for key, (value, source) in _env_values(names).items():
            _check_key(key, source)
            _set(data, key, value)
            sources[key] = source

    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(_explain(exc, sources)) from None
    return EffectiveConfig(settings=settings, sources=sources, file=file_name)


def _explain(exc: ValidationError, sources: dict[str, str]) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"])
        where = sources.get(key, "default")
        problems.append(f"{key} ({where}): {error['msg']} (got {error.get('input')!r})")
    return "invalid configuration: " + "; ".join(problems)
