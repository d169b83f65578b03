"""Campaign attributes in the photo: printed ballot numbers, names, nicknames and slogans, party
symbols, and candidates' pictures.

`read_attributes(lines, election)` turns text lines (from `detect.text`) into `Attribute`s: a line
is an attribute when, read without spaces and case (the recogniser often drops spaces), it is

    a ballot number as campaigns print it: "01", "02" (two digits), "No. 2", "Nomor 2",
        "Nomor Urut 02", "Coblos 3", "Coblos No. 3", "Paslon 2" (a bare "2" is not: too common);
        after a word, a digit may be read as its look-alike letter ("Nomor Urut Z"), and a word
        of 6 letters or more may miss or misread one ("omor Urut 02": the detector cut the first
        letter; "COHLOS 3")
    or contains a pair's name, nickname or slogan from the election file (`[[pairs]]` names,
        nicknames, slogans; at least 4 letters; a word of a name of 5 letters or more, as
        captions count them: "AUARPRANOWO" has "Pranowo"; terms of 10 letters or more may miss a
        letter or two, or a word at either end when 16 of their letters are read in runs of 4 or more;
        look-alike letters and digits compared as one: "AMINO1" is "AMIN 01")

and was read at least `[attributes] min_confidence` surely, or holds a term of 10 letters or more
(a slogan or a full name: a misread line does not spell that many of its letters by chance) however
surely the reader kept it (its floor: 0.5). Only numbers of the election's pairs count.
`symbol_attributes(matches, election)` turns party symbols found in the photo (from
`identify.symbols`) into attributes of kind "symbol". `judge_attributes(verdict, attributes,
election, candidate_ballots)` then weighs them all: an attribute
alone is `[attributes] alone` (review); with a hand sign or a candidate of the same ballot in the
photo, `with_match` (flag).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

import numpy as np

from gesture_audit.i18n import N_, Message
from gesture_audit.judge.captions import name_words
from gesture_audit.judge.election import Election
from gesture_audit.judge.verdict import Verdict
from gesture_audit.results import worse

if TYPE_CHECKING:
    from gesture_audit.detect.text import TextLine
    from gesture_audit.identify.symbols import SymbolMatch

_NUMBER = re.compile(r"^([A-Z]*?)(0?[1-9][0-9]?)$")  # (the words before it, the number)
# "URUT": "Nomor Urut 03" with its first word cut off by the detector (seed 104)
NUMBER_WORDS = ("NOMORURUT", "NOMOR", "URUT", "NO", "COBLOS", "COBLOSNO", "COBLOSNOMOR", "PASLON", "PASLONNO")
# Letters the recogniser reads for the digits they look like (and back; seen on the composites:
# "AMINO1", "Nomor Urutz"): compared as those digits in terms, and after a number's words.
LOOKALIKE = str.maketrans("OIZS", "0125")
MIN_NAME = 4
# Slogans and long names (this many letters or more) match when this share of their letters is
# found in order (the recogniser drops or swaps a letter on a fold: "BERSAMAINDONESIAMALI").
LONG_TERM = 10
LONG_TERM_SHARE = 0.85
# ... or when LONG_PART of their letters are found in runs of RUN letters or more: a slogan whose
# first or last word the detector cut off ("taneasaAdilMakmuruntukSemua", "GerakCepatMenuiuIndonesia"
# on the composites of seeds 103, 104), but not a common word of it ("INDONESIA" is 9).
LONG_PART = 16
RUN = 4


@dataclass
class Attribute:
    """Campaign material seen in the photo: kind ("text", "symbol", "picture"), what it says (the
    symbol's or candidate's name), its ballot."""

    kind: str
    text: str
    ballot: int
    box: np.ndarray  # (4,) x0, y0, x1, y1 image pixels
    confidence: float
    reason: str = ""

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, np.float32).reshape(4)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "text": self.text,
            "ballot": self.ballot,
            "box": [round(float(v), 1) for v in self.box],
            "confidence": round(float(self.confidence), 4),
            "reason": self.reason,
        }


def _plain(text: str) -> str:
    plain = re.sub(r"[^0-9A-Z]", "", text.upper())
    return re.sub(r"(?<![A-Z])O(?=[0-9])", "0", plain)  # "O2": the recogniser's letter O for a zero


def _terms(election: Election) -> list[tuple[str, int, str]]:
    """(plain term with look-alike letters as digits, ballot, what it is) for every name, word of a
    name that counts alone (`captions.name_words`), nickname and slogan, longest first."""
    out = []
    for n, pair in election.pairs.items():
        for kind, terms in (
            ("name", pair.names),
            ("nickname", pair.nicknames),
            ("name", name_words(pair.names)),
            ("slogan", pair.slogans),
        ):
            out += [(_plain(w).translate(LOOKALIKE), n, kind) for w in terms if len(_plain(w)) >= MIN_NAME]
    return sorted(out, key=lambda t: -len(t[0]))


def _ballot_number(plain: str) -> int | None:
    """The ballot number `plain` prints ("02", "NO2", "NOMORURUT02", "NOMORURUTZ", "OMORURUT02"), or None."""
    for cut in (1, 2):  # the number's last one or two characters, look-alike letters as digits
        words, tail = plain[:-cut], plain[-cut:]
        number = _NUMBER.match(words + tail.translate(LOOKALIKE)) if words else None
        if number and number.group(1) == words and _number_words(words):
            return int(number.group(2))
    number = _NUMBER.match(plain)
    if number and not number.group(1) and len(number.group(2)) == 2 and plain[0] == "0":
        return int(plain)  # a bare number: two digits, "02" (a bare "2" or "12" is anything)
    return None


def _number_words(words: str) -> bool:
    """Are these the words campaigns put before a ballot number (one letter of a long one missing
    or misread: "OMORURUT", "COHLOS")?"""
    return words in NUMBER_WORDS or any(
        len(w) >= 6 and len(words) in (len(w) - 1, len(w)) and _share(w, words) >= (len(w) - 1) / len(w)
        for w in NUMBER_WORDS
    )


def _share(term: str, plain: str, run: int = 1) -> float:
    """The share of `term`'s letters found in `plain`, in order (in runs of `run` letters or more)."""
    blocks = SequenceMatcher(None, term, plain, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks if b.size >= run) / len(term)


def _rows(lines: list[TextLine]) -> list[list[TextLine]]:
    """Runs of lines (in reading order) that continue each other on one printed row: overlapping
    by half their height and at most a line's height apart (the detector splits a slogan into words)."""
    rows: list[list[TextLine]] = []
    for line in lines:
        if rows:
            last = rows[-1][-1]
            height = min(last.box[3] - last.box[1], line.box[3] - line.box[1])
            overlap = min(last.box[3], line.box[3]) - max(last.box[1], line.box[1])
            if overlap >= 0.5 * height and 0 <= line.box[0] - last.box[2] <= height:
                rows[-1].append(line)
                continue
        rows.append([line])
    return rows


def read_attributes(lines: list[TextLine], election: Election) -> list[Attribute]:
    """The text lines that are campaign attributes under `election` (see the module docstring); a
    row the detector split into several lines is read as one too when no line of it is one."""
    terms = _terms(election)
    out: list[Attribute] = []
    for row in _rows(lines):
        found = [a for a in (_attribute([line], terms, election) for line in row) if a is not None]
        if not found and len(row) > 1:
            found = [a for a in [_attribute(row, terms, election)] if a is not None]
        out += found
    return out


def _attribute(part: list[TextLine], terms: list[tuple[str, int, str]], election: Election) -> Attribute | None:
    """The attribute these lines (one, or a row of them) are, read together; None when none."""
    text = " ".join(line.text for line in part)
    found = _campaign_text(_plain(text), terms, election)
    confidence = min(x.confidence for x in part)
    if found is None or (confidence < election.attributes.min_confidence and not found[2]):
        return None
    ballot, what, _ = found
    box = np.concatenate([np.min([x.box[:2] for x in part], 0), np.max([x.box[2:] for x in part], 0)])
    return Attribute("text", text, ballot, box, confidence, f'printed text "{text}" {what}')


def _campaign_text(plain: str, terms: list[tuple[str, int, str]], election: Election) -> tuple[int, str, bool] | None:
    """(ballot, what the text shows of it, whether a term of LONG_TERM letters or more is what
    matched) when `plain` is campaign text under `election`, else None."""
    ballot = _ballot_number(plain)
    if ballot is not None:
        return (ballot, f"shows ballot {ballot:02d}", False) if election.pair(ballot) is not None else None
    plain = plain.translate(LOOKALIKE)
    for term, ballot, kind in terms:
        if term in plain or (
            len(term) >= LONG_TERM
            and (_share(term, plain) >= LONG_TERM_SHARE or _share(term, plain, RUN) * len(term) >= LONG_PART)
        ):
            return ballot, f"has the {kind} of pair {election.pairs[ballot].label}", len(term) >= LONG_TERM
    return None


def symbol_attributes(matches: list[SymbolMatch], election: Election) -> list[Attribute]:
    """Party symbols found in the photo as attributes (kind "symbol", the symbol's name as text,
    confidence the share of matched points that agree on its outline); only the election's ballots."""
    return [
        Attribute(
            "symbol",
            m.name,
            m.ballot,
            m.box,
            m.share,
            N_(
                'party symbol "{name}" of ballot {ballot:02d} ({n} matching points)',
                name=m.name,
                ballot=m.ballot,
                n=m.inliers,
            ),
        )
        for m in matches
        if election.pair(m.ballot) is not None
    ]


def judge_attributes(
    verdict: Verdict, attributes: list[Attribute], election: Election, candidate_ballots: Sequence[int] = ()
) -> Verdict:
    """The verdict with campaign attributes weighed in; `verdict` itself when there are none.

    An attribute of a ballot that a hand also shows (a sign in the verdict that is not clear), or
    whose candidate is in the photo (`candidate_ballots`), has risk `with_match`; others `alone`.
    """
    if not attributes:
        return verdict
    t, weights = election.thresholds, election.attributes
    shown = set(verdict.ballots if verdict.verdict != "clear" else []) | set(candidate_ballots)
    risk, reasons = 0.0, list[Any]()  # str or i18n.Message, as Verdict.reasons
    for a in attributes:
        matched = a.ballot in shown
        risk = max(risk, weights.with_match if matched else weights.alone)
        tail = (
            N_("; a hand sign or candidate of the same ballot is in the photo")
            if matched
            else N_(": campaign material, review")
        )
        reasons.append(Message("{reason}{tail}", reason=a.reason, tail=tail))
    level = "flag" if risk >= t.flag else "review" if risk >= t.review else "clear"
    return replace(
        verdict,
        verdict=worse(verdict.verdict, level),
        risk=max(verdict.risk, risk),
        reasons=list(verdict.reasons) + reasons,
    )
