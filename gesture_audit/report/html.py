"""report.html: one self-contained page for the reviewer (no network; CSS and JS inline).

Counts at the top; flagged, then review (then clear, when asked for) photos as cards with the
hands drawn; click a thumbnail to enlarge; filter by verdict, ballot number and path. Thumbnails
are relative files under DIR/evidence/, so the folder DIR is what to hand over.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from gesture_audit import __version__
from gesture_audit.audit import Finding
from gesture_audit.report.evidence import Evidence
from gesture_audit.report.record import ScanRecord
from gesture_audit.report.summary import moment_text, video_cells

TEMPLATE = Path(__file__).with_name("template.html")
EAGER_THUMBS = 60  # later cards load their thumbnails as they scroll into view
LABELS = {"flag": "Flagged", "review": "Review", "clear": "Clear", "error": "Errors"}


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def placeholder(reason: str) -> str:
    """An inline SVG (data URI) that says why a photo cannot be shown."""
    words, lines = reason.split(), [""]
    for word in words:
        if len(lines[-1]) + len(word) > 34:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    text = "".join(f'<tspan x="240" dy="{0 if i == 0 else 22}">{_e(line)}</tspan>'
                   for i, line in enumerate(lines[:4]))
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320" viewBox="0 0 480 320">'
           '<rect width="480" height="320" fill="#2a2f3a"/>'
           '<text x="240" y="120" fill="#cfd5e1" font-family="sans-serif" font-size="20" '
           'text-anchor="middle">photo not available</text>'
           f'<text x="240" y="165" fill="#98a1b3" font-family="sans-serif" font-size="16" '
           f'text-anchor="middle">{text}</text></svg>')
    return "data:image/svg+xml," + quote(svg, safe=" =:/',.")


def _url(rel: str) -> str:
    return quote(rel, safe="/")


def _ballot_text(number: int, names: dict) -> str:
    name = names.get(str(number))
    return f"{number:02d}" + (f" {name}" if name else "")


def _card(finding: Finding, evidence: Evidence, index: int) -> str:
    verdict = finding.verdict or "clear"
    ballots = finding.ballots
    if evidence.thumb:
        thumb, full = _url(evidence.thumb), _url(evidence.full)
    else:
        thumb = full = placeholder(evidence.missing or "no evidence image")
    lazy = ' loading="lazy"' if index >= EAGER_THUMBS else ""
    risk = finding.risk or 0.0
    hands = len(finding.hands)
    ballot_badges = "".join(f'<span class="ballot" title="ballot number">{b:02d}</span>' for b in ballots)
    reasons = "".join(f"<li>{_e(r)}</li>" for r in finding.reasons) or \
        f"<li>{hands} hand{'s' if hands != 1 else ''} found, no ballot sign</li>"
    crops = "".join(f'<img src="{_url(c)}" alt="hand {k + 1}" loading="lazy">'
                    for k, c in enumerate(evidence.crops))
    missing = f'<div class="missing">{_e(evidence.missing)}</div>' if evidence.missing else ""
    detail = _detail(finding)
    post = _post(finding.post)
    caption = (finding.post or {}).get("caption")
    caption = f' data-caption="{_e(caption)}"' if caption else ""  # the search box looks at it too
    numbers = " ".join(map(str, ballots)) or "none"
    return (
        f'<article class="card {verdict}" data-verdict="{verdict}" data-ballots="{numbers}" '
        f'data-path="{_e(finding.path)}" data-risk="{risk:.2f}"{caption}>'
        f'<button type="button" class="thumb" data-full="{_e(full)}" title="enlarge">'
        f'<img class="thumb-img" src="{_e(thumb)}" alt="{_e(finding.path)}"{lazy}></button>'
        f'<div class="body"><div class="top"><span class="badge {verdict}">{LABELS[verdict]}</span>'
        f'{ballot_badges}<span class="risk" title="risk">risk {risk:.2f}'
        f'<span class="meter"><i style="width:{round(risk * 100)}%"></i></span></span></div>'
        f'<div class="path">{_e(finding.path)}</div>{post}{_video(finding)}<ul class="reasons">{reasons}</ul>'
        + (f'<div class="crops">{crops}</div>' if crops else "") + missing + detail + "</div></article>")


SOURCES = {"instagram": "Instagram", "facebook": "Facebook", "x": "X", "whatsapp": "WhatsApp"}


def _post(post: dict | None) -> str:
    """The social-media post a photo was part of: where, when, its caption and link."""
    if not post:
        return ""
    head = " · ".join(_e(v) for v in (SOURCES.get(post.get("source"), post.get("source")), post.get("time")) if v)
    link = post.get("link")
    if link and str(link).startswith(("https://", "http://")):
        head += f' · <a href="{_e(link)}" rel="noreferrer noopener" target="_blank">link</a>'
    caption = f'<blockquote class="caption">{_e(post["caption"])}</blockquote>' if post.get("caption") else ""
    return f'<div class="post"><div class="post-head">post: {head}</div>{caption}</div>'


def _video(finding: Finding) -> str:
    """A video's line: how much was checked, the keyframe shown, and its moments with their times."""
    video = finding.video
    if not video:
        return ""
    keyframe, _ = video_cells(finding)
    parts = [f"▶ video, {video.get('checked', 0):.1f} s checked at {video.get('sample_rate', 0):g} frames/s"
             + (" (capped)" if video.get("capped") else "")]
    if keyframe:
        parts.append(f"keyframe {keyframe}")
    parts += [f'<span class="moment {_e(m.get("verdict"))}">{_e(moment_text(m))}</span>'
              for m in video.get("moments") or [] if m.get("verdict") != "clear"]
    return f'<div class="video">{" · ".join(parts[:2])} {"".join(parts[2:])}</div>'


def _detail(finding: Finding) -> str:
    """Every hand found (shown in the enlarged view), with the photo's size and hash."""
    def dash(value, fmt="{}"):
        return "–" if value is None else fmt.format(value)

    rows = "".join(
        f"<tr><td>{k}</td><td>{_e(h.get('handedness'))}</td><td>{_e(h.get('fingers'))}</td>"
        f"<td>{_e(dash(h.get('gesture')))}</td><td>{dash(h.get('ballot'), '{:02d}')}</td>"
        f"<td>{dash(None if h.get('person') is None else h['person'] + 1)}</td>"
        f"<td>{h.get('confidence', 0):.2f}</td></tr>"
        for k, h in enumerate(finding.hands, 1))
    table = ("<table><tr><th>hand</th><th>side</th><th>fingers</th><th>sign</th><th>ballot</th><th>person</th>"
             f"<th>confidence</th></tr>{rows}</table>") if rows else ""
    faces = "".join(
        f"<tr><td>{k}</td><td>{_e(dash(f.get('candidate')))}</td><td>{dash(f.get('ballot'), '{:02d}')}</td>"
        f"<td>{dash(f.get('distance'), '{:.2f}')}</td></tr>"
        for k, f in enumerate(finding.faces or [], 1))
    if faces:
        table += ("<table><tr><th>face</th><th>candidate</th><th>ballot</th><th>distance</th></tr>"
                  f"{faces}</table>")
    return (f'<div class="detail">{table}<div class="path">{finding.width}×{finding.height} px · sha256 '
            f'{_e(finding.sha256)}</div></div>')


def _tiles(counts: Counter, include_clear: bool) -> str:
    total = sum(counts.values())
    tiles = [f'<div class="tile static"><span class="n">{total}</span><span class="l">files</span></div>']
    for key in ("flag", "review", "clear"):
        if key == "clear" and not include_clear:
            tiles.append(f'<div class="tile clear static" title="clear photos are not listed (scan with '
                         f'--include-clear to list them)"><span class="n">{counts[key]}</span>'
                         f'<span class="l">clear (not listed)</span></div>')
            continue
        tiles.append(f'<button type="button" class="tile {key}" data-filter-verdict="{key}" aria-pressed="true" '
                     f'title="show or hide {LABELS[key].lower()} photos"><span class="n">{counts[key]}</span>'
                     f'<span class="l">{LABELS[key]}</span></button>')
    tiles.append(f'<div class="tile error static"><span class="n">{counts["error"]}</span>'
                 f'<span class="l">could not be checked</span></div>')
    if counts["skipped"]:
        tiles.append(f'<div class="tile skipped static" title="files that are not photos (notes, exports, '
                     f'videos); findings.jsonl lists them"><span class="n">{counts["skipped"]}</span>'
                     f'<span class="l">skipped (not a photo)</span></div>')
    return "".join(tiles)


def _filters(listed: list[Finding], names: dict) -> str:
    per_ballot = Counter(b for f in listed for b in f.ballots)
    none = sum(1 for f in listed if not f.ballots)
    chips = [f'<button type="button" class="chip" data-filter-ballot="all" aria-pressed="true">all'
             f'<span class="c">{len(listed)}</span></button>']
    chips += [f'<button type="button" class="chip" data-filter-ballot="{b}" aria-pressed="false">'
              f'{_e(_ballot_text(b, names))}<span class="c">{n}</span></button>'
              for b, n in sorted(per_ballot.items())]
    if none:
        chips.append(f'<button type="button" class="chip" data-filter-ballot="none" aria-pressed="false">'
                     f'no number<span class="c">{none}</span></button>')
    return (f'<div class="group"><span class="label">ballot</span>{"".join(chips)}</div>'
            '<div class="group"><input type="search" id="search" placeholder="filter by path or caption…" '
            'aria-label="filter by path or caption"></div>')


def _errors(errors: list[Finding]) -> str:
    if not errors:
        return ""
    rows = "".join(f'<tr><td class="p">{_e(f.path)}</td><td>{_e(f.error)}</td></tr>' for f in errors)
    return (f'<details class="errors"{" open" if len(errors) <= 20 else ""}><summary>{len(errors)} '
            f'file{"s" if len(errors) != 1 else ""} could not be checked</summary>'
            f'<table><tr><th>file</th><th>why</th></tr>{rows}</table></details>')


def render_html(listed: list[Finding], evidence: dict[str, Evidence], errors: list[Finding],
                counts: Counter, record: ScanRecord | None, *, include_clear: bool) -> str:
    """The page for `listed` (already in display order) and the `errors`, with totals `counts`."""
    election = (record.election if record else {}) or {}
    names = election.get("ballots") or {}
    roots = ", ".join(r.path for r in record.roots) if record else "unknown folders"
    when = (record.finished or record.started) if record else None
    subtitle = [f"Folders: <b>{_e(roots)}</b>"]
    if election.get("name"):
        subtitle.append(f"Election: <b>{_e(election['name'])}</b>")
    if when:
        subtitle.append(f"Scanned: {_e(when)}")
    if record and not record.finished:
        subtitle.append("<b>scan not finished</b>")
    flagged = counts["flag"]
    heading = (f"{flagged} photo{'s' if flagged != 1 else ''} flagged, {counts['review']} for review"
               if flagged or counts["review"] else "No ballot signs found")
    if listed:
        cards = "".join(_card(f, evidence[f.path], i) for i, f in enumerate(listed))
    else:
        cards = ('<div class="empty">Nothing to review: no photo was flagged or sent to review.'
                 + ("" if include_clear else " Clear photos are not listed.") + "</div>")
    note = ""
    if listed and not include_clear and counts["clear"]:
        note = (f'<p class="note">{counts["clear"]} clear photo{"s are" if counts["clear"] != 1 else " is"} '
                "not listed here (scan or report with --include-clear to list them); "
                "findings.jsonl has every file.</p>")
    generated = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    footer = (f"gesture-audit {__version__} · generated {_e(generated)} · every file is in findings.jsonl, "
              "the listed ones in summary.csv · verdicts are leads for a human reviewer, not proof")
    values = {"TITLE": _e(f"gesture-audit: {heading}"), "HEADING": _e(heading),
              "SUBTITLE": " · ".join(subtitle), "TILES": _tiles(counts, include_clear),
              "FILTERS": _filters(listed, names), "NOTE": note, "CARDS": cards,
              "ERRORS": _errors(errors), "FOOTER": footer}
    # One pass, so that text inside a value (a file named "@@CARDS@@") is never substituted again.
    return re.sub(r"@@([A-Z]+)@@", lambda m: values[m.group(1)], TEMPLATE.read_text(encoding="utf-8"))
