"""The HTML report of an audit batch (`ivr audit --report DIR`): one self-contained page, no
scripts, opening offline from disk like the calls' report (ivr.report.html).

The page has a summary (recordings scored, passed, failed, unreadable; per item of the
standard how many calls failed it, with its seed line), a table with a row per recording and
a cell per item (pass, FAIL with its first moments, n/a), then a section per recording: its
scorecard line, its picture (ivr.report.audit_picture: both sides' turns, the agent's level,
each failed moment marked with its item's number), the recording in an audio player, and every
item with its verdict, moments (s into the call), reason and seed line. Phone numbers are
masked in every text of the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.audit import ITEMS, ItemResult, Scorecard, Verdict
from ivr.report.html import Page, close_page, href, open_page

_PASS, _FAIL = '<span class="pass">pass</span>', '<span class="fail">FAIL</span>'

MOMENTS_SHOWN = 3
"""Failed moments written in a table cell (the call's section lists them all)."""


@dataclass(frozen=True)
class AuditedCall:
    """One recording as the report shows it: its scorecard, or the error that stopped it."""

    name: str
    scorecard: Scorecard | None
    error: str = ""
    picture: Path | None = None
    recording: Path | None = None
    """The stereo recording to play (None for a pair of mono files)."""


def _moments(result: ItemResult, limit: int | None = None) -> str:
    shown = result.moments if limit is None else result.moments[:limit]
    text = ", ".join(f"{m:.1f}" for m in shown)
    more = len(result.moments) - len(shown)
    return (f"{text} s" if text else "") + (f" +{more}" if more > 0 else "")


def _cell(page: Page, result: ItemResult) -> str:
    if result.verdict is Verdict.FAIL:
        moments = page.text(_moments(result, MOMENTS_SHOWN))
        return f'<td><span class="fail">FAIL</span> {moments}</td>'
    if result.verdict is Verdict.PASS:
        return '<td><span class="pass">pass</span></td>'
    return f'<td class="na" title="{page.text(result.detail)}">n/a</td>'


def _summary(page: Page, calls: Sequence[AuditedCall]) -> None:
    cards = [c.scorecard for c in calls if c.scorecard is not None]
    failed = sum(1 for c in cards if c.failed)
    page.add('<div class="cards">')
    for label, value in (
        ("recordings", len(calls)),
        ("passed", len(cards) - failed),
        ("failed", failed),
        ("unreadable", len(calls) - len(cards)),
    ):
        page.add(f'<div class="card"><b>{value}</b>{page.text(label)}</div>')
    page.add("</div>")
    page.add("<h2>Items</h2><table><tr><th>#</th><th>item</th><th>failed</th><th>passed</th>")
    page.add("<th>n/a</th><th>standard</th></tr>")
    for item in ITEMS:
        verdicts = [c.result(item.key).verdict for c in cards]
        count = {v: verdicts.count(v) for v in Verdict}
        css = ' class="num fail"' if count[Verdict.FAIL] else ' class="num"'
        page.add(
            f'<tr><td class="num">{item.number}</td><td>{page.text(item.title)}</td>'
            f'<td{css}>{count[Verdict.FAIL]}</td><td class="num">{count[Verdict.PASS]}</td>'
            f'<td class="num">{count[Verdict.NA]}</td><td>{page.text(item.seed)}</td></tr>'
        )
    page.add("</table>")


def _table(page: Page, calls: Sequence[AuditedCall]) -> None:
    page.add('<h2>Recordings</h2><table id="calls"><thead><tr><th>#</th><th>recording</th>')
    page.add("<th>verdict</th><th>s</th>")
    page.add("".join(f'<th title="{page.text(i.title)}">{i.number}</th>' for i in ITEMS))
    page.add("</tr></thead><tbody>")
    for index, call in enumerate(calls, 1):
        link = f'<td><a href="#call-{index}">{page.text(call.name)}</a></td>'
        card = call.scorecard
        if card is None:
            span = len(ITEMS) + 2
            page.add(
                f'<tr class="call"><td class="num">{index}</td>{link}<td colspan="{span}">'
                f'<span class="fail">error</span> {page.text(call.error)}</td></tr>'
            )
            continue
        verdict = _FAIL if card.failed else _PASS
        page.add(
            f'<tr class="call"><td class="num">{index}</td>{link}<td>{verdict}</td>'
            f'<td class="num">{card.duration_s:.1f}</td>'
            + "".join(_cell(page, r) for r in card.results)
            + "</tr>"
        )
    page.add("</tbody></table>")


def _section(page: Page, index: int, call: AuditedCall, folder: Path) -> None:
    page.add(f'<section class="call" id="call-{index}">')
    page.add(f"<h2>{index}. {page.text(call.name)}</h2>")
    card = call.scorecard
    if card is None:
        page.add(f'<p><span class="fail">error</span> {page.text(call.error)}</p></section>')
        return
    page.add(f"<p>{page.text(card.line())}</p>")
    if call.picture is not None:
        alt = page.text(f"turns and failed moments of {call.name}")
        page.add(f'<img src="{href(call.picture, folder)}" alt="{alt}" loading="lazy">')
    if call.recording is not None:
        page.add(
            f'<audio controls preload="metadata" src="{href(call.recording, folder)}"></audio>'
        )
    page.add('<ul class="items">')
    for result in card.results:
        mark, css = {
            Verdict.PASS: ("pass", "pass"),
            Verdict.FAIL: ("FAIL", "fail"),
            Verdict.NA: ("n/a", "na"),
        }[result.verdict]
        item = result.item
        at = f" at {_moments(result)}" if result.moments else ""
        detail = f": {result.detail}" if result.detail else ""
        page.add(
            f'<li><span class="{css}">{mark}</span> {item.number} {page.text(item.title)}'
            f"{page.text(at)}{page.text(detail)} <small>({page.text(item.seed)})</small></li>"
        )
    page.add("</ul></section>")


def write_audit_report(
    folder: Path, calls: Sequence[AuditedCall], title: str = "ivr audit", subtitle: str = ""
) -> Path:
    """Write the audit report page into `folder` (atomically); its path."""
    folder = Path(folder)
    page = open_page(title, subtitle)
    _summary(page, calls)
    _table(page, calls)
    for index, call in enumerate(calls, 1):
        _section(page, index, call, folder)
    return close_page(page, folder)
