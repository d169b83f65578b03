"""Measure the whole pipeline (engine + judgement) against a labelled set of photos.

Labels are JSON lines as in the dev set's README: one image per line, with `set`, `kind`
("hand" | "scene" | "face" | "negative") and `hands`, each with `fingers` (thumb..pinky, or null),
`count`, `gesture` (the source's class name) and `box` (pixels, or null for the one prominent hand).

Scoring is end to end, per set: a labelled hand the engine misses counts as wrong for every
measure. A labelled hand with a box matches the found hand of highest IoU if it is at least
`MIN_IOU`; one without a box matches the largest found hand.

- hand recall: labelled hands matched
- fingers exact: the five-finger pattern right (hands labelled with fingers)
- count: the number of extended fingers right (hands labelled with a count)
- gesture: the sign's name right (hands whose label names a sign in our vocabulary)
- negatives flagged: negative photos whose verdict is flag (also: sent to review)
- attributes (labels with an `attributes` list, when printed text is read or party symbols are
  looked for): labelled campaign
  attributes found (an attribute of the same ballot read within its box), and photos labelled
  with none that got one (false attributes)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gesture_audit.detect.core import box_iou

MIN_IOU = 0.25
# Class names of the labelled sets -> our sign names, where the finger pattern alone does not say
# (a thumbs-up and a thumbs-down share 10000). Other labels are named from their pattern.
LABEL_GESTURES = {
    "like": "thumb_up",
    "dislike": "thumb_down",
    "ok": "ok_three",
    "asl_9": "ok_three",
}


class LabelsError(ValueError):
    """The labels file is missing or a line is not a label."""


@dataclass
class LabelledHand:
    fingers: str | None
    count: int | None
    gesture: str | None
    box: tuple[float, float, float, float] | None


@dataclass
class Label:
    path: str
    set: str
    kind: str
    hands: list[LabelledHand]
    # Rendered photos (gesture-audit synth) also record these, for the fairness/robustness tables.
    skin: str | None = None
    rotation: str | None = None  # bucket, see rotation_bucket
    gesture: str | None = None
    attributes: list[dict] | None = None  # None: not labelled; [] a photo without campaign material


def rotation_bucket(degrees: float | None) -> str | None:
    """Rendered hands record their rotation from upright: bucket it for the robustness table."""
    if degrees is None:
        return None
    d = abs(degrees)
    return "0-30°" if d <= 30 else "30-60°" if d <= 60 else "60-120°" if d <= 120 else "120-180°"


def read_labels(path: str | Path) -> list[Label]:
    """The labels of a JSON-lines file; raises LabelsError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"labels file {path} not found")
    labels = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            hands = [
                LabelledHand(
                    h.get("fingers"), h.get("count"), h.get("gesture"), tuple(h["box"]) if h.get("box") else None
                )
                for h in row.get("hands", [])
            ]
            first = (row.get("hands") or [{}])[0]
            labels.append(
                Label(
                    row["path"],
                    row["set"],
                    row.get("kind", "hand"),
                    hands,
                    first.get("skin"),
                    rotation_bucket(first.get("rotation")),
                    first.get("gesture"),
                    row.get("attributes"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise LabelsError(f"{path}:{n}: not a label ({e})") from e
    return labels


def expected_gesture(hand: LabelledHand) -> str | None:
    """The sign name a labelled hand should be read as, or None when the label does not say."""
    from gesture_audit.classify.gestures import GESTURES, PATTERNS

    if hand.gesture in LABEL_GESTURES:
        return LABEL_GESTURES[hand.gesture]
    if hand.gesture in GESTURES:  # our own names (rendered sets; HaGRID's fist/one/three/four agree)
        return hand.gesture
    if hand.fingers is None:
        return None
    return PATTERNS.get(hand.fingers, "other")


def match_hands(labelled: list[LabelledHand], boxes: list) -> list[int | None]:
    """For each labelled hand, the index of the found hand (by its box) it matches, or None.

    Boxed labels take the found hand of best IoU (>= MIN_IOU); a found hand serves one label,
    best pairs first. An unboxed label takes the largest found hand.
    """
    out: list[int | None] = [None] * len(labelled)
    pairs = sorted(
        (-box_iou(h.box, b), i, j) for i, h in enumerate(labelled) if h.box is not None for j, b in enumerate(boxes)
    )
    used: set[int] = set()
    for overlap, i, j in pairs:
        if -overlap < MIN_IOU:
            break
        if out[i] is None and j not in used:
            out[i] = j
            used.add(j)
    areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in boxes]
    for i, h in enumerate(labelled):
        if h.box is None and boxes:
            out[i] = int(np.argmax(areas))
    return out


@dataclass
class SetScore:
    """Counts for one set; the rates are properties."""

    name: str
    images: int = 0
    hands: int = 0
    found: int = 0
    fingers_total: int = 0
    fingers_exact: int = 0
    count_total: int = 0
    count_right: int = 0
    gesture_total: int = 0
    gesture_right: int = 0
    negatives: int = 0
    negatives_flagged: int = 0
    negatives_reviewed: int = 0
    attributes: int = 0  # labelled attributes
    attributes_found: int = 0
    clean: int = 0  # photos labelled with no attribute
    clean_with_attribute: int = 0
    confusion: Counter = field(default_factory=Counter)  # (expected, read) -> hands
    errors: list[dict] = field(default_factory=list)  # a few wrong readings, for the curious

    @staticmethod
    def _rate(n: int, d: int) -> float | None:
        return n / d if d else None

    @property
    def recall(self):
        return self._rate(self.found, self.hands)

    @property
    def fingers_accuracy(self):
        return self._rate(self.fingers_exact, self.fingers_total)

    @property
    def count_accuracy(self):
        return self._rate(self.count_right, self.count_total)

    @property
    def gesture_accuracy(self):
        return self._rate(self.gesture_right, self.gesture_total)

    @property
    def negatives_flag_rate(self):
        return self._rate(self.negatives_flagged, self.negatives)

    def add(self, other: SetScore) -> None:
        for name in (
            "images",
            "hands",
            "found",
            "fingers_total",
            "fingers_exact",
            "count_total",
            "count_right",
            "gesture_total",
            "gesture_right",
            "negatives",
            "negatives_flagged",
            "negatives_reviewed",
            "attributes",
            "attributes_found",
            "clean",
            "clean_with_attribute",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.confusion.update(other.confusion)

    def confusions(self, top: int = 3) -> list[tuple[str, str, int]]:
        """The most common wrong readings: (expected, read, hands)."""
        wrong = [(e, r, n) for (e, r), n in self.confusion.items() if e != r]
        return sorted(wrong, key=lambda x: (-x[2], x[0], x[1]))[:top]

    def to_dict(self) -> dict:
        def r(v):
            return None if v is None else round(v, 4)

        return {
            "images": self.images,
            "hands": self.hands,
            "found": self.found,
            "hand_recall": r(self.recall),
            "fingers_labelled": self.fingers_total,
            "fingers_exact": r(self.fingers_accuracy),
            "count_labelled": self.count_total,
            "count_accuracy": r(self.count_accuracy),
            "gesture_labelled": self.gesture_total,
            "gesture_accuracy": r(self.gesture_accuracy),
            "negatives": self.negatives,
            "negatives_flagged": self.negatives_flagged,
            "negatives_reviewed": self.negatives_reviewed,
            "negatives_flag_rate": r(self.negatives_flag_rate),
            "attributes": self.attributes,
            "attribute_recall": r(self._rate(self.attributes_found, self.attributes)),
            "clean": self.clean,
            "clean_with_attribute": self.clean_with_attribute,
            "false_attribute_rate": r(self._rate(self.clean_with_attribute, self.clean)),
            "confusions": [{"expected": e, "read": g, "hands": n} for e, g, n in self.confusions(10)],
            "errors": self.errors,
        }


MISSED = "(missed)"
KEEP_ERRORS = 20


def score_attributes(score: SetScore, label: Label, found: list) -> None:
    """Add one image's attributes (`Attribute`s read from it) to its set's counts."""
    if label.attributes is None:
        return
    if not label.attributes:
        score.clean += 1
        score.clean_with_attribute += bool(found)
    for want in label.attributes:
        score.attributes += 1
        score.attributes_found += any(
            a.kind == want.get("kind", a.kind) and a.ballot == want["ballot"] and box_iou(a.box, want["box"]) > 0
            for a in found
        )


def score_image(score: SetScore, label: Label, verdict) -> None:
    """Add one image's result (`verdict` from `judge`) to its set's counts."""
    readings = verdict.hands
    score.images += 1
    if label.kind == "negative":
        score.negatives += 1
        score.negatives_flagged += verdict.verdict == "flag"
        score.negatives_reviewed += verdict.verdict == "review"
    matches = match_hands(label.hands, [r.hand.box for r in readings])
    for hand, j in zip(label.hands, matches):
        reading = readings[j] if j is not None else None
        score.hands += 1
        score.found += reading is not None
        wrong = False
        if hand.fingers is not None:
            score.fingers_total += 1
            ok = reading is not None and reading.fingers.pattern == hand.fingers
            score.fingers_exact += ok
            wrong |= not ok
        count = hand.count if hand.count is not None else (hand.fingers.count("1") if hand.fingers else None)
        if count is not None:
            score.count_total += 1
            ok = reading is not None and reading.count == count
            score.count_right += ok
            wrong |= not ok
        expected = expected_gesture(hand)
        if expected is not None:
            read = reading.gesture.name if reading is not None else MISSED
            score.gesture_total += 1
            score.gesture_right += read == expected
            score.confusion[(expected, read)] += 1
        if wrong and len(score.errors) < KEEP_ERRORS:
            score.errors.append(
                {
                    "path": label.path,
                    "fingers": hand.fingers,
                    "count": count,
                    "read": reading.fingers.pattern if reading is not None else None,
                }
            )


@dataclass
class Evaluation:
    labels: str
    backend: str
    election: str
    sets: dict[str, SetScore]

    @property
    def total(self) -> SetScore:
        total = SetScore("all")
        for s in self.sets.values():
            total.add(s)
        return total

    def to_dict(self) -> dict:
        return {
            "labels": self.labels,
            "backend": self.backend,
            "election": self.election,
            "sets": {k: v.to_dict() for k, v in self.sets.items()},
            "all": {k: v for k, v in self.total.to_dict().items() if k != "errors"},
        }


def select(labels: list[Label], sets: Iterable[str] | None = None, limit: int | None = None) -> list[Label]:
    """Labels of the chosen sets (all if None), at most `limit` per set, in file order."""
    wanted = set(sets) if sets else None
    taken: Counter = Counter()
    out = []
    for label in labels:
        if wanted is not None and label.set not in wanted:
            continue
        if limit is not None and taken[label.set] >= limit:
            continue
        taken[label.set] += 1
        out.append(label)
    return out


def evaluate(
    labels_path: str | Path,
    detector,
    election,
    *,
    sets: Iterable[str] | None = None,
    limit: int | None = None,
    batch: int = 8,
    backend: str = "",
    progress: Callable[[int], None] | None = None,
    by: str = "set",
    text=None,
    symbols=None,
) -> Evaluation:
    """Run `detector` (an object with `detect_hands(images)`) and `judge` over the labelled images.

    Images are read relative to the labels file. `progress(n)` is called after every n images.
    `by` groups the rows: "set" (default), or for rendered photos "skin", "rotation" or "gesture"
    (the fairness and robustness tables). `text`: a `TextReader` to score labelled attributes with
    (images labelled with `attributes` only); `symbols`: a `SymbolMatcher` to score them with party
    symbols too (either, or both). Raises LabelsError for a bad labels file; an image
    that cannot be loaded counts as found nothing (every labelled hand in it missed).
    """
    from gesture_audit.judge.verdict import judge
    from gesture_audit.load import ImageLoadError, load_image

    labels_path = Path(labels_path)
    chosen = select(read_labels(labels_path), sets, limit)
    root = labels_path.parent
    scores: dict[str, SetScore] = {}
    from gesture_audit.judge.attributes import read_attributes, symbol_attributes

    cache: dict[str, list] = {}  # a photo listed twice is detected once
    attributes: dict[str, list] = {}
    for start in range(0, len(chosen), batch):
        group = chosen[start : start + batch]
        todo = list(dict.fromkeys(lb.path for lb in group if lb.path not in cache))
        images, ok = [], []
        for rel in todo:
            try:
                images.append(load_image(root / rel))
                ok.append(rel)
            except ImageLoadError:
                cache[rel] = []
        if images:
            for rel, hands in zip(ok, detector.detect_hands(images)):
                cache[rel] = hands
            if text is not None or symbols is not None:
                labelled = {lb.path for lb in group if lb.attributes is not None}
                for rel, image in zip(ok, images):
                    if rel in labelled:
                        attributes[rel] = (read_attributes(text.read([image])[0], election) if text else []) + (
                            symbol_attributes(symbols.match(image), election) if symbols else []
                        )
        for label in group:
            key = str(getattr(label, by, None) or "?")
            score = scores.setdefault(key, SetScore(key))
            score_image(score, label, judge(cache[label.path], election))
            if text is not None or symbols is not None:
                score_attributes(score, label, attributes.get(label.path, []))
        if progress:
            progress(len(group))
    if by in ("skin", "rotation"):  # tone1..tone6, 0-30° .. 120-180°: in their natural order
        scores = dict(sorted(scores.items(), key=lambda kv: _natural(kv[0])))
    return Evaluation(str(labels_path), backend, election.name, scores)


def _natural(key: str) -> tuple:
    """ "tone2" before "tone10", "30-60°" before "120-180°"."""
    import re

    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key))


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def table(evaluation: Evaluation):
    """A rich Table: one row per set and a total, then the commonest gesture confusions per set."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    t = Table(
        title=f"gesture-audit eval: {evaluation.backend or 'engine'} engine, {evaluation.election}",
        caption="% end to end: a missed hand counts as wrong; – = nothing labelled",
    )
    rows = list(evaluation.sets.values()) + [evaluation.total]
    with_attributes = any(s.attributes or s.clean for s in rows)
    for name in ("set", "images", "hands", "recall", "fingers", "count", "gesture", "neg. flagged") + (
        ("attributes", "false attr.") if with_attributes else ()
    ):
        t.add_column(name, justify="left" if name == "set" else "right")
    for i, s in enumerate(rows):
        neg = f"{s.negatives_flagged}/{s.negatives}" if s.negatives else "–"
        extra = (
            (
                f"{s.attributes_found}/{s.attributes}" if s.attributes else "–",
                f"{s.clean_with_attribute}/{s.clean}" if s.clean else "–",
            )
            if with_attributes
            else ()
        )
        t.add_row(
            s.name,
            str(s.images),
            str(s.hands),
            _pct(s.recall),
            _pct(s.fingers_accuracy),
            _pct(s.count_accuracy),
            _pct(s.gesture_accuracy),
            neg,
            *extra,
            end_section=(i == len(rows) - 2),
        )
    lines = [
        f"{s.name}: " + ", ".join(f"{e}→{r} ×{n}" for e, r, n in s.confusions(4))
        for s in evaluation.sets.values()
        if s.confusions(1)
    ]
    if not lines:
        return t
    return Group(t, Text("gesture confusions (expected→read ×hands)", style="bold"), Text("\n".join(lines)))
