"""The audit's results as typed values: `Finding` (one findings.jsonl line), `HandResult`, `FaceResult`.

Everything inside the package passes these dataclasses around; they become JSON only at the edges
(`to_dict`: the findings writer, `check --json`, the service, Ray) and come back with `from_dict`
(a findings.jsonl read by `report` or `--resume`). This module imports nothing from the pipeline,
so every layer, and every report module, may use it without pulling in the `Auditor`.

Schema versions (`SCHEMA_VERSION`, the `schema` key of each line and of scan.json):
  1  (lines without a `schema` key) the first form
  2  each line says `"schema": 2`; nothing else changed in the line
Lines of an older version read as before; keys a version does not know are kept (`extra`), so a
line written by a newer version survives a read and write by this one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

from gesture_audit.i18n import Message

if TYPE_CHECKING:
    from gesture_audit.i18n import Translator

SCHEMA_VERSION = 2

Status = Literal["ok", "error", "skipped"]
VerdictName = Literal["flag", "review", "clear"]
STATUSES: tuple[str, ...] = get_args(Status)
VERDICTS: tuple[str, ...] = get_args(VerdictName)
# The verdicts from mildest to most serious: the one order every stage and the report sort by.
VERDICT_ORDER: tuple[str, ...] = ("clear", "review", "flag")


def worse(a: str, b: str) -> str:
    """The more serious of two verdicts."""
    return a if VERDICT_ORDER.index(a) >= VERDICT_ORDER.index(b) else b


class _Record:
    """A result dataclass with `to_dict`/`from_dict` for its JSON object.

    `from_dict` keeps keys it does not know in `extra` (written back by `to_dict`); the fields in
    `OPTIONAL` are left out of the JSON when None. `get`/`[key]` read the JSON view by key, for
    callers written against the JSON objects (`hand["ballot"]`, `hand.get("person")`)."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "extra" or (value is None and f.name in self.OPTIONAL):
                continue
            out[f.name] = value
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        known = {f.name for f in fields(cls)} - {"extra"}  # type: ignore[arg-type]
        return cls(
            **{k: v for k, v in data.items() if k in known},
            **{"extra": {k: v for k, v in data.items() if k not in known}},
        )

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]


@dataclass
class HandResult(_Record):
    """One judged hand, in pixels of the EXIF-upright full-size image (see findings.schema.json)."""

    OPTIONAL: ClassVar[tuple[str, ...]] = (
        "presence",
        "handedness_score",
        "finger_confidence",
        "risk",
        "combined_with",
        "other_reading",
    )

    box: list[float]
    score: float
    handedness: Literal["left", "right"]
    landmarks: list[list[float]]
    fingers: str  # thumb..pinky, "1" = extended
    count: int
    gesture: str | None
    ballot: int | None
    confidence: float
    presence: float | None = None
    handedness_score: float | None = None
    person: int | None = None
    finger_confidence: list[float] | None = None
    number: int | None = None
    risk: float | None = None
    combined_with: int | None = None
    other_reading: dict[str, Any] | None = None  # fingers, gesture, number
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.handedness not in ("left", "right"):
            raise ValueError(f"handedness must be 'left' or 'right', not {self.handedness!r}")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        # the key order of findings.jsonl since version 1: what the hand is, then how it was read
        order = (
            "box",
            "score",
            "presence",
            "handedness",
            "handedness_score",
            "landmarks",
            "person",
            "fingers",
            "finger_confidence",
            "count",
            "gesture",
            "number",
            "ballot",
            "confidence",
            "risk",
        )
        return {**{k: out.pop(k) for k in order if k in out}, **out}


@dataclass
class FaceResult(_Record):
    """One face found (only when the audit had a candidate gallery), matched against the gallery."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ()

    box: list[float]
    score: float
    candidate: str | None
    ballot: int | None
    distance: float | None
    nearest: str | None = None
    unmatched: Literal["too small", "below threshold", "matching off"] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finding:
    """What the audit found in one input: one line of findings.jsonl (see report/findings.schema.json).

    `path` is the input as given (a scan rewrites it relative to its root; None for bytes and
    arrays). `sha256` is the hash of the file's bytes (None for an array). With `status` "error"
    (could not be checked) or "skipped" (a folder scan found a file that is not a photo, see
    `load.is_photo`), `error` says why and `verdict`/`risk` are None. `hands` are the judged hands,
    in pixels of the EXIF-upright image of `width` × `height`. `faces` is present only when faces
    were looked for (an Auditor with a gallery), left to right. `post` is present only for a photo
    of a social-media export: the post it was part of (source, time, caption, link; see
    `gesture_audit.exports.Post`). A file name that is not valid UTF-8 (a zip made on Windows) is
    written with each undecodable byte as `\\xNN` in `path`, its raw bytes in hex in `path_hex`;
    `disk_path` is the name on disk again. `video` is present only for a video (see `Auditor`): its
    format, duration, the sampling, whether it was capped, the `keyframe` time the `hands` were seen
    at, and its `moments` (signs followed over time: start, end, keyframe, sign, ballot, verdict,
    risk, held). `schema` is the version of the line (see this module's docstring).
    """

    path: str | None
    sha256: str | None
    status: Status = "ok"
    error: str | None = None
    width: int | None = None
    height: int | None = None
    hands: list[HandResult] = field(default_factory=list)
    verdict: VerdictName | None = None
    risk: float | None = None
    reasons: list[Any] = field(default_factory=list)  # str or i18n.Message
    faces: list[FaceResult] | None = None
    post: dict[str, Any] | None = None
    path_hex: str | None = None  # only for a name that is not valid UTF-8 (see `path_form`)
    attributes: list[dict[str, Any]] | None = None
    video: dict[str, Any] | None = None
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS} or None, not {self.verdict!r}")
        self.hands = [h if isinstance(h, HandResult) else HandResult.from_dict(h) for h in self.hands]
        if self.faces is not None:
            self.faces = [f if isinstance(f, FaceResult) else FaceResult.from_dict(f) for f in self.faces]

    @classmethod
    def failed(cls, path: str | None, error: str, sha256: str | None = None) -> Finding:
        return cls(path=path, sha256=sha256, status="error", error=error)

    @classmethod
    def skip(cls, path: str | None, why: str) -> Finding:
        return cls(path=path, sha256=None, status="skipped", error=why)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def outcome(self) -> str:
        """What a count of files counts this one as: its verdict, "error" or "skipped"."""
        return self.verdict if self.ok and self.verdict is not None else self.status

    @property
    def disk_path(self) -> str | None:
        """`path` as the file system names it (undecodable bytes as surrogates, as `os.fsdecode` gives)."""
        return os.fsdecode(bytes.fromhex(self.path_hex)) if self.path_hex else self.path

    @property
    def flagged(self) -> bool:
        return self.verdict == "flag"

    @property
    def ballots(self) -> list[int]:
        """The ballot numbers in the photo, ascending, each once: those the hands point at, and
        those of the gallery candidates whose faces it shows."""
        marks: list[HandResult | FaceResult] = [*self.hands, *(f for f in self.faces or () if f.candidate)]
        return sorted({m.ballot for m in marks if m.ballot is not None})

    def to_dict(self, tr: Translator | None = None) -> dict[str, Any]:
        """The findings.jsonl object: `reasons` in English, or in `tr`'s language (the service, `check
        --json`); `reason_messages` keeps each reason's msgid and arguments (null for plain text), so
        that a report can be rendered in either language later."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["hands"] = [h.to_dict() for h in self.hands]
        if self.faces is not None:
            out["faces"] = [f.to_dict() for f in self.faces]
        out["reasons"] = [tr.text(r) if tr else str(r) for r in self.reasons]
        if any(isinstance(r, Message) for r in self.reasons):
            out["reason_messages"] = [r.to_dict() if isinstance(r, Message) else None for r in self.reasons]
        for optional in ("faces", "post", "path_hex", "attributes", "video"):
            if out[optional] is None:
                del out[optional]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of `to_dict`, for lines of every schema version; keys this version does not
        know are ignored. A line without `schema` is version 1."""
        known = {f.name for f in fields(cls)}
        finding = cls(**{"schema": 1, **{k: v for k, v in data.items() if k in known}})
        messages = data.get("reason_messages")
        if isinstance(messages, list) and len(messages) == len(finding.reasons):
            finding.reasons = [_message(m, r) for m, r in zip(messages, finding.reasons)]
        return finding


def _message(data: Any, text: str) -> Any:
    """A reason read back from findings.jsonl: its Message when that parses, else the text."""
    if isinstance(data, dict) and "msgid" in data:
        try:
            return Message.from_dict(data)
        except (KeyError, IndexError, ValueError, TypeError):
            pass
    return text


def path_form(path: str | os.PathLike | bytes) -> tuple[str, str | None]:
    """A file system path as findings.jsonl holds it: `(path, None)` when its bytes are UTF-8, else
    `(path with each undecodable byte as \\xNN, the raw bytes in hex)`. `Finding.disk_path` inverts it."""
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), raw.hex()
