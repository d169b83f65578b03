"""The verdict on one photo: which hands show which ballot number, how sure, and what to do.

Each hand is read (finger states -> sign -> the number the sign shows under the election). A
hand's risk is how sure the reading is times how deliberate the sign looks (the election's
`[weights]`: an open palm is mostly a wave). Hands showing the same ballot add up, damped, so a
group showing one number weighs more than one person. The photo's risk is the highest ballot's.

    flag    risk >= [verdict] flag, and at least one hand read with >= min_confidence
    review  risk >= [verdict] review, or a support sign (finger heart, ...), or a flag-level
            risk resting only on unsure readings
    clear   otherwise

A hand whose reading hangs on an unsure finger (confidence below `DOUBT`, or a little finger read
extended but drawn short, `SHORT_LITTLE_FINGER`) is read both ways; when the two readings point at
different pairs ("1 or 2: the thumb may be resting", "4 or 3: the little finger may be folded") it
goes to review, never to a flag, and the reason names both readings.

Hands that hold each other (a handshake, folded hands: two hands whose boxes overlap by `CLASP`
of the smaller, or a hand the finger head reads as gripping, `GRIP`, when the other is hidden) show
no sign: they are clear, or review when a finger is clearly raised and the whole reading is sure
(`CLEARLY_RAISED`). So is a hand with a second hand's skin round it (`BESIDE`: the other hand was
not found) that the finger head leans to read as gripping (`SKIN_GRIP`) and whose reading would
not flag on its own, unless a finger is clearly raised. Below `GRIP` the head's P(grip) still
counts against a hand that would not flag on its own (a half-hidden hand whose partner was not
found, read unsurely): its risk is weighed by 1 - P(grip), the chance it shows its fingers rather
than holding something; a sure sign keeps its flag.

Two hands of one person showing one number together (an open palm and one finger = 6 in a
Pilkada with six pairs) are read as that number when the election has such a pair. Until persons
are found in the photo, "one person" is judged from the hands alone: similar size, at most a few
hand lengths apart, and not both the same hand (when handedness is sure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gesture_audit.classify.fingers import FingerStates, palm_frame
from gesture_audit.classify.gestures import ClassifiedHand, Gesture, classify_gesture, classify_hand
from gesture_audit.detect.core import CHAINS, Hand, box_cover
from gesture_audit.i18n import N_, Message
from gesture_audit.judge.election import Election, Thresholds
from gesture_audit.results import worse

# Hands of one person: palm lengths within this ratio, and centres within this many palm lengths.
SAME_PERSON_SIZE_RATIO = 2.0
SAME_PERSON_DISTANCE = 6.0
# Handedness this sure tells two hands apart (two right hands are two people).
SURE_HANDEDNESS = 0.8
# Other hands showing the same ballot raise its risk by this share of a noisy-OR.
CORROBORATION = 0.5
# A single index finger shows 1 when it points up; pointing sideways or down (at something, at
# someone) it counts this much, rising to full within 45 degrees of straight up.
POINTING_SIDEWAYS = 0.6
# A finger read with less confidence than this may be read the other way (see `Doubt`).
DOUBT = 0.7
# A little finger read extended but drawn shorter than this share of the ring finger may be folded
# towards the camera (a three seen from the back: the landmark model draws the hidden finger
# straight but short). Below every one of the 332 extended little fingers labelled in the dev sets
# (asl_digits, hagrid: shortest 0.63, 1st percentile 0.68; benchmarks/README.md, "The thumb").
SHORT_LITTLE_FINGER = 0.6
# Two hands overlapping by this share of the smaller box hold each other; a finger of such a hand
# counts only when read at least this surely. Chosen, not fitted; what they do on rendered
# handshakes and grips: benchmarks/README.md ("The thumb").
CLASP = 0.3
CLEARLY_RAISED = 0.9
# A hand with at least this share of the area round it in its own skin colour (`Hand.beside`) may
# have a second hand behind or under it, one the palm detector missed: 99 % of the gripping renders'
# found hands on the tuning seeds reach it. So does a face or a person beside a hand (1 in 10 of
# rendered finger hearts), so the finger head must lean the same way: P(grip) at least SKIN_GRIP,
# which 9 in 10 of the 799 dev hands showing a sign stay below (90th percentile 0.119). A hand with
# both, whose reading would not flag on its own and shows no finger clearly, holds that hand.
# Figures: benchmarks/README.md ("The thumb").
BESIDE = 0.07
SKIN_GRIP = 0.12
# A hand the finger head (classify.fingers.head) gives at least this probability of gripping
# something holds it, like an overlapping pair: the head's own decision boundary, not tuned.
GRIP = 0.5
FINGER_NAMES = (N_("thumb"), N_("index finger"), N_("middle finger"), N_("ring finger"), N_("little finger"))


@dataclass
class Doubt:
    """The other reading of a hand whose unsure `finger` (0 thumb .. 4 pinky) changes its pair."""

    finger: int
    fingers: FingerStates
    gesture: Gesture
    number: int | None

    @property
    def why(self) -> Message:
        state = self.fingers.extended[self.finger]
        name = FINGER_NAMES[self.finger]
        if state:
            return N_("the {finger} may be raised", finger=name)
        return (
            N_("the {finger} may be resting", finger=name)
            if self.finger == 0
            else N_("the {finger} may be folded", finger=name)
        )


@dataclass
class HandReading:
    """One hand as judged: its fingers, sign, the ballot it points at, and how sure that is.

    `number` is what the sign shows (None for no number); `ballot` is the pair's number it points
    at under the election (None when no pair has that number), after combining two hands. `risk`
    is this hand's contribution to the verdict. `combined_with` is the index of the other hand
    when two hands show one number.
    """

    hand: Hand
    fingers: FingerStates
    count: int
    gesture: Gesture
    ballot: int | None
    confidence: float
    number: int | None = None
    risk: float = 0.0
    combined_with: int | None = None
    doubt: Doubt | None = None
    clasped: bool = False

    def to_dict(self) -> dict:
        """The findings.jsonl hand object (see report/findings.schema.json)."""
        out = self.hand.to_dict()
        out["landmarks"] = [[round(float(v), 1) for v in point] for point in self.hand.landmarks]
        out.update(
            {
                "fingers": self.fingers.pattern,
                "finger_confidence": [round(float(c), 3) for c in self.fingers.confidence],
                "count": self.count,
                "gesture": self.gesture.name,
                "number": self.number,
                "ballot": self.ballot,
                "confidence": round(float(self.confidence), 4),
                "risk": round(float(self.risk), 4),
            }
        )
        if self.combined_with is not None:
            out["combined_with"] = self.combined_with
        if self.doubt is not None:
            out["other_reading"] = {
                "fingers": self.doubt.fingers.pattern,
                "gesture": self.doubt.gesture.name,
                "number": self.doubt.number,
            }
        return out


@dataclass
class Verdict:
    """flag / review / clear for one photo, with a risk in [0, 1] and reasons in plain words."""

    verdict: str
    risk: float
    reasons: list[str] = field(default_factory=list)
    hands: list[HandReading] = field(default_factory=list)

    @property
    def ballots(self) -> list[int]:
        return sorted({r.ballot for r in self.hands if r.ballot is not None})

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "risk": round(float(self.risk), 4),
            "reasons": list(self.reasons),
            "hands": [r.to_dict() for r in self.hands],
        }


def read_hand(classified: ClassifiedHand, election: Election) -> HandReading:
    """One classified hand on its own under `election`: number, confidence (no ballot risk yet)."""
    hand, states, gesture = classified.hand, classified.fingers, classified.gesture
    number = election.number_for(gesture.name)
    confidence = float(gesture.confidence) * min(1.0, float(hand.presence))
    return HandReading(
        hand=hand,
        fingers=states,
        count=states.count,
        gesture=gesture,
        ballot=None,
        confidence=confidence,
        number=number,
        doubt=doubt(hand, states, number, election),
    )


def doubt(hand: Hand, states: FingerStates, number: int | None, election: Election) -> Doubt | None:
    """The other reading of an unsure finger (least sure first; a little finger drawn short last)
    that moves the hand from the pair of `number` (what the first reading shows) to another pair.
    (A reading that may show no number at all is judged by its confidence as before: an unsure fist
    that might be a 1 stays clear.)"""
    unsure = [int(f) for f in np.argsort(states.confidence, kind="stable") if states.confidence[f] < DOUBT]
    if states.extended[4] and _little_finger_share(hand) < SHORT_LITTLE_FINGER:
        unsure.append(4)
    for finger in unsure:
        other = states.flipped(finger)
        gesture = classify_gesture(hand, other)
        other_number = election.number_for(gesture.name)
        pairs = election.pair(number), election.pair(other_number)
        if None not in pairs and pairs[0] is not pairs[1]:
            return Doubt(finger, other, gesture, other_number)
    return None


def _little_finger_share(hand: Hand) -> float:
    """The little finger's drawn length over the ring finger's, averaged over both landmark sets."""
    shares = []
    for points in (hand.landmarks, hand.world_landmarks):
        try:
            frame = palm_frame(points)
        except ValueError:  # collapsed landmarks: no length to judge by
            return 1.0
        ring, little = (sum(float(np.linalg.norm(frame[b] - frame[a])) for a, b in zip(c, c[1:])) for c in CHAINS[3:])
        shares.append(little / max(ring, 1e-9))
    return float(np.mean(shares))


def judge(hands: Sequence[Hand | ClassifiedHand], election: Election) -> Verdict:
    """The verdict on a photo with these hands under `election`: hands of the classify stage
    (`classify_hand`), or detected hands, which are classified here."""
    readings = [read_hand(h if isinstance(h, ClassifiedHand) else classify_hand(h), election) for h in hands]
    if election.thresholds.combine_hands:
        _combine(readings, election)
    for r in readings:
        if r.combined_with is None and election.pair(r.number) is not None:
            r.ballot = r.number
            r.risk = r.confidence * election.weight(r.gesture.name) * presentation(r)

    t = election.thresholds
    for r in _clasped(readings, t):  # holding another hand: no sign, unless a finger is clearly up
        r.clasped, r.doubt = True, None
        if r.ballot is not None and _clearly_raised(r):
            r.risk = min(r.risk, (t.review + t.flag) / 2)
        else:
            r.ballot, r.risk = None, 0.0
    for r in readings:  # a hand that would not flag on its own shows a sign only if it is not gripping
        if r.ballot is not None and r.combined_with is None and not r.clasped and not _flags_alone(r, t):
            r.risk *= _showing(r)
    for r in readings:  # one unsure finger decides the pair: review, whichever reading points at one
        if r.doubt is not None and r.combined_with is None:
            either = max(r.risk, r.confidence * election.weight(r.doubt.gesture.name) * _showing(r))
            r.risk = min(either, (t.review + t.flag) / 2)  # review at most
    risk, verdict = 0.0, "clear"
    reasons: list[str] = []
    by_ballot: dict[int, list[HandReading]] = {}
    for r in readings:
        if r.ballot is not None:
            by_ballot.setdefault(r.ballot, []).append(r)
    for ballot, group in by_ballot.items():
        ballot_risk, level = ballot_level(group, t)
        risk = max(risk, ballot_risk)
        verdict = worse(verdict, level)
        if ballot_risk >= t.flag and level != "flag":
            reasons.append(
                N_(
                    "ballot {ballot:02d} rests on unsure readings (confidence below {min_confidence:.2f}): review",
                    ballot=ballot,
                    min_confidence=t.min_confidence,
                )
            )

    # Support signs without a number go to review at most, however sure the reading.
    for r in readings:
        if r.gesture.name in election.support and (not r.clasped or _clearly_raised(r)):
            r.risk = min(r.confidence * election.weight(r.gesture.name) * _showing(r), (t.review + t.flag) / 2)
            risk = max(risk, r.risk)
            verdict = worse(verdict, "review" if r.risk >= t.review else "clear")

    reasons = _reasons(readings, election) + reasons
    return Verdict(verdict=verdict, risk=float(np.clip(risk, 0.0, 1.0)), reasons=reasons, hands=readings)


def ballot_level(group: list[HandReading], t: Thresholds) -> tuple[float, str]:
    """The risk and verdict of the hands in `group`, which show one ballot in one photo."""
    risk = _corroborated([r.risk for r in group])
    sure = any(r.confidence >= t.min_confidence and r.doubt is None and not r.clasped for r in group)
    return risk, "flag" if risk >= t.flag and sure else "review" if risk >= t.review else "clear"


def presentation(reading: HandReading) -> float:
    """How much the way the sign is held supports reading it as a number (0-1).

    Only the index finger depends on it: the domain's 1 is the index finger *up*; a finger
    pointing sideways or down is mostly pointing at something. Other signs count either way (a V
    pointing down is still a V).
    """
    if reading.gesture.name != "one":
        return 1.0
    lm = reading.hand.landmarks
    direction = lm[8, :2] - lm[5, :2]
    norm = float(np.linalg.norm(direction))
    if norm < 1e-9:
        return POINTING_SIDEWAYS
    up = -float(direction[1]) / norm  # image y grows downwards
    return POINTING_SIDEWAYS + (1 - POINTING_SIDEWAYS) * float(np.clip(up / np.cos(np.radians(45)), 0, 1))


def _clasped(readings: list[HandReading], t: Thresholds) -> list[HandReading]:
    """Hands whose boxes overlap another's by at least CLASP of the smaller box, or read as gripping,
    or holding a hand that was not found (`_holds_hidden`)."""
    out = []
    for i, a in enumerate(readings):
        if a.fingers.grip >= GRIP or (a.combined_with is None and _holds_hidden(a, t)):
            out.append(a)
            continue
        for j, b in enumerate(readings):
            if i != j and box_cover(a.hand.box, b.hand.box) >= CLASP:
                out.append(a)
                break
    return out


def _holds_hidden(r: HandReading, t: Thresholds) -> bool:
    """Whether a hand seems to hold a second hand that was not found: its skin colour round it
    (BESIDE) and the finger head leaning to a grip (SKIN_GRIP), a reading that would not flag on its
    own, and no finger clearly raised."""
    return r.hand.beside >= BESIDE and r.fingers.grip >= SKIN_GRIP and not _flags_alone(r, t) and not _clearly_raised(r)


def _flags_alone(r: HandReading, t: Thresholds) -> bool:
    """Whether this hand's reading flags on its own: risk at the flag level, sure, one reading."""
    return r.risk >= t.flag and r.confidence >= t.min_confidence and r.doubt is None


def _showing(r: HandReading) -> float:
    """The probability that the hand shows its fingers rather than holding something: 1 - the finger
    head's P(grip)."""
    return 1.0 - float(r.fingers.grip)


def _clearly_raised(r: HandReading) -> bool:
    """Some finger is read extended, and the whole reading at least CLEARLY_RAISED surely: every
    finger, folded ones too (in a clasp the fingers round the other hand are the ones misread), and
    the hand itself (a half-hidden hand's landmarks are drawn with low presence)."""
    return bool(r.fingers.extended.any()) and r.confidence >= CLEARLY_RAISED


def _corroborated(risks: list[float]) -> float:
    """The strongest hand's risk, raised by the others' (a damped noisy-OR)."""
    risks = sorted(risks, reverse=True)
    others = 1.0 - float(np.prod([1.0 - r for r in risks[1:]]))
    return risks[0] + (1.0 - risks[0]) * CORROBORATION * others


def _palm_length(hand: Hand) -> float:
    lm = hand.landmarks
    return float(np.linalg.norm(lm[9, :2] - lm[0, :2]))


def same_person(a: Hand, b: Hand) -> bool:
    """Could these be the two hands of one person? (size, distance, handedness)"""
    la, lb = _palm_length(a), _palm_length(b)
    if min(la, lb) <= 0 or max(la, lb) / min(la, lb) > SAME_PERSON_SIZE_RATIO:
        return False
    ca, cb = a.landmarks[:, :2].mean(0), b.landmarks[:, :2].mean(0)
    if np.linalg.norm(ca - cb) > SAME_PERSON_DISTANCE * (la + lb) / 2:
        return False
    sure = min(a.handedness_score, b.handedness_score) >= SURE_HANDEDNESS
    return not (sure and a.handedness == b.handedness)


def _combine(readings: list[HandReading], election: Election) -> None:
    """Read an open palm plus a number 1-4 on one person's other hand as 5 + n, where such a pair
    exists (only numbers above 5 need two hands). Closest hands first; each hand used once."""
    candidates = []
    for i, a in enumerate(readings):
        for j, b in enumerate(readings):
            if i == j or a.gesture.name != "five" or b.number is None or not 1 <= b.number <= 4:
                continue
            total = 5 + b.number
            if election.pair(total) is None or not same_person(a.hand, b.hand):
                continue
            distance = float(np.linalg.norm(a.hand.landmarks[:, :2].mean(0) - b.hand.landmarks[:, :2].mean(0)))
            candidates.append((distance, i, j, total))
    used: set[int] = set()
    for _, i, j, total in sorted(candidates):
        if i in used or j in used:
            continue
        used |= {i, j}
        a, b = readings[i], readings[j]
        confidence = min(a.confidence, b.confidence)
        # two hands held up together are deliberate: the open palm's everyday weight does not apply
        risk = confidence * election.weight(b.gesture.name)
        for r, other in ((a, j), (b, i)):
            r.number, r.ballot, r.risk, r.combined_with = total, total, risk, other


def _reasons(readings: list[HandReading], election: Election) -> list[str]:
    """One line per hand that matters, riskiest first."""
    lines: list[tuple[float, str]] = []
    done: set[int] = set()
    for i, r in enumerate(readings):
        if i in done:
            continue
        side = N_("left hand") if r.hand.handedness == "left" else N_("right hand")
        if r.hand.person is not None:  # group photos: say who, as an auditor would
            side = N_("person {person} ({side})", person=r.hand.person + 1, side=side)
        sign = r.gesture.description
        shows = dict(side=side, number=r.number, sign=sign, confidence=r.confidence)
        if r.combined_with is not None:
            other = readings[r.combined_with]
            done |= {i, r.combined_with}
            parts = sorted([r, other], key=lambda x: -(x.fingers.count))
            first, second = parts
            assert r.ballot is not None  # combined hands always point at a pair
            text = N_(
                "two hands show {first} + {second} = {ballot} ({first_sign} and {second_sign}), "
                "confidence {confidence:.2f}: ballot {pair}",
                first=first.count,
                second=second.count,
                ballot=r.ballot,
                first_sign=first.gesture.description,
                second_sign=second.gesture.description,
                confidence=r.confidence,
                pair=election.pairs[r.ballot].label,
            )
            lines.append((r.risk, text))
        elif r.clasped and r.ballot is None:
            if r.number is not None:
                text = N_(
                    "{side} holds another hand (a handshake or clasped hands), read as {sign}: not a sign",
                    side=side,
                    sign=r.gesture.description,
                )
                lines.append((0.0, text))
        elif r.doubt is not None:
            lines.append((r.risk, _doubt_reason(r, side, election)))
        elif r.ballot is not None:
            pair = election.pairs[r.ballot].label
            note = _note(r, election)
            if note is None:
                text = N_(
                    "{side} shows {number} ({sign}), confidence {confidence:.2f}: ballot {pair}", pair=pair, **shows
                )
            else:
                text = N_(
                    "{side} shows {number} ({sign}), confidence {confidence:.2f}: ballot {pair}; {casual}",
                    pair=pair,
                    casual=note,
                    **shows,
                )
            lines.append((r.risk, text))
        elif r.gesture.name in election.support:
            lines.append(
                (
                    r.risk,
                    N_(
                        "{side} shows a {sign} ({why}), confidence {confidence:.2f}",
                        side=side,
                        sign=sign,
                        why=election.support[r.gesture.name],
                        confidence=r.confidence,
                    ),
                )
            )
        elif r.number is not None:
            lines.append(
                (
                    0.0,
                    N_(
                        "{side} shows {number} ({sign}), confidence {confidence:.2f}: "
                        "no pair {number:02d} in {election}",
                        election=election.name,
                        **shows,
                    ),
                )
            )
    return [text for _, text in sorted(lines, key=lambda x: -x[0])]


def _doubt_reason(r: HandReading, side: Message, election: Election) -> Message:
    """ "right hand shows 1 or 2 (index finger or L sign): the thumb may be raised, ...: review"."""
    doubt = r.doubt
    # `doubt` is only set when both readings point at a pair (see `doubt`)
    assert doubt is not None and r.number is not None and doubt.number is not None
    first, other = election.pairs[r.number], election.pairs[doubt.number]
    return N_(
        "{side} shows {number} or {other} ({sign} or {other_sign}): {why}, confidence {confidence:.2f}; "
        "ballot {pair} or ballot {other_pair}: review",
        side=side,
        number=r.number,
        other=doubt.number,
        sign=r.gesture.description,
        other_sign=doubt.gesture.description,
        why=doubt.why,
        confidence=r.confidence,
        pair=first.label,
        other_pair=other.label,
    )


def _note(r: HandReading, election: Election) -> Message | None:
    """Why a sign read as a number may be no sign at all: held sideways, or an everyday gesture."""
    if presentation(r) < 1.0:
        return N_("it points sideways or down, maybe at something")
    if election.weight(r.gesture.name) >= 1.0:
        return None
    if r.gesture.name == "five":
        return N_("an open palm is often just a wave")
    if r.gesture.name == "one":
        return N_("a raised index finger may just be pointing")
    if r.gesture.name == "thumb_up":
        return N_("a thumbs-up is often plain approval")
    return N_("also an everyday gesture")
