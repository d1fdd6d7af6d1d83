"""The static HTML report of a batch of calls: one self-contained page, no scripts, no fonts or
styles from elsewhere, so it opens offline from disk or any web server.

The page has a summary (outcome counts, pass/fail against expectations, QA scores: the mean and
each item's pass rate) and a table with a row per call, then a section per call: its summary
line, what failed, its QA items, the timeline picture and the stereo recording in an audio
player. Pictures, recordings and timelines are linked by paths relative to the page. Phone
numbers are masked in every text of the page unless `show_numbers`.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ivr.atomic import write_text_atomic
from ivr.privacy import mask_number
from ivr.qa.checks import qa_title

PAGE = "index.html"
"""The report's page inside its folder."""


@dataclass(frozen=True)
class ReportCall:
    """One call as the report shows it; `error` set for a file that could not be replayed."""

    name: str
    outcome: str = ""
    expected: str | None = None
    passed: bool | None = None
    """Against its expectation: True, False, or None (no expectation, or not judged)."""
    problems: Sequence[str] = ()
    duration_s: float = 0.0
    prompts: Sequence[str] = ()
    summary: str = ""
    transcript: str = ""
    recording: Path | None = None
    picture: Path | None = None
    timeline_path: Path | None = None
    qa: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    """Why the call was not judged, or why its picture is missing."""
    error: str = ""


STYLE = """
body { font: 14px/1.45 system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC",
  "Microsoft YaHei", sans-serif; margin: 1.5em auto; max-width: 1440px;
  padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin: 0 0 .4em; }
.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .6em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f1f3f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #2b8a3e; font-weight: 600; } .fail { color: #c92a2a; font-weight: 600; }
.skip { color: #946200; } .na { color: #888; }
.cards { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: .5em 1em; min-width: 9em; }
.card b { display: block; font-size: 1.6em; }
section.call { border-top: 2px solid #dee2e6; padding-top: 1em; margin-top: 1.5em; }
section.call img { max-width: 100%; height: auto; border: 1px solid #dee2e6; }
section.call audio { width: 100%; max-width: 700px; display: block; margin: .5em 0; }
ul.qa { columns: 2; list-style: none; padding-left: 0; }
code { background: #f8f9fa; padding: 0 .2em; }
"""


def _verdict(call: ReportCall) -> str:
    """pass, FAIL, `not judged` (an expectation that needs what the replay lacked) or -."""
    if call.passed is True:
        return '<span class="pass">pass</span>'
    if call.passed is False:
        return '<span class="fail">FAIL</span>'
    return '<span class="skip">not judged</span>' if call.expected is not None else "-"


def href(target: Path, folder: Path) -> str:
    """`target` as a URL relative to the report folder."""
    relative = os.path.relpath(Path(target).resolve(), Path(folder).resolve())
    return quote(Path(relative).as_posix())


class Page:
    """Text of the page, masked unless show_numbers, escaped for HTML."""

    def __init__(self, show_numbers: bool) -> None:
        self._show = show_numbers
        self.parts: list[str] = []

    def text(self, value: Any) -> str:
        """A value as safe, masked HTML text."""
        plain = str(value)
        return html.escape(plain if self._show else mask_number(plain))

    def add(self, markup: str) -> None:
        self.parts.append(markup)


def _qa_score(call: ReportCall) -> float | None:
    score = call.qa.get("score") if call.qa else None
    return float(score) if isinstance(score, int | float) else None


def _qa_detail(item: str, qa: dict[str, Any]) -> str:
    """What an item measured, where the score keeps it: the slowest answer, the re-prompts."""
    if item == "answered_in_time" and qa.get("answer_ms") is not None:
        return f" (slowest: {qa['answer_ms']} ms)"
    if item == "reprompts_within_limit" and qa.get("reprompts") is not None:
        return f" ({qa['reprompts']})"
    return ""


def summary_cards(calls: Sequence[ReportCall]) -> list[tuple[str, int | str]]:
    """The summary's cards as (label, value): the calls; their QA (`QA passed`: every check
    that applies passed, `QA failed`: one failed; a call that never got through has neither);
    the mean QA score; only when some call has an expectation, the verdicts against it
    (`expectation met`, `expectation failed`, `not judged`: it needs recognition the replay
    lacked, `no expectation`); the files that could not be replayed."""
    done = [c for c in calls if not c.error]
    scored = [c for c in done if c.qa.get("items")]
    qa_failed = sum(1 for c in scored if False in c.qa["items"].values())
    scores = [s for c in done if (s := _qa_score(c)) is not None]
    cards: list[tuple[str, int | str]] = [
        ("calls", len(calls)),
        ("QA passed", len(scored) - qa_failed),
        ("QA failed", qa_failed),
        ("mean QA score", f"{sum(scores) / len(scores):.1f}" if scores else "-"),
    ]
    expecting = [c for c in done if c.expected is not None]
    if expecting:
        judged = [c for c in expecting if c.passed is not None]
        cards += [
            ("expectation met", sum(1 for c in judged if c.passed)),
            ("expectation failed", sum(1 for c in judged if c.passed is False)),
            ("not judged", len(expecting) - len(judged)),
        ]
        if len(expecting) < len(done):
            cards.append(("no expectation", len(done) - len(expecting)))
    cards.append(("errors", len(calls) - len(done)))
    return cards


def _summary(page: Page, calls: Sequence[ReportCall]) -> None:
    done = [c for c in calls if not c.error]
    cards = summary_cards(calls)
    page.add('<div class="cards">')
    for label, value in cards:
        page.add(f'<div class="card"><b>{page.text(value)}</b>{page.text(label)}</div>')
    page.add("</div>")

    counts = Counter(c.outcome for c in done)
    page.add('<div class="cards"><div>')
    page.add("<h2>Outcomes</h2><table><tr><th>outcome</th><th>calls</th></tr>")
    for outcome, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        page.add(f'<tr><td>{page.text(outcome)}</td><td class="num">{count}</td></tr>')
    page.add("</table></div>")

    items: dict[str, list[bool]] = {}
    for call in done:
        for item, verdict in (call.qa.get("items") or {}).items():
            if verdict is not None:
                items.setdefault(item, []).append(bool(verdict))
    if items:
        page.add("<div><h2>QA items</h2><table><tr><th>item</th><th>passed</th><th>failed</th>")
        page.add("<th>applies to</th></tr>")
        for item, verdicts in items.items():
            failed_calls = len(verdicts) - sum(verdicts)
            css = ' class="num fail"' if failed_calls else ' class="num"'
            page.add(
                f"<tr><td>{page.text(qa_title(item))} <code>{page.text(item)}</code></td>"
                f'<td class="num">{sum(verdicts)}</td><td{css}>{failed_calls}</td>'
                f'<td class="num">{len(verdicts)}</td></tr>'
            )
        page.add("</table></div>")
    page.add("</div>")


def _table(page: Page, calls: Sequence[ReportCall]) -> None:
    heads = ("#", "call", "outcome", "expected", "verdict", "duration s", "prompts", "QA")
    page.add('<h2>Calls</h2><table id="calls"><thead><tr>')
    page.add("".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>")
    for index, call in enumerate(calls, 1):
        if call.error:
            page.add(
                f'<tr class="call"><td class="num">{index}</td>'
                f'<td><a href="#call-{index}">{page.text(call.name)}</a></td>'
                f'<td colspan="6"><span class="fail">error</span> {page.text(call.error)}</td>'
                "</tr>"
            )
            continue
        score = _qa_score(call)
        page.add(
            f'<tr class="call"><td class="num">{index}</td>'
            f'<td><a href="#call-{index}">{page.text(call.name)}</a></td>'
            f"<td>{page.text(call.outcome)}</td><td>{page.text(call.expected or '-')}</td>"
            f"<td>{_verdict(call)}</td>"
            f'<td class="num">{call.duration_s:.2f}</td><td class="num">{len(call.prompts)}</td>'
            f'<td class="num">{"-" if score is None else f"{score:.0f}"}</td></tr>'
        )
    page.add("</tbody></table>")


def _section(page: Page, index: int, call: ReportCall, folder: Path) -> None:
    page.add(f'<section class="call" id="call-{index}">')
    page.add(f"<h2>{index}. {page.text(call.name)}</h2>")
    if call.error:
        page.add(f'<p><span class="fail">error</span> {page.text(call.error)}</p></section>')
        return
    page.add(f"<p>{page.text(call.summary)}</p>")
    if call.expected is not None:
        expected = page.text(call.expected)
        page.add(f"<p>expected <code>{expected}</code>: {_verdict(call)}</p>")
        if call.problems:
            page.add("<ul>" + "".join(f"<li>{page.text(p)}</li>" for p in call.problems) + "</ul>")
    if call.note:
        page.add(f'<p class="skip">{page.text(call.note)}</p>')
    if call.transcript:
        page.add(f"<p>heard: {page.text(call.transcript)}</p>")
    items = call.qa.get("items") or {}
    if items:
        score = _qa_score(call)
        page.add(f"<p>QA score <b>{'-' if score is None else f'{score:.0f}'}</b>/100</p>")
        page.add('<ul class="qa">')
        for item, verdict in items.items():
            mark = {True: "pass", False: "FAIL", None: "n/a"}[verdict]
            css = {True: "pass", False: "fail", None: "na"}[verdict]
            label = page.text(qa_title(item) + _qa_detail(item, call.qa))
            code = f" <code>{page.text(item)}</code>" if qa_title(item) != item else ""
            page.add(f'<li><span class="{css}">{mark}</span> {label}{code}</li>')
        page.add("</ul>")
    if call.picture is not None:
        alt = page.text(f"timeline of {call.name}")
        page.add(f'<img src="{href(call.picture, folder)}" alt="{alt}" loading="lazy">')
    if call.recording is not None:
        page.add(
            f'<audio controls preload="metadata" src="{href(call.recording, folder)}"></audio>'
            "<small>left: our prompts, right: the callee</small>"
        )
    if call.timeline_path is not None:
        page.add(f' · <a href="{href(call.timeline_path, folder)}">timeline (JSON lines)</a>')
    page.add("</section>")


def open_page(title: str, subtitle: str, show_numbers: bool = False) -> Page:
    """A report page begun: its head (title, style) and its heading with when it was written."""
    page = Page(show_numbers)
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    page.add(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{page.text(title)}</title><style>{STYLE}</style></head><body>"
    )
    page.add(f"<h1>{page.text(title)}</h1>")
    page.add(f'<p class="meta">{page.text(subtitle)}{" · " if subtitle else ""}written {stamp}</p>')
    return page


def close_page(page: Page, folder: Path) -> Path:
    """End `page` and write it as `folder`/index.html (atomically); its path."""
    page.add("</body></html>\n")
    target = Path(folder) / PAGE
    write_text_atomic(target, "\n".join(page.parts))
    return target


def write_report(
    folder: Path,
    calls: Sequence[ReportCall],
    title: str = "ivr calls",
    show_numbers: bool = False,
    subtitle: str = "",
) -> Path:
    """Write the report page into `folder` (atomically); its path."""
    folder = Path(folder)
    page = open_page(title, subtitle, show_numbers)
    _summary(page, calls)
    _table(page, calls)
    for index, call in enumerate(calls, 1):
        _section(page, index, call, folder)
    return close_page(page, folder)
