"""Candidates in the photo: staff must not pose with them.

`judge_candidates(verdict, faces, thresholds)` takes the hands' `Verdict` and the photo's face
matches (`FaceMatch`, from `gesture_audit.identify.match`) and returns the photo's verdict:

    flag    a candidate appears together with at least one other person (a detected face that is
            not a candidate); the risk is higher still when a hand shows a ballot sign as well
    review  a face is near a candidate (just past the match threshold), or candidates appear
            without anyone else (a portrait, a campaign photo: no one is posing with them)
    the hands' verdict otherwise

Other candidates do not count as "other people": running mates side by side are not staff posing
with them, though they are named in the reason. Pure: no image work here, only the matches.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gesture_audit.judge.election import Thresholds
from gesture_audit.judge.verdict import Verdict

if TYPE_CHECKING:
    from gesture_audit.identify.match import FaceMatch

# The risk of a candidate posing with others, on its own (flag-level under the default thresholds);
# a ballot sign in the same photo raises it as a noisy-OR with the hands' risk.
WITH_OTHERS = 0.8

_ORDER = ("clear", "review", "flag")


def candidate_label(face: FaceMatch) -> str:
    """ "candidate 02 Prabowo Subianto", or "candidate Prabowo Subianto" without a ballot number."""
    number = "" if face.ballot is None else f"{face.ballot:02d} "
    return f"candidate {number}{face.candidate}"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _people(n: int) -> str:
    return f"{n} other person" if n == 1 else f"{n} other people"


def judge_candidates(verdict: Verdict, faces: list[FaceMatch],
                     thresholds: Thresholds = Thresholds()) -> Verdict:
    """The verdict on a photo with these hands (`verdict`, from `judge`) and these faces.

    Returns `verdict` itself when no face is or nearly is a candidate; otherwise a new Verdict with
    the worse level, the higher risk, and the candidate reasons first. `hands` are kept as they are.
    """
    candidates = [f for f in faces if f.candidate is not None]
    near = [f for f in faces if f.near]
    if not candidates and not near:
        return verdict
    level, risk, reasons = "clear", 0.0, []
    review_risk = (thresholds.review + thresholds.flag) / 2  # as for support signs: review, never flag

    others = len(faces) - len(candidates)
    # One line per candidate (a candidate matched twice, e.g. beside their own poster, is one).
    named = list({f.candidate: f for f in candidates}.values())
    if named and others:
        level = "flag"
        sign = verdict.ballots if verdict.verdict != "clear" else []
        risk = 1 - (1 - max(WITH_OTHERS, thresholds.flag)) * (1 - verdict.risk)
        for face in named:
            text = f"{candidate_label(face)} appears with {_people(others)}"
            fellows = [candidate_label(f) for f in named if f is not face]
            if fellows:
                text += f" (and with {_listed(fellows)})"
            if sign:
                own = " (the candidate's own number)" if face.ballot in sign else ""
                text += f"; a hand shows ballot {_listed([f'{b:02d}' for b in sign])}{own}"
            reasons.append(text)
    elif named:
        level, risk = "review", review_risk
        verb = "appears" if len(named) == 1 else "appear"
        reasons.append(f"{_listed([candidate_label(f) for f in named])} {verb} without anyone else: review")
    for face in near:
        level = level if level == "flag" else "review"
        risk = max(risk, review_risk)
        why = ("too small to tell" if face.unmatched == "too small" else "just past the match threshold")
        reasons.append(f"a face looks like candidate {face.nearest} (distance {face.distance:.2f}, {why}): review")

    worse = max(verdict.verdict, level, key=_ORDER.index)
    return replace(verdict, verdict=worse, risk=max(verdict.risk, risk), reasons=reasons + list(verdict.reasons))
