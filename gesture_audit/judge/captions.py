"""Captions: a post's text that names a pair of the election or its ballot number.

    named = read_caption("Coblos nomor 2! #02 bersama Pak Prabowo", election)
    # {2: ['"nomor 2"', '"#02"', '"Prabowo"']}
    verdict, risk, reasons = judge_caption(verdict, risk, reasons, hand_ballots, named, thresholds)

A caption is a lead, never proof: on its own it sends the photo to review (never to flag); with a
hand showing the same ballot it raises the risk as a second witness would. Read as naming a
ballot: the number written "01", "#2" or "#02", after a word that introduces one ("nomor", "no.",
"nomor urut", "paslon", "coblos", "pilih", "angka", "pasangan"), and the names of the pair's
candidates from the election file (the full name, or one of its words of five letters or more,
so "Anies" and "Prabowo" count but not "Amin", a common word).
"""

from __future__ import annotations

import re

from gesture_audit.i18n import N_
from gesture_audit.judge.election import Election, Thresholds
from gesture_audit.judge.verdict import CORROBORATION
from gesture_audit.results import Finding, worse

_INTRO = r"(?:nomor urut|nomer urut|no\. ?urut|nomor|nomer|no\.?|paslon|coblos|pilih|angka|pasangan)"
NAME_WORD = 5  # a single word of a candidate's name counts from this length


def _patterns(number: int) -> list[re.Pattern]:
    """A bare "01" only below 10 (a bare "12" is mostly a date or a count); "#12", "nomor 12" always."""
    bare = [re.compile(rf"(?<![\w/.:#-])0{number}(?![\w/.:-])")] if number < 10 else []
    return bare + [re.compile(rf"#0?{number}(?!\d)"), re.compile(rf"\b{_INTRO}\s*0?{number}(?!\d)", re.I)]


def name_words(names: tuple[str, ...]) -> list[str]:
    """The words of a pair's names that count alone (NAME_WORD letters or more), each once, in order."""
    return list(dict.fromkeys(w for name in names for w in re.findall(r"[\w'’]+", name) if len(w) >= NAME_WORD))


def _names(names: tuple[str, ...]) -> list[re.Pattern]:
    return [re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", re.I) for text in (*names, *sorted(name_words(names)))]


def read_caption(caption: str | None, election: Election) -> dict[int, list[str]]:
    """The ballots a caption names, each with the words that named it (quoted, as found)."""
    named: dict[int, list[str]] = {}
    if not caption:
        return named
    for number, pair in sorted(election.pairs.items()):
        found = []
        for pattern in _patterns(number) + _names(pair.names):
            m = pattern.search(caption)
            if m and f'"{m.group(0)}"' not in found:
                found.append(f'"{m.group(0)}"')
        if found:
            named[number] = found
    return named


def judge_caption(
    verdict: str,
    risk: float,
    reasons: list[str],
    hand_ballots: list[int],
    named: dict[int, list[str]],
    election: Election,
) -> tuple[str, float, list[str]]:
    """The photo's verdict, risk and reasons once its caption is read (`named`, from read_caption).

    Nothing changes when the caption names no ballot. Otherwise the verdict is at least review
    (never raised to flag by a caption), the risk at least that of a review-only sign, and higher
    when a hand shows a ballot the caption names; one reason per ballot named comes last.
    """
    if not named:
        return verdict, risk, reasons
    t: Thresholds = election.thresholds
    alone = (t.review + t.flag) / 2  # as for support signs: review, never flag
    reasons = list(reasons)
    for number, words in named.items():
        pair = election.pairs[number]
        if number in hand_ballots:
            risk = risk + (1 - risk) * CORROBORATION * alone
            reasons.append(
                N_(
                    "the post's caption names ballot {pair} ({words}), as a hand shows",
                    pair=pair.label,
                    words=", ".join(words),
                )
            )
        else:
            risk = max(risk, alone)
            reasons.append(
                N_("the post's caption names ballot {pair} ({words}): review", pair=pair.label, words=", ".join(words))
            )
    return worse(verdict, "review"), min(1.0, risk), reasons


def with_post(finding: Finding, post: dict | None, election: Election) -> Finding:
    """`finding` with the post its photo was part of; a caption naming a ballot of `election`
    raises the verdict to review at least, and the risk."""
    finding.post = post
    if post and finding.ok and finding.verdict is not None:
        named = read_caption(post.get("caption"), election)
        verdict, risk, finding.reasons = judge_caption(
            finding.verdict, finding.risk or 0.0, finding.reasons, finding.ballots, named, election
        )
        finding.verdict = verdict  # type: ignore[assignment]
        finding.risk = round(float(risk), 4)
    return finding
