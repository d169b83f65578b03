"""Candidates in the photo: staff must not pose with them.

`judge_candidates(verdict, faces, thresholds, printed)` takes the hands' `Verdict` and the photo's
face matches (`FaceMatch`, from `gesture_audit.identify.match`) and returns the photo's verdict:

    flag    a candidate appears in person together with at least one other person (a detected
            face that is not a candidate): posing with a candidate; the risk is higher still when a
            hand shows a ballot sign as well
    review  a face is near a candidate (just past the match threshold), or candidates appear
            without anyone else (a portrait, a campaign photo: no one is posing with them)
    the hands' verdict otherwise

A candidate's face that is printed (`printed`, from `gesture_audit.detect.posters`: on a banner or
poster) is no person in the photo: `picture_attributes` makes it campaign material instead (an
attribute of kind "picture", weighed by `judge.attributes.judge_attributes`), and it counts neither
as a candidate nor as another person here.

Other candidates do not count as "other people": running mates side by side are not staff posing
with them, though they are named in the reason. Pure: no image work here, only the matches.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gesture_audit.i18n import N_, Message, N_plural
from gesture_audit.judge.attributes import Attribute
from gesture_audit.judge.election import Thresholds
from gesture_audit.judge.verdict import Verdict
from gesture_audit.results import worse

if TYPE_CHECKING:
    from gesture_audit.identify.match import FaceMatch

# The risk of a candidate posing with others, on its own (flag-level under the default thresholds);
# a ballot sign in the same photo raises it as a noisy-OR with the hands' risk.
WITH_OTHERS = 0.8


def candidate_label(face: FaceMatch) -> Message:
    """ "candidate 02 Prabowo Subianto", or "candidate Prabowo Subianto" without a ballot number."""
    if face.ballot is None:
        return N_("candidate {name}", name=face.candidate)
    return N_("candidate {ballot:02d} {name}", ballot=face.ballot, name=face.candidate)


def _listed(items: list) -> str:
    """ "a", "a and b", "a, b and c" (items may be Messages)."""
    if len(items) == 1:
        return items[0]
    args = {f"i{k}": item for k, item in enumerate(items)}
    head = ", ".join(f"{{i{k}}}" for k in range(len(items) - 1))
    # The joined template is not a catalogue entry; only the word "and" is.
    return Message(head + f" {{and_}} {{i{len(items) - 1}}}", and_=N_("and"), **args)


def _joined(parts: list[Message]) -> Message:
    """Messages one after another, as one reason (each part translated on its own)."""
    if len(parts) == 1:
        return parts[0]
    args: dict[str, Any] = {f"p{k}": p for k, p in enumerate(parts)}
    return Message("".join(f"{{p{k}}}" for k in range(len(parts))), **args)


def picture_attributes(faces: list[FaceMatch], printed: list[bool]) -> list[Attribute]:
    """Candidates' faces printed on a banner or poster, as campaign attributes (kind "picture")."""
    return [
        Attribute(
            "picture",
            face.candidate,
            face.ballot,
            face.box,
            face.score,
            N_("a printed picture of {who}", who=candidate_label(face)),
        )
        for face, flat in zip(faces, printed)
        if flat and face.candidate is not None and face.ballot is not None  # set together (FaceMatch)
    ]


def judge_candidates(
    verdict: Verdict, faces: list[FaceMatch], thresholds: Thresholds = Thresholds(), printed: list[bool] | None = None
) -> Verdict:
    """The verdict on a photo with these hands (`verdict`, from `judge`) and these faces.

    `printed`: per face, whether it is a printed picture (those are left out here; see
    `picture_attributes`). Returns `verdict` itself when no face is or nearly is a candidate;
    otherwise a new Verdict with the worse level, the higher risk, and the candidate reasons first.
    `hands` are kept as they are.
    """
    if printed is not None:
        faces = [f for f, flat in zip(faces, printed) if not flat]
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
            parts = [
                N_plural(
                    "{who} appears with {n} other person",
                    "{who} appears with {n} other people",
                    others,
                    who=candidate_label(face),
                )
            ]
            fellows = [candidate_label(f) for f in named if f is not face]
            if fellows:
                parts.append(N_(" (and with {fellows})", fellows=_listed(fellows)))
            parts.append(N_(" (posing with a candidate in person)"))
            if sign:
                numbers = _listed([f"{b:02d}" for b in sign])
                if face.ballot in sign:
                    parts.append(N_("; a hand shows ballot {numbers} (the candidate's own number)", numbers=numbers))
                else:
                    parts.append(N_("; a hand shows ballot {numbers}", numbers=numbers))
            reasons.append(_joined(parts))
    elif named:
        level, risk = "review", review_risk
        reasons.append(
            N_plural(
                "{who} appears without anyone else: review",
                "{who} appear without anyone else: review",
                len(named),
                who=_listed([candidate_label(f) for f in named]),
            )
        )
    for face in near:
        level = level if level == "flag" else "review"
        risk = max(risk, review_risk)
        why = N_("too small to tell") if face.unmatched == "too small" else N_("just past the match threshold")
        reasons.append(
            N_(
                "a face looks like candidate {name} (distance {distance:.2f}, {why}): review",
                name=face.nearest,
                distance=face.distance,
                why=why,
            )
        )

    return replace(
        verdict,
        verdict=worse(verdict.verdict, level),
        risk=max(verdict.risk, risk),
        reasons=reasons + list(verdict.reasons),
    )
