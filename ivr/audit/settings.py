"""The service standard's numbers an audit scores calls by, with their units and seed lines.

Defaults in one place (`AuditSettings`); a YAML file's `audit:` section and `--set NAME=VALUE`
override them by name. Each setting names the seed line it comes from (`SETTING_INFO`), and
the scorecard shows them with their units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from ivr.errors import IvrError
from ivr.yamlfile import read_yaml


class SettingInfo(NamedTuple):
    """What a setting is measured in and where the standard says it."""

    unit: str
    seed: str


SETTING_INFO: dict[str, SettingInfo] = {
    "backchannel_max_s": SettingInfo(
        "s", "003 在用户讲话过程中适当使用恰当的常用语气词回应用户 (是的,对的)"
    ),
    "overlap_max_s": SettingInfo("s", "001 服务禁忌 客户讲话时轻易打断客户; 003 二.1 打断用户讲话"),
    "hello_turns": SettingInfo("turns", '003 二.5 系统报号后没有及时应答,以客户"喂"三声为准'),
    "answer_within_s": SettingInfo("s", '003 二.5 以客户"喂"三声为准 (three 喂 take about 2 s)'),
    "prompt_join_s": SettingInfo("s", "002 如果遇到电话没有声音时 (one prompt, then 稍停五秒)"),
    "silent_wait_slack_s": SettingInfo("s", "000 二、1 02 间隔3秒左右; 002 稍停五秒"),
    "hold_update_s": SettingInfo("s", "000 三、8 03 每隔30秒告知客户进展"),
    "hold_min_s": SettingInfo("s", "000 三、8 01 请您稍等片刻 (a hold, not a pause)"),
    "hold_max_s": SettingInfo("s", "003 如60秒内仍不能查询到所需答案,则应确认后回复"),
    "hangup_after_customer_s": SettingInfo("s", "001 服务禁忌 客户挂机前主动挂机"),
    "level_min_dbfs": SettingInfo("dBFS", "001 音量适中、悦耳,以客户听清为宜"),
    "level_max_dbfs": SettingInfo("dBFS", "001 与客户通话的声音不要过大 ... 让客户听起来觉得刺耳"),
    "pace_max_sps": SettingInfo("syllables/s", "001 语速适中; 003 三.3 没有按用户要求调整语速"),
    "pace_window_s": SettingInfo("s", "002 提供的信息较长 ... 不可以语速过快而没有提示"),
    "dead_air_s": SettingInfo("s", "003 二.2 精神不集中,没有及时、正确回应用户问题"),
}
"""Each setting's unit and the seed line it comes from (the service standard's seeds: 000
outbound, 001 forbidden, 002 and 003 inbound)."""


@dataclass(frozen=True)
class AuditSettings:
    """The standard's numbers (see SETTING_INFO for units and seed lines)."""

    backchannel_max_s: float = 1.0
    """Agent speech at most this long (s) while the customer speaks is a back-channel (嗯, 好的,
    是的: 0.2-0.6 s, plus the detectors' 100 ms onset), never an interruption."""
    overlap_max_s: float = 0.5
    """Agent speech that starts while the customer speaks and overlaps them longer than this
    (s) interrupts them. Turn changes overlap by up to about 0.3 s in conversation; 0.5 s
    leaves room for the detectors' segment edges (within 0.1 s)."""
    hello_turns: int = 3
    """Customer speech turns (喂) before the agent's first words that make the answer late."""
    answer_within_s: float = 2.0
    """Longest wait (s) from the end of the customer's first turn to the agent's first words:
    three 喂 take about 2 s (the bundled scripts' qa answer_within_ms: 2000)."""
    prompt_join_s: float = 1.5
    """Agent speech segments less than this apart (s) are one prompt when a silent line's
    prompts are counted: far below the standard's 3-5 s waits between them."""
    silent_wait_slack_s: float = 0.5
    """On a silent line, how far (s) a wait may be from the script's: a re-prompt's wait when
    the script gives no qa noinput_s range, and the wait before hanging up (pause)."""
    hold_update_s: float = 30.0
    """Longest silence (s) after the agent's words, while the customer waits, without an
    update (seed 000 三、8 03)."""
    hold_min_s: float = 10.0
    """A silence after the agent's words of at least this (s) is a hold, not a pause; holds
    joined by the agent's updates, the customer silent, are one hold."""
    hold_max_s: float = 60.0
    """Longest hold (s, from its first silence to its last) before the agent comes back with
    the answer or offers to call back (seed 003: 60 s; seed 000 三、8 04 says 2 min)."""
    hangup_after_customer_s: float = 2.0
    """A recording that ends less than this (s) after the customer's last words, with no agent
    words after them, was hung up over the customer."""
    level_min_dbfs: float = -36.0
    """Quietest agent active speech level (dBFS, speech band): 10 dB under the telephone
    network's nominal -26 dBov (ITU-T P.56 active level)."""
    level_max_dbfs: float = -16.0
    """Loudest agent active speech level (dBFS): 10 dB over the nominal -26 dBov."""
    pace_max_sps: float = 6.5
    """Fastest agent speaking rate (syllable nuclei per second of speech, ivr.audit.pace):
    Mandarin conversational speech runs about 4-5 syllables/s; read speech measures 4.9-5.8 by
    this method, the same speech 1.7x faster 5.9-8.4."""
    pace_window_s: float = 5.0
    """Agent speech (s) a speaking rate is measured over: each stretch of this much speech."""
    dead_air_s: float = 3.0
    """Longest silence (s) after the customer stops before the agent answers, outside a hold:
    seed 000 二、1 re-prompts a silent line after about 3 s, a silence the standard acts on."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "backchannel_max_s": (0.0, 10.0),
        "overlap_max_s": (0.0, 10.0),
        "hello_turns": (1, 20),
        "answer_within_s": (0.0, 60.0),
        "prompt_join_s": (0.0, 10.0),
        "silent_wait_slack_s": (0.0, 10.0),
        "hold_update_s": (1.0, 600.0),
        "hold_min_s": (1.0, 600.0),
        "hold_max_s": (1.0, 3600.0),
        "hangup_after_customer_s": (0.0, 60.0),
        "level_min_dbfs": (-90.0, 0.0),
        "level_max_dbfs": (-90.0, 0.0),
        "pace_max_sps": (1.0, 20.0),
        "pace_window_s": (1.0, 600.0),
        "dead_air_s": (0.5, 600.0),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self._ranges.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number in {low}..{high}, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name} must be in {low}..{high}, got {value!r}")
        if self.level_min_dbfs >= self.level_max_dbfs:
            raise ValueError(
                f"level_min_dbfs ({self.level_min_dbfs}) must be below level_max_dbfs "
                f"({self.level_max_dbfs})"
            )

    @classmethod
    def names(cls) -> list[str]:
        """Every setting's name."""
        return [f.name for f in dataclasses.fields(cls)]

    def as_dict(self) -> dict[str, float | int]:
        """Name -> value."""
        return {name: getattr(self, name) for name in self.names()}

    def with_overrides(self, overrides: Mapping[str, Any]) -> AuditSettings:
        """A copy with settings replaced by name; ValueError naming a bad name or value."""
        values = self.as_dict()
        for name, value in overrides.items():
            if name not in values:
                raise ValueError(
                    f"unknown audit setting {name!r}; valid: {', '.join(self.names())}"
                )
            values[name] = _number(name, value, whole=isinstance(values[name], int))
        return AuditSettings(**values)

    def described(self) -> list[dict[str, Any]]:
        """Each setting as a row: name, value, unit, default and seed line."""
        default = AuditSettings()
        return [
            {
                "name": name,
                "value": value,
                "unit": SETTING_INFO[name].unit,
                "default": getattr(default, name),
                "seed": SETTING_INFO[name].seed,
            }
            for name, value in self.as_dict().items()
        ]


def _number(name: str, value: Any, whole: bool) -> float | int:
    """`value` (a number or its text) as the setting's type; ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if whole:
        if number != int(number):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


def load_audit_settings(config: Path | None, overrides: Mapping[str, str]) -> AuditSettings:
    """Defaults, then a YAML file's `audit:` section, then `overrides` (--set); IvrError
    naming the file, or ValueError naming the setting, on a bad one."""
    settings = AuditSettings()
    if config is not None:
        data = read_yaml(config, "config file") or {}
        if not isinstance(data, dict):
            raise IvrError(f"{config}: a config file must be a mapping")
        section = data.get("audit") or {}
        if not isinstance(section, dict):
            raise IvrError(f"{config}: `audit:` must be a mapping of settings")
        try:
            settings = settings.with_overrides(section)
        except ValueError as exc:
            raise IvrError(f"{config}: audit: {exc}") from None
    return settings.with_overrides(overrides)
