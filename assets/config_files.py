"""Load the marketer-editable rule files in `config/` and fail with a clear message when one is wrong.

Each rules module validates its own file with the small helpers here, so every error names the file,
the place inside it and what to do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workflows.settings import Settings


class ConfigError(ValueError):
    """A rule file is missing or malformed. The message names the file and the offending key."""

    def __init__(self, file: Path | str, where: str, problem: str):
        self.file, self.where, self.problem = str(file), where, problem
        super().__init__(f"{file}: {where}: {problem}" if where else f"{file}: {problem}")


# libyaml's parser when PyYAML was built with it (the wheels are): the same data, ~10x faster than
# the pure-Python one (personas.yaml 27ms -> 3ms), and a night reads the rule files dozens of times.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load(text)`, with libyaml when available (yaml.YAMLError on bad input, as safe_load)."""
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader


def config_path(name: str, config_dir: Path | None = None) -> Path:
    """Path of `config/<name>` (the folder is overridable with SEGMENTATION_CONFIG_DIR)."""
    return (config_dir or Settings.from_env().config_dir) / name


def load_yaml(name: str, config_dir: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """Read `config/<name>` as a YAML mapping; return (path, data)."""
    path = config_path(name, config_dir)
    if not path.is_file():
        raise ConfigError(path, "", "file not found (restore it from the repository or set SEGMENTATION_CONFIG_DIR)")
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(path, "", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(path, "", "the top level must be a mapping of keys to values")
    return path, data


def require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], file: Path, where: str = "") -> Any:
    """`data[key]`, checked to exist and be of `kind`; a ConfigError naming file and key otherwise."""
    place = f"{where}.{key}" if where else key
    if not isinstance(data, dict) or key not in data:
        raise ConfigError(file, place, "required key is missing")
    value = data[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(file, place, f"expected a number, got {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(file, place, f"expected {names}, got {type(value).__name__} {value!r}")
    return value


def require_one_of(value: Any, allowed: set[str] | list[str], file: Path, where: str) -> str:
    """Check that `value` is one of `allowed`; the error lists the accepted values."""
    if value not in allowed:
        raise ConfigError(file, where, f"{value!r} is not one of: {', '.join(sorted(allowed))}")
    return value
