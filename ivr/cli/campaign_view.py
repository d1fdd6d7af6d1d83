"""What `ivr campaign` shows: a progress bar over the rows of this run's share while it calls
(a line per finished call above it), and a summary table of the rows at the end."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ivr.campaign.plan import PENDING, SKIPPED
from ivr.campaign.runner import shard_keys
from ivr.cli.tables import CliTable

if TYPE_CHECKING:
    from ivr.campaign.calllist import CallRow
    from ivr.campaign.plan import CampaignPlan
    from ivr.campaign.runner import Campaign, CampaignOptions


class CampaignView:
    """The progress bar: rows of this share done or skipped, out of all of them."""

    def __init__(self, console: Console, plan: CampaignPlan, options: CampaignOptions) -> None:
        self.plan = plan
        self.keys = shard_keys(plan.rows, options.shard)
        self.progress = Progress(
            TextColumn(f"campaign {options.name}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows · {task.fields[calling]} calling"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.calling = 0
        self.task = self.progress.add_task("rows", total=len(self.keys), calling=0)
        self._update()

    def _update(self) -> None:
        settled = sum(self.plan.status(key) in ("done", "skipped") for key in self.keys)
        self.progress.update(self.task, completed=settled, calling=self.calling)

    def on_call(self, row: CallRow, event: str) -> None:
        """A row's call started (`dialing`), failed to run (`failed`) or ended (its outcome)."""
        self.calling += 1 if event == "dialing" else -1
        self._update()

    def __enter__(self) -> CampaignView:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()


def summary_table(plan: CampaignPlan, run: Campaign, options: CampaignOptions) -> CliTable:
    """Rows by where they stand (final outcome, pending, skipped), and this run's calls."""
    table = CliTable(f"campaign {options.name}: {len(plan.rows)} rows")
    table.column("rows", keep=True)
    table.column("count", justify="right")
    counts = plan.counts()
    for outcome, count in counts.items():
        if outcome not in (PENDING, SKIPPED):
            table.add_row(outcome, str(count))
    table.add_row("pending (to call or retry)", str(counts[PENDING]))
    table.add_row("skipped (do-not-call)", str(counts[SKIPPED]))
    table.add_row("calls placed by this run", str(run.placed))
    if run.problems:
        table.add_row("rows that failed to run", str(len(run.problems)))
    return table
