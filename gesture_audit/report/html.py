"""report.html: one self-contained page for the reviewer (no network; CSS and JS inline).

Counts at the top; flagged, then review (then clear, when asked for) photos as cards with the
hands drawn; click a thumbnail to enlarge; filter by verdict, ballot number and path. Thumbnails
are relative files under DIR/evidence/, so the folder DIR is what to hand over; with `inline`
(`--single-file`) they are data: URIs inside the page, so report.html alone is enough.

Each card takes a reviewer's decision (violation / not a violation, a note; keys j/k move, y/n
decide), kept in the browser's localStorage under the scan's id and the photo's sha256 and
exported as decisions.json / .csv (see `gesture_audit.report.decisions`). Every word is in the
translator's language.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from gesture_audit import __version__
from gesture_audit.i18n import Translator, translator
from gesture_audit.report.decisions import Decision
from gesture_audit.report.evidence import Evidence
from gesture_audit.report.record import ScanRecord
from gesture_audit.report.summary import moment_text, video_cells
from gesture_audit.results import Finding

TEMPLATE = Path(__file__).with_name("template.html")
EAGER_THUMBS = 60  # later cards load their thumbnails as they scroll into view


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _labels(tr: Translator) -> dict[str, str]:
    return {
        "flag": tr.gettext("Flagged"),
        "review": tr.gettext("Review"),
        "clear": tr.gettext("Clear"),
        "error": tr.gettext("Errors"),
    }


def placeholder(reason: str, tr: Translator | None = None) -> str:
    """An inline SVG (data URI) that says why a photo cannot be shown."""
    tr = tr or translator("en")
    words, lines = reason.split(), [""]
    for word in words:
        if len(lines[-1]) + len(word) > 34:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    text = "".join(f'<tspan x="240" dy="{0 if i == 0 else 22}">{_e(line)}</tspan>' for i, line in enumerate(lines[:4]))
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320" viewBox="0 0 480 320">'
        '<rect width="480" height="320" fill="#2a2f3a"/>'
        '<text x="240" y="120" fill="#cfd5e1" font-family="sans-serif" font-size="20" '
        f'text-anchor="middle">{_e(tr.gettext("photo not available"))}</text>'
        f'<text x="240" y="165" fill="#98a1b3" font-family="sans-serif" font-size="16" '
        f'text-anchor="middle">{text}</text></svg>'
    )
    return "data:image/svg+xml," + quote(svg, safe=" =:/',.")


def _url(rel: str, inline: dict[str, str]) -> str:
    return inline.get(rel) or quote(rel, safe="/")


def _ballot_text(number: int, names: dict) -> str:
    name = names.get(str(number))
    return f"{number:02d}" + (f" {name}" if name else "")


def _decide(tr: Translator) -> str:
    """The decision controls of a card (their state is painted by the page's script)."""
    return (
        f'<div class="decide" role="group" aria-label="{_e(tr.gettext("review decision"))}">'
        f'<button type="button" class="d-yes" data-decide="violation" aria-pressed="false" '
        f'title="{_e(tr.gettext("key y"))}">{_e(tr.gettext("Violation"))}</button>'
        f'<button type="button" class="d-no" data-decide="not_violation" aria-pressed="false" '
        f'title="{_e(tr.gettext("key n"))}">{_e(tr.gettext("Not a violation"))}</button>'
        f'<span class="d-state"></span>'
        f'<textarea class="d-note" rows="1" placeholder="{_e(tr.gettext("note…"))}" '
        f'aria-label="{_e(tr.gettext("note"))}"></textarea></div>'
    )


def _card(
    finding: Finding, evidence: Evidence, index: int, tr: Translator, inline: dict[str, str], decision: Decision | None
) -> str:
    verdict = finding.verdict or "clear"
    ballots = finding.ballots
    if evidence.thumb:
        thumb, full = _url(evidence.thumb, inline), _url(evidence.full or evidence.thumb, inline)
    else:
        thumb = full = placeholder(tr.text(evidence.missing) or tr.gettext("no evidence image"), tr)
    lazy = ' loading="lazy"' if index >= EAGER_THUMBS else ""
    risk = finding.risk or 0.0
    hands = len(finding.hands)
    ballot_badges = "".join(
        f'<span class="ballot" title="{_e(tr.gettext("ballot number"))}">{b:02d}</span>' for b in ballots
    )
    reasons = (
        "".join(f"<li>{_e(tr.text(r))}</li>" for r in finding.reasons)
        or f"<li>{_e(tr.ngettext('{n} hand found, no ballot sign', '{n} hands found, no ballot sign', hands).format(n=hands))}</li>"
    )
    crops = "".join(
        f'<img src="{_e(_url(c, inline))}" alt="{_e(_crop_label(c, k, tr))}" loading="lazy">'
        for k, c in enumerate(evidence.crops)
    )
    missing = f'<div class="missing">{_e(tr.text(evidence.missing))}</div>' if evidence.missing else ""
    detail = _detail(finding, tr)
    post = _post(finding.post, tr)
    caption = (finding.post or {}).get("caption")
    caption = f' data-caption="{_e(caption)}"' if caption else ""  # the search box looks at it too
    numbers = " ".join(map(str, ballots)) or "none"
    decided = f' data-decision="{_e(decision.decision)}"' if decision and decision.decision else ""
    return (
        f'<article class="card {verdict}" data-verdict="{verdict}" data-ballots="{numbers}" '
        f'data-path="{_e(finding.path)}" data-sha256="{_e(finding.sha256 or finding.path)}" '
        f'data-risk="{risk:.2f}"{caption}{decided}>'
        f'<button type="button" class="thumb" data-full="{_e(full)}" title="{_e(tr.gettext("enlarge"))}">'
        f'<img class="thumb-img" src="{_e(thumb)}" alt="{_e(finding.path)}"{lazy}></button>'
        f'<div class="body"><div class="top"><span class="badge {verdict}">{_e(_labels(tr)[verdict])}</span>'
        f'{ballot_badges}<span class="risk" title="{_e(tr.gettext("risk"))}">{_e(tr.gettext("risk"))} {risk:.2f}'
        f'<span class="meter"><i style="width:{round(risk * 100)}%"></i></span></span></div>'
        f'<div class="path">{_e(finding.path)}</div>{post}{_video(finding)}<ul class="reasons">{reasons}</ul>'
        + (f'<div class="crops">{crops}</div>' if crops else "")
        + missing
        + detail
        + _decide(tr)
        + "</div></article>"
    )


SOURCES = {"instagram": "Instagram", "facebook": "Facebook", "x": "X", "whatsapp": "WhatsApp"}


def _crop_label(crop: str, k: int, tr: Translator) -> str:
    """The alt text of evidence crop `k`: a hand, or printed campaign text (`*.attr*` crops)."""
    return (tr.gettext("campaign text {k}") if ".attr" in crop else tr.gettext("hand {k}")).format(k=k + 1)


def _post(post: dict | None, tr: Translator) -> str:
    """The social-media post a photo was part of: where, when, its caption and link."""
    if not post:
        return ""
    source = post.get("source") or ""
    head = " · ".join(_e(v) for v in (SOURCES.get(source, source), post.get("time")) if v)
    link = post.get("link")
    if link and str(link).startswith(("https://", "http://")):
        head += f' · <a href="{_e(link)}" rel="noreferrer noopener" target="_blank">{_e(tr.gettext("link"))}</a>'
    caption = f'<blockquote class="caption">{_e(post["caption"])}</blockquote>' if post.get("caption") else ""
    return f'<div class="post"><div class="post-head">{_e(tr.gettext("post:"))} {head}</div>{caption}</div>'


def _video(finding: Finding) -> str:
    """A video's line: how much was checked, the keyframe shown, and its moments with their times."""
    video = finding.video
    if not video:
        return ""
    keyframe, _ = video_cells(finding)
    parts = [
        f"▶ video, {video.get('checked', 0):.1f} s checked at {video.get('sample_rate', 0):g} frames/s"
        + (" (capped)" if video.get("capped") else "")
    ]
    if keyframe:
        parts.append(f"keyframe {keyframe}")
    parts += [
        f'<span class="moment {_e(m.get("verdict"))}">{_e(moment_text(m))}</span>'
        for m in video.get("moments") or []
        if m.get("verdict") != "clear"
    ]
    return f'<div class="video">{" · ".join(parts[:2])} {"".join(parts[2:])}</div>'


def _detail(finding: Finding, tr: Translator) -> str:
    """Every hand found (shown in the enlarged view), with the photo's size and hash."""

    def dash(value, fmt="{}"):
        return "–" if value is None else fmt.format(value)

    _ = tr.gettext
    rows = "".join(
        f"<tr><td>{k}</td><td>{_e(h.handedness)}</td><td>{_e(h.fingers)}</td>"
        f"<td>{_e(dash(h.gesture))}</td><td>{dash(h.ballot, '{:02d}')}</td>"
        f"<td>{dash(None if h.person is None else h.person + 1)}</td>"
        f"<td>{h.confidence:.2f}</td></tr>"
        for k, h in enumerate(finding.hands, 1)
    )
    head = "".join(
        f"<th>{_e(c)}</th>"
        for c in (_("hand"), _("side"), _("fingers"), _("sign"), _("ballot"), _("person"), _("confidence"))
    )
    table = f"<table><tr>{head}</tr>{rows}</table>" if rows else ""
    faces = "".join(
        f"<tr><td>{k}</td><td>{_e(dash(f.candidate))}</td><td>{dash(f.ballot, '{:02d}')}</td>"
        f"<td>{dash(f.distance, '{:.2f}')}</td></tr>"
        for k, f in enumerate(finding.faces or [], 1)
    )
    if faces:
        head = "".join(f"<th>{_e(c)}</th>" for c in (_("face"), _("candidate"), _("ballot"), _("distance")))
        table += f"<table><tr>{head}</tr>{faces}</table>"
    return (
        f'<div class="detail">{table}<div class="path">{finding.width}×{finding.height} px · sha256 '
        f"{_e(finding.sha256)}</div></div>"
    )


def _tiles(counts: Counter, include_clear: bool, tr: Translator) -> str:
    total = sum(counts.values())
    labels = _labels(tr)
    tiles = [
        f'<div class="tile static"><span class="n">{total}</span>'
        f'<span class="l">{_e(tr.ngettext("file", "files", total))}</span></div>'
    ]
    for key in ("flag", "review", "clear"):
        if key == "clear" and not include_clear:
            tiles.append(
                f'<div class="tile clear static" title="'
                f"{_e(tr.gettext('clear photos are not listed (scan with --include-clear to list them)'))}"
                f'"><span class="n">{counts[key]}</span>'
                f'<span class="l">{_e(tr.gettext("clear (not listed)"))}</span></div>'
            )
            continue
        tiles.append(
            f'<button type="button" class="tile {key}" data-filter-verdict="{key}" aria-pressed="true" '
            f'title="{_e(tr.gettext("show or hide these photos"))}"><span class="n">{counts[key]}</span>'
            f'<span class="l">{_e(labels[key])}</span></button>'
        )
    tiles.append(
        f'<div class="tile error static"><span class="n">{counts["error"]}</span>'
        f'<span class="l">{_e(tr.gettext("could not be checked"))}</span></div>'
    )
    if counts["skipped"]:
        tiles.append(
            f'<div class="tile skipped static" title="'
            f"{_e(tr.gettext('files that are not photos (notes, exports, videos); findings.jsonl lists them'))}"
            f'"><span class="n">{counts["skipped"]}</span>'
            f'<span class="l">{_e(tr.gettext("skipped (not a photo)"))}</span></div>'
        )
    return "".join(tiles)


def _filters(listed: list[Finding], names: dict, tr: Translator) -> str:
    per_ballot = Counter(b for f in listed for b in f.ballots)
    none = sum(1 for f in listed if not f.ballots)
    chips = [
        f'<button type="button" class="chip" data-filter-ballot="all" aria-pressed="true">'
        f'{_e(tr.gettext("all"))}<span class="c">{len(listed)}</span></button>'
    ]
    chips += [
        f'<button type="button" class="chip" data-filter-ballot="{b}" aria-pressed="false">'
        f'{_e(_ballot_text(b, names))}<span class="c">{n}</span></button>'
        for b, n in sorted(per_ballot.items())
    ]
    if none:
        chips.append(
            f'<button type="button" class="chip" data-filter-ballot="none" aria-pressed="false">'
            f'{_e(tr.gettext("no number"))}<span class="c">{none}</span></button>'
        )
    search = _e(tr.gettext("filter by path or caption…"))
    review = ""
    if listed:
        review = (
            f'<div class="group review-tools"><input type="text" id="reviewer" placeholder="'
            f'{_e(tr.gettext("reviewer name"))}" aria-label="{_e(tr.gettext("reviewer name"))}">'
            f'<button type="button" class="chip" id="undecided-first" aria-pressed="false">'
            f"{_e(tr.gettext('undecided first'))}</button>"
            f'<button type="button" class="chip" id="export-json">decisions.json</button>'
            f'<button type="button" class="chip" id="export-csv">decisions.csv</button>'
            f'<span id="decided"></span><span class="label">'
            f"{_e(tr.gettext('keys: j / k move, y / n decide'))}</span></div>"
        )
    return (
        f'<div class="group"><span class="label">{_e(tr.gettext("ballot"))}</span>{"".join(chips)}</div>'
        f'<div class="group"><input type="search" id="search" placeholder="{search}" '
        f'aria-label="{search}"></div>' + review
    )


def _errors(errors: list[Finding], tr: Translator) -> str:
    if not errors:
        return ""
    rows = "".join(f'<tr><td class="p">{_e(f.path)}</td><td>{_e(tr.text(f.error))}</td></tr>' for f in errors)
    n = len(errors)
    summary = tr.ngettext("{n} file could not be checked", "{n} files could not be checked", n).format(n=n)
    return (
        f'<details class="errors"{" open" if n <= 20 else ""}><summary>{_e(summary)}</summary>'
        f"<table><tr><th>{_e(tr.gettext('path'))}</th><th>{_e(tr.gettext('why'))}</th></tr>{rows}"
        "</table></details>"
    )


def _script_json(data) -> str:
    """JSON safe inside a <script> element (no "</" can end it early)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def _review_data(record: ScanRecord | None, decisions: dict[str, Decision], tr: Translator) -> str:
    _ = tr.gettext
    strings = {
        "shown_one": tr.ngettext("{shown} of {n} photo shown", "{shown} of {n} photos shown", 1),
        "shown_other": tr.ngettext("{shown} of {n} photo shown", "{shown} of {n} photos shown", 2),
        "decided": _("{decided} of {n} decided"),
        "violation": _("Violation"),
        "not_violation": _("Not a violation"),
        "by": _("by {reviewer}"),
        "path": _("path"),
        "decision": _("decision"),
        "reviewer": _("reviewer"),
        "note": _("note"),
        "time": _("time"),
    }
    return _script_json(
        {
            "scan": record.scan_id if record else "",
            "strings": strings,
            "decisions": {k: asdict(d) for k, d in decisions.items()},
        }
    )


def render_html(
    listed: list[Finding],
    evidence: dict[str, Evidence],
    errors: list[Finding],
    counts: Counter,
    record: ScanRecord | None,
    *,
    include_clear: bool,
    tr: Translator | None = None,
    inline: dict[str, str] | None = None,
    decisions: dict[str, Decision] | None = None,
) -> str:
    """The page for `listed` (already in display order) and the `errors`, with totals `counts`, in
    `tr`'s language; `inline` maps evidence files to data: URIs to embed; `decisions` by sha256."""
    tr = tr or translator("en")
    inline = inline or {}
    decisions = decisions or {}
    _ = tr.gettext
    election = (record.election if record else {}) or {}
    names = election.get("ballots") or {}
    roots = ", ".join(r.path for r in record.roots) if record else _("unknown folders")
    when = (record.finished or record.started) if record else None
    subtitle = [_e(_("Folders: {roots}")).format(roots=f"<b>{_e(roots)}</b>")]
    if election.get("name"):
        subtitle.append(_e(_("Election: {name}")).format(name=f"<b>{_e(election['name'])}</b>"))
    if when:
        subtitle.append(_e(_("Scanned: {when}").format(when=when)))
    if record and not record.finished:
        subtitle.append(f"<b>{_e(_('scan not finished'))}</b>")
    flagged = counts["flag"]
    if flagged or counts["review"]:
        heading = tr.ngettext(
            "{n} photo flagged, {review} for review", "{n} photos flagged, {review} for review", flagged
        ).format(n=flagged, review=counts["review"])
    else:
        heading = _("No ballot signs found")
    if listed:
        cards = "".join(
            _card(f, evidence[f.path or ""], i, tr, inline, decisions.get(f.sha256 or "")) for i, f in enumerate(listed)
        )
    else:
        cards = (
            '<div class="empty">'
            + _e(_("Nothing to review: no photo was flagged or sent to review."))
            + ("" if include_clear else " " + _e(_("Clear photos are not listed.")))
            + "</div>"
        )
    note = ""
    if listed and not include_clear and counts["clear"]:
        n = counts["clear"]
        note = (
            '<p class="note">'
            + _e(
                tr.ngettext(
                    "{n} clear photo is not listed here (scan or report with --include-clear to list it); "
                    "findings.jsonl has every file.",
                    "{n} clear photos are not listed here (scan or report with --include-clear to list them); "
                    "findings.jsonl has every file.",
                    n,
                ).format(n=n)
            )
            + "</p>"
        )
    generated = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    footer = _e(
        _(
            "gesture-audit {version} · generated {when} · every file is in findings.jsonl, the listed ones "
            "in summary.csv · verdicts are leads for a human reviewer, not proof"
        ).format(version=__version__, when=generated)
    )
    values = {
        "LANG": tr.lang,
        "TITLE": _e(f"gesture-audit: {heading}"),
        "HEADING": _e(heading),
        "SUBTITLE": " · ".join(subtitle),
        "TILES": _tiles(counts, include_clear, tr),
        "FILTERS": _filters(listed, names, tr),
        "NOTE": note,
        "CARDS": cards,
        "ERRORS": _errors(errors, tr),
        "FOOTER": footer,
        "HINT": _e(_("← → previous / next · Esc closes")),
        "CLOSE": _e(_("close")),
        "ENLARGED": _e(_("enlarged photo")),
        "COUNTS": _e(_("counts")),
        "FILTERSLABEL": _e(_("filters")),
        "REVIEW": _review_data(record, decisions, tr),
    }
    # One pass, so that text inside a value (a file named "@@CARDS@@") is never substituted again.
    return re.sub(r"@@([A-Z]+)@@", lambda m: values[m.group(1)], TEMPLATE.read_text(encoding="utf-8"))
