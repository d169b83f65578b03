"""The verdict on a video: a sign counts when it is held.

Each sampled frame is judged as a photo (`verdict.judge`). A hand showing a ballot (or a support
sign) is followed from sample to sample by its box: the same sign in the next sample with a box
overlapping at IoU >= TRACK_IOU continues it; a sample without it ends it. A track spanning at
least `min_hold` seconds (2 consecutive samples at the default 2 per second) is a held moment and
keeps the verdict its frames earn as photos; a sign seen more briefly (a wave passing through a V,
a single frame) is a moment one step milder: flag becomes review, review becomes clear. So a
sign shown in one sample only is never flagged, but a sure one still goes to a human. The clip's
verdict is its worst moment; its evidence is that moment's keyframe (the sample where the sign
reads strongest) and its times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gesture_audit.detect.core import box_iou
from gesture_audit.judge.election import Election, Thresholds
from gesture_audit.judge.verdict import HandReading, Verdict, ballot_level
from gesture_audit.results import worse

MIN_HOLD = 0.5  # seconds (issue 18: "a sign held for >= 0.5 s")
# Boxes of one hand in samples 0.5 s apart: a hand held up moves little; a different person's
# hand rarely overlaps this much.
TRACK_IOU = 0.3
MAX_REASONS = 8
_ORDER = {"flag": 2, "review": 1, "clear": 0}


def clock(seconds: float) -> str:
    """0:01.5 — minutes and seconds with tenths, as auditors read a player's timeline."""
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


@dataclass
class Moment:
    """One sign followed over consecutive samples: what it showed, when, and what it earns."""

    sign: str  # the gesture's name
    ballot: int | None  # None for a support sign
    start: float
    end: float
    samples: int
    keyframe: float  # the sample where it reads with the highest risk
    verdict: str
    risk: float
    held: bool
    reason: str = ""

    def to_dict(self) -> dict:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "samples": self.samples,
            "keyframe": round(self.keyframe, 3),
            "sign": self.sign,
            "ballot": self.ballot,
            "verdict": self.verdict,
            "risk": round(float(self.risk), 4),
            "held": self.held,
        }


@dataclass
class ClipVerdict:
    """flag / review / clear for a clip, from its worst moment. `hands` are the readings at the
    keyframe (every hand of that frame); `keyframe` is None when no sign was seen."""

    verdict: str
    risk: float
    reasons: list[str] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    keyframe: float | None = None
    hands: list[HandReading] = field(default_factory=list)


@dataclass
class _Track:
    key: tuple  # ("ballot", n) or ("sign", gesture name)
    points: list[tuple[int, HandReading, float, str]]  # sample index, reading, frame risk, frame level

    @property
    def box(self) -> np.ndarray:
        return self.points[-1][1].hand.box


def _signs(verdict: Verdict, election: Election) -> list[tuple[tuple[str, str | int], HandReading, float, str]]:
    """The signs in one judged frame: (key, reading, risk, level), the risk and level as the photo
    judgement gives them (a ballot's hands corroborate each other)."""
    t = election.thresholds
    by_ballot: dict[int, list[HandReading]] = {}
    for r in verdict.hands:
        if r.ballot is not None:
            by_ballot.setdefault(r.ballot, []).append(r)
    out: list[tuple[tuple[str, str | int], HandReading, float, str]] = []
    for ballot, group in by_ballot.items():
        risk, level = ballot_level(group, t)
        out += [(("ballot", ballot), r, risk, level) for r in group]
    for r in verdict.hands:
        if r.ballot is None and r.gesture.name in election.support:
            out.append((("sign", r.gesture.name), r, r.risk, "review" if r.risk >= t.review else "clear"))
    return out


def _demoted(level: str, risk: float, t: Thresholds) -> tuple[str, float]:
    """One step milder, with the risk kept inside the milder band."""
    if level == "flag":
        return "review", min(risk, (t.review + t.flag) / 2)
    return "clear", min(risk, t.review / 2)


def judge_clip(samples: list[tuple[float, Verdict]], election: Election, *, min_hold: float = MIN_HOLD) -> ClipVerdict:
    """The verdict on a clip from its judged samples (time in seconds, the frame's Verdict), in
    time order and evenly spaced."""
    tracks: list[_Track] = []
    active: list[_Track] = []
    for i, (_, verdict) in enumerate(samples):
        signs = _signs(verdict, election)
        pairs = sorted(
            (
                (box_iou(tr.box, r.hand.box), a, b)
                for a, tr in enumerate(active)
                for b, (key, r, _, _) in enumerate(signs)
                if key == tr.key
            ),
            key=lambda p: -p[0],
        )
        taken_tracks, taken_signs, still = set(), set(), []
        for iou, a, b in pairs:
            if iou < TRACK_IOU or a in taken_tracks or b in taken_signs:
                continue
            taken_tracks.add(a)
            taken_signs.add(b)
            _, r, risk, level = signs[b]
            active[a].points.append((i, r, risk, level))
            still.append(active[a])
        for b, (key, r, risk, level) in enumerate(signs):
            if b not in taken_signs:
                track = _Track(key, [(i, r, risk, level)])
                tracks.append(track)
                still.append(track)
        active = still

    t = election.thresholds
    moments: list[tuple[Moment, _Track, int]] = []
    for track in tracks:
        first, last = samples[track.points[0][0]][0], samples[track.points[-1][0]][0]
        k = max(range(len(track.points)), key=lambda j: (_ORDER[track.points[j][3]], track.points[j][2]))
        index, reading, risk, level = track.points[k]
        held = last - first >= min_hold - 1e-6
        if not held and level != "clear":
            level, risk = _demoted(level, risk, t)
        if level == "clear" and not held:
            continue  # a brief unsure sign is not worth a line
        moment = Moment(
            sign=reading.gesture.name,
            ballot=track.key[1] if track.key[0] == "ballot" else None,
            start=first,
            end=last,
            samples=len(track.points),
            keyframe=samples[index][0],
            verdict=level,
            risk=float(risk),
            held=held,
        )
        moment.reason = _reason(moment, reading, election, min_hold)
        moments.append((moment, track, index))
    moments.sort(key=lambda m: (-_ORDER[m[0].verdict], -m[0].risk, m[0].start))
    if not moments:
        return ClipVerdict("clear", 0.0)
    clip = "clear"
    for m, _, _ in moments:
        clip = worse(clip, m.verdict)
    worst, _, index = moments[0]
    reasons = [m.reason for m, _, _ in moments if m.verdict != "clear"][:MAX_REASONS]
    more = sum(m.verdict != "clear" for m, _, _ in moments) - len(reasons)
    if more:
        reasons.append(f"and {more} more moment{'s' if more != 1 else ''} (see the video's moments)")
    return ClipVerdict(
        verdict=clip,
        risk=float(np.clip(worst.risk, 0, 1)),
        reasons=reasons,
        moments=sorted((m for m, _, _ in moments), key=lambda m: m.start),
        keyframe=worst.keyframe,
        hands=samples[index][1].hands,
    )


def _reason(m: Moment, r: HandReading, election: Election, min_hold: float) -> str:
    side = f"{r.hand.handedness} hand"
    if r.hand.person is not None:
        side = f"person {r.hand.person + 1} ({side})"
    if m.ballot is not None:
        what = (
            f"{side} shows {r.number} ({r.gesture.description}), confidence {r.confidence:.2f}: "
            f"ballot {election.pairs[m.ballot].label}"
        )
    else:
        what = f"{side} shows a {r.gesture.description} ({election.support[m.sign]}), confidence {r.confidence:.2f}"
    if m.held:
        return f"{clock(m.start)}–{clock(m.end)}, held {m.end - m.start:.1f} s: {what}"
    when = f"at {clock(m.start)}" if m.samples == 1 else f"{clock(m.start)}–{clock(m.end)}"
    return f"{when}, not held for {min_hold:g} s: {what}; {m.verdict} at most"
