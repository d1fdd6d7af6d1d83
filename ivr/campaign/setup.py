"""Opening a campaign: its call list, do-not-call list, hours and retry policy read and
checked, its plan rebuilt from the call log, and how each row's call is set up (the script with
the row's placeholder values, its prompts rendered before the row is dialed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.campaign.calllist import CallList, CallRow, read_call_list, sip_uri_problem
from ivr.campaign.donotcall import DoNotCall, read_do_not_call
from ivr.campaign.hours import CallingHours
from ivr.campaign.names import CampaignNames
from ivr.campaign.plan import CampaignPlan, RetryPolicy, attempts_from_log
from ivr.campaign.runner import CampaignOptions
from ivr.errors import IvrError
from ivr.service.workers import CallRecipe

if TYPE_CHECKING:
    from ivr.app.recognition import Recognition
    from ivr.app.setup import CallSetup
    from ivr.call_settings import CallSettings
    from ivr.qa.phrases import ForbiddenPhrase
    from ivr.script.model import Script
    from ivr.tts.prompt_cache import PromptCache


@dataclass
class OpenCampaign:
    """A campaign ready to run: what it calls, where it stands, how each call is set up.
    `name`: as logged and shown (numbers masked unless shown); `names`: the names of its rows."""

    name: str
    script: str
    config: Path | None
    calls: CallList
    plan: CampaignPlan
    hours: CallingHours
    values: dict[str, str]
    """The placeholder values every row shares (--config's, --org, --agent-id)."""
    settings: CallSettings
    prompts: PromptCache
    recognition: Recognition
    forbidden: list[ForbiddenPhrase]
    names: CampaignNames
    overrides: tuple[str, ...] = ()
    asr: str = "none"
    model: str | None = None
    cache_dir: Path | None = None
    script_name: str = ""
    notices: list[str] = field(default_factory=list)

    def values_of(self, row: CallRow) -> dict[str, str]:
        """The placeholder values of `row`'s call: the shared ones, then the row's non-empty
        columns (an empty cell leaves the script's default, if it has one)."""
        given = {column: value for column, value in row.values.items() if value}
        return {**self.values, **given, "number": row.number}

    def script_of(self, values: dict[str, str]) -> Script:
        """The script with `values`; IvrError naming what is wrong (e.g. a placeholder the
        row does not give)."""
        from ivr.app.setup import load_call_script

        return load_call_script(self.script, values, self.config, given_by=_given_by)

    def prepare(self, row: CallRow) -> CallSetup:
        """The call of `row`: the script with its values, every prompt rendered."""
        from ivr.app.setup import CallSetup

        script = self.script_of(self.values_of(row))
        return CallSetup.rendered(script, self.settings, self.prompts, self.recognition)

    def recipe(
        self,
        listen: tuple[str, int],
        proxy: str | None,
        options: CampaignOptions,
        show_numbers: bool,
    ) -> CallRecipe:
        """How the worker processes set up their agents and calls."""
        return CallRecipe(
            self.script, self.config, tuple(self.overrides), self.asr, self.model,
            self.cache_dir, listen[0], listen[1], proxy, show_numbers, options.answer_timeout_s,
        )  # fmt: skip

    def options(
        self,
        trunk: str | None,
        concurrency: int,
        wait: bool,
        answer_timeout_s: float,
        out: Path,
        shard: tuple[int, int],
    ) -> CampaignOptions:
        """How this run dials; ValueError for values out of range."""
        if concurrency < 1:
            raise ValueError(f"invalid --concurrency {concurrency}: at least 1")
        if not answer_timeout_s > 0:
            raise ValueError(f"invalid --answer-timeout-s {answer_timeout_s}: more than 0")
        if trunk is not None and (
            "{number}" not in trunk or sip_uri_problem(trunk.replace("{number}", "0"))
        ):
            raise ValueError(f"invalid --trunk {trunk!r}: give sip:{{number}}@HOST[:PORT]")
        if trunk is None and any(row.uri is None for row in self.calls.rows):
            raise ValueError(f"{self.calls.path}: rows without a uri column need --trunk")
        return CampaignOptions(
            self.name, trunk, concurrency, self.hours, wait, answer_timeout_s, out, shard
        )


def _given_by(placeholder: str) -> str:
    """What gives a campaign's call the value of `placeholder`: the row's column of that name
    (`--name` names the campaign, it fills no `{name}`), or for a few, an option."""
    column = f"a value in the call list's {placeholder!r} column"
    if placeholder in ("org", "agent_id"):
        return f"--{placeholder.replace('_', '-')} or {column}"
    return column


def open_campaign(
    call_list: Path,
    script: str,
    name: str | None,
    org: str | None,
    agent_id: str | None,
    config: Path | None,
    overrides: Sequence[str],
    asr: str,
    model: str | None,
    cache_dir: Path | None,
    dnc: Path | None,
    hours: str | None,
    days: str | None,
    retries: int,
    retry_after_s: float,
    retry_on: str,
    db: Path | None,
    show_numbers: bool,
) -> OpenCampaign:
    """Read and check everything a campaign needs before it dials; the first row's call is
    set up once to check the script. IvrError or ValueError naming what is wrong."""
    from ivr.app.config import call_settings, placeholder_values
    from ivr.app.recognition import set_up_recognition
    from ivr.app.records import open_call_log
    from ivr.qa.phrases import load_forbidden
    from ivr.tts.prompt_cache import PromptCache

    calls = read_call_list(call_list)
    names = CampaignNames.of(name or call_list.stem, calls.rows, show_numbers)
    calling_hours = CallingHours.parse(hours, days)
    outcomes = frozenset(o.strip() for o in retry_on.split(",") if o.strip())
    policy = RetryPolicy(retries, retry_after_s, 2.0, outcomes)
    do_not_call = read_do_not_call(dnc) if dnc is not None else DoNotCall()
    settings = call_settings(config, list(overrides))
    values = placeholder_values(config, org, agent_id, None)
    with open_call_log(db, show_numbers) as log:
        logged = [attempts_from_log(log.attempts(n)) for n in names.logged_names()]
    attempts = names.from_log(a for each in logged for a in each)
    plan = CampaignPlan(calls.rows, policy, attempts, do_not_call)
    campaign = OpenCampaign(
        names.name, script, config, calls, plan, calling_hours, values, settings,
        PromptCache(cache_dir), set_up_recognition(asr, model, None), load_forbidden(),
        names, tuple(overrides), asr, model, cache_dir,
    )  # fmt: skip
    if not calls.rows:
        raise IvrError(f"{call_list}: no row to call")
    first = campaign.prepare(calls.rows[0])
    campaign.script_name = first.script.name
    _check_retry_on(outcomes, first.script)
    if campaign.recognition.notice:
        campaign.notices.append(campaign.recognition.notice)
    if hours is None and days is None:
        campaign.notices.append("no --hours: calling at any time of day")
    return campaign


def _check_retry_on(outcomes: frozenset[str], script: Script) -> None:
    """ValueError when --retry-on names an outcome no call of `script` can end with (one the
    program decides, or a label of the script's `hangup:` actions)."""
    from ivr.script.model import HangupAction
    from ivr.vocabulary import Outcome

    actions = [a for state in script.states.values() for a in state.actions]
    actions += [
        a
        for state in script.states.values()
        for handlers in state.handlers.values()
        for handler in handlers
        for a in handler.actions
    ]
    known = {str(o) for o in Outcome} | {a.outcome for a in actions if isinstance(a, HangupAction)}
    if unknown := sorted(outcomes - known):
        raise ValueError(
            f"invalid --retry-on {','.join(unknown)!r}: a call of script {script.name} ends "
            f"with one of {', '.join(sorted(known))}"
        )
