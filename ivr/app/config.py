"""A config file (`--config`: `values:`, `detect:`, `script:` sections) and `--set` options,
read into placeholder values, call settings and script timings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ivr.call_settings import CallSettings
from ivr.errors import IvrError
from ivr.yamlfile import read_yaml

if TYPE_CHECKING:
    from ivr.script.model import Script


def load_config(path: Path) -> dict:
    """A YAML config file as a mapping; IvrError naming the file on any problem."""
    data = read_yaml(path, "config file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IvrError(f"{path}: a config file must be a mapping, got {type(data).__name__}")
    return data


def parse_assignment(text: str) -> tuple[str, str]:
    """`name=value` to (name, value); ValueError if there is no `=`."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def call_settings(config: Path | None, overrides: list[str]) -> CallSettings:
    """Call settings: defaults, then a config file's `detect:` section, then --set options."""
    settings = CallSettings()
    if config is not None:
        section = load_config(config).get("detect") or {}
        if not isinstance(section, dict):
            raise IvrError(f"{config}: `detect:` must be a mapping of settings")
        try:
            settings = CallSettings.from_mapping(section)
        except ValueError as exc:
            raise IvrError(f"{config}: {exc}") from None
    if overrides:
        settings = settings.with_overrides(dict(parse_assignment(o) for o in overrides))
    return settings


def apply_script_config(script: Script, config: Path | None) -> Script:
    """The script with a config file's `script:` timings (noinput, end_of_speech, max_speech)."""
    if config is None:
        return script
    from ivr.script.overrides import with_timings

    section = load_config(config).get("script") or {}
    if not isinstance(section, dict):
        raise IvrError(f"{config}: `script:` must be a mapping of timings")
    try:
        return with_timings(script, section)
    except ValueError as exc:
        raise IvrError(f"{config}: script: {exc}") from None


def placeholder_values(
    config: Path | None, org: str | None, agent_id: str | None, number: str | None
) -> dict[str, str]:
    """Placeholder values: a config file's `values:`, then --org, --agent-id, --number."""
    values: dict[str, str] = {}
    if config is not None:
        section = load_config(config).get("values") or {}
        if not isinstance(section, dict):
            raise IvrError(f"{config}: `values:` must be a mapping of placeholder values")
        values.update({str(k): str(v) for k, v in section.items()})
    for key, value in (("org", org), ("agent_id", agent_id), ("number", number)):
        if value is not None:
            values[key] = value
    return values
