"""Elections: which hand signs point at which ballot number, and how sure a verdict must be.

An election is a TOML file (the shipped ones in `elections/` beside this module, a template and the
format in `samples/elections/`); Pilpres 2024 ships with the package and is
the default. The file names the pairs of candidates by ballot number, says which signs read as
which number, which signs show support without a number, and holds the verdict thresholds:

    [election]
    name = "Pilpres 2024"

    [[pairs]]
    number = 2
    names = ["Prabowo Subianto", "Gibran Rakabuming Raka"]
    nicknames = ["Prabowo", "Gibran"]      # printed text that names the pair (optional)
    slogans = ["Bersama Indonesia Maju"]   # (optional)

    [signs]            # sign (gesture name) -> the number it shows
    v = 2

    [support]          # signs of support without a number -> why they matter (always review)
    finger_heart = "Korean finger heart, a support sign"

    [weights]          # how deliberate a sign looks, 0-1 (default 1): everyday signs weigh less
    five = 0.6

    [verdict]
    flag = 0.75        # risk at or above: flag
    review = 0.35      # risk at or above: review
    min_confidence = 0.7   # a hand read less surely than this never flags on its own
    combine_hands = true   # one person's two hands show one number: open palm + n = 5 + n

    [attributes]       # campaign material in the photo (printed numbers, names, symbols)
    alone = 0.5        # risk of an attribute on its own (review under the default thresholds)
    with_match = 0.9   # with a hand sign or a candidate of the same ballot in the photo (flag)
    min_confidence = 0.8   # text read less surely than this is ignored

Sign names are those of `gesture_audit.classify.gestures.GESTURES`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gesture_audit.classify.gestures import GESTURES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]  # a dependency below 3.11 only, absent here

PACKAGED = Path(__file__).resolve().parent / "elections"
DEFAULT = "pilpres-2024"


class ElectionError(ValueError):
    """An election file is missing or does not say what an election must say."""


@dataclass(frozen=True)
class Pair:
    """One ballot number and the candidates standing under it."""

    number: int
    names: tuple[str, ...]
    nicknames: tuple[str, ...] = ()
    slogans: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """ "02 Prabowo Subianto–Gibran Rakabuming Raka" """
        return f"{self.number:02d} " + "–".join(self.names) if self.names else f"{self.number:02d}"


@dataclass(frozen=True)
class Thresholds:
    flag: float = 0.75
    review: float = 0.35
    min_confidence: float = 0.7
    combine_hands: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.review <= self.flag <= 1:
            raise ElectionError(f"[verdict] needs 0 < review <= flag <= 1, got review={self.review}, flag={self.flag}")
        if not 0 <= self.min_confidence <= 1:
            raise ElectionError(f"[verdict] min_confidence must be within 0..1, got {self.min_confidence}")


@dataclass(frozen=True)
class AttributeRisk:
    """Risk weights of campaign attributes (printed text, symbols): `[attributes]`."""

    alone: float = 0.5
    with_match: float = 0.9
    min_confidence: float = 0.8

    def __post_init__(self) -> None:
        for key in ("alone", "with_match", "min_confidence"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ElectionError(f"[attributes] {key} must be a number within 0..1, not {value!r}")


@dataclass(frozen=True)
class Election:
    """What an audit under one election looks for (see the module docstring for the file)."""

    name: str
    pairs: dict[int, Pair]
    signs: dict[str, int]
    support: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    attributes: AttributeRisk = field(default_factory=AttributeRisk)
    description: str = ""
    source: str = ""

    def number_for(self, gesture: str) -> int | None:
        """The number a sign shows under this election, or None."""
        return self.signs.get(gesture)

    def pair(self, number: int | None) -> Pair | None:
        """The pair with this ballot number, or None (no such pair, or no number)."""
        return None if number is None else self.pairs.get(number)

    def weight(self, gesture: str) -> float:
        return self.weights.get(gesture, 1.0)

    def to_record(self) -> dict:
        """What a scan record and the report keep: name, source, ballot number -> names."""
        return {
            "name": self.name,
            "source": self.source,
            "ballots": {str(n): "–".join(p.names) for n, p in sorted(self.pairs.items())},
        }


def _number(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ElectionError(f"{where}: a ballot number is a whole number from 1, not {value!r}")
    return value


def _gesture(name: str, where: str) -> str:
    if name not in GESTURES:
        raise ElectionError(f"{where}: unknown sign {name!r}; known signs: {', '.join(GESTURES)}")
    return name


def parse_election(data: dict, source: str = "") -> Election:
    """An `Election` from the parsed TOML `data`; raises ElectionError naming what is wrong."""
    where = source or "election"
    head = data.get("election", {})
    name = head.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ElectionError(f"{where}: [election] needs a name")
    pairs: dict[int, Pair] = {}
    for i, entry in enumerate(data.get("pairs", [])):
        number = _number(entry.get("number"), f"{where}: [[pairs]] #{i + 1}")
        if number in pairs:
            raise ElectionError(f"{where}: ballot number {number} is listed twice under [[pairs]]")
        lists = {}
        for key in ("names", "nicknames", "slogans"):
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise ElectionError(f"{where}: [[pairs]] number {number}: {key} must be a list of strings")
            lists[key] = tuple(value)
        pairs[number] = Pair(number, **lists)
    if not pairs:
        raise ElectionError(f"{where}: no [[pairs]]: an election needs at least one ballot number")
    signs = {
        _gesture(g, f"{where}: [signs]"): _number(n, f"{where}: [signs] {g}") for g, n in data.get("signs", {}).items()
    }
    support = {_gesture(g, f"{where}: [support]"): str(why) for g, why in data.get("support", {}).items()}
    both = set(signs) & set(support)
    if both:
        raise ElectionError(f"{where}: {', '.join(sorted(both))} listed under both [signs] and [support]")
    weights = {}
    for g, w in data.get("weights", {}).items():
        _gesture(g, f"{where}: [weights]")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
            raise ElectionError(f"{where}: [weights] {g} must be a number within 0..1, not {w!r}")
        weights[g] = float(w)
    verdict = data.get("verdict", {})
    unknown = set(verdict) - {"flag", "review", "min_confidence", "combine_hands"}
    if unknown:
        raise ElectionError(f"{where}: [verdict] has unknown keys: {', '.join(sorted(unknown))}")
    for key in ("flag", "review", "min_confidence"):
        if key in verdict and (isinstance(verdict[key], bool) or not isinstance(verdict[key], (int, float))):
            raise ElectionError(f"{where}: [verdict] {key} must be a number, not {verdict[key]!r}")
    if not isinstance(verdict.get("combine_hands", True), bool):
        raise ElectionError(f"{where}: [verdict] combine_hands must be true or false")
    try:
        thresholds = Thresholds(**verdict)
    except ElectionError as e:
        raise ElectionError(f"{where}: {e}") from None
    attributes = data.get("attributes", {})
    unknown = set(attributes) - {"alone", "with_match", "min_confidence"}
    if unknown:
        raise ElectionError(f"{where}: [attributes] has unknown keys: {', '.join(sorted(unknown))}")
    try:
        risk = AttributeRisk(**attributes)
    except ElectionError as e:
        raise ElectionError(f"{where}: {e}") from None
    return Election(
        name=name.strip(),
        pairs=pairs,
        signs=signs,
        support=support,
        weights=weights,
        thresholds=thresholds,
        attributes=risk,
        description=str(head.get("description", "")),
        source=source,
    )


def packaged_elections() -> list[str]:
    """Names of the elections shipped with the package ("pilpres-2024", ...)."""
    return sorted(p.stem for p in PACKAGED.glob("*.toml"))


def load_election(path: str | os.PathLike | None = None) -> Election:
    """Load an election file; None means Pilpres 2024, and a bare name ("pilpres-2019") means
    the election of that name shipped with the package. Raises ElectionError."""
    if path is None:
        path = DEFAULT
    file = Path(path)
    if not file.is_file() and file.suffix == "" and file.name == str(path):
        packaged = PACKAGED / f"{path}.toml"
        if packaged.is_file():
            file = packaged
        else:
            raise ElectionError(
                f"no election file {str(path)!r} (shipped elections: {', '.join(packaged_elections())})"
            )
    if not file.is_file():
        raise ElectionError(f"election file {file} not found")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ElectionError(f"{file}: not valid TOML ({e})") from e
    source = f"{file.stem}" if file.parent == PACKAGED else str(file)
    return parse_election(data, source)
