"""`Render`: a synthetic photo and its ground truth; `render_hand`, `render_group`, `render_empty`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gesture_audit.synth import scene, skeleton, surface
from gesture_audit.synth.gestures import BACK_SHARE, BACK_SHARE_DEFAULT, GESTURES, ORIENTATION, pose_for, resolve
from gesture_audit.synth.hand import PlacedHand, draw_hand, orientation
from gesture_audit.synth.surface import SKIN_TONES, Light

HANDEDNESS = ("left", "right")
LABEL_KEYS = ("fingers", "count", "gesture", "box", "skin", "rotation", "handedness")


@dataclass
class Render:
    """A rendered photo and the truth about every hand in it.

    `image` is RGB uint8 as decoded from `jpeg` (the file the CLI writes). Each hand is a dict:
    `fingers` (thumb..pinky, 1 = extended), `count`, `gesture` (a name from `GESTURES` or None),
    `box` [x0, y0, x1, y1] in pixels around the hand without the forearm, `joints` (21, 2) pixel
    coordinates in MediaPipe's order, `skin` (tone1..tone6), `handedness` (the person's own hand),
    `rotation` (degrees counter-clockwise from the gesture's usual orientation, see
    `gestures.ORIENTATION`: wrist down for most, the thumb pointing up / down for thumb_up /
    thumb_down), `facing` ("palm" or "back" toward the camera), and `pitch` / `yaw` (degrees the
    hand is turned out of the image plane, before a gesture's own turn). Only the keys of the dev
    set's labels go into `label()`.
    """

    image: np.ndarray
    hands: list[dict] = field(default_factory=list)
    kind: str = "hand"  # "hand" (one hand fills the photo), "scene" (a group), "negative" (no hand)
    jpeg: bytes = b""
    people: int = 0  # torsos with heads drawn (behind a single hand: 0 or 1)

    def label(self, path: str) -> dict:
        """The line describing this photo in a labels.jsonl of the dev set's format."""
        return {
            "path": path,
            "set": "synth",
            "source": "gesture-audit synth",
            "license": "Apache-2.0",
            "kind": self.kind,
            "hands": [{k: h[k] for k in LABEL_KEYS} for h in self.hands],
            "identity": None,
        }


def _choose(value, options, name: str, rng: np.random.Generator):
    if value is None:
        return options[int(rng.integers(len(options)))]
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; known: {', '.join(options)}")
    return value


def _angle_up(vec2: np.ndarray) -> float:
    """Counter-clockwise degrees that turn an image-frame 2D vector to point straight up."""
    return 90.0 - float(np.degrees(np.arctan2(-vec2[1], vec2[0])))


def _pose_hand(
    fingers: str,
    gesture: str | None,
    handedness: str,
    facing: str,
    rot_extra: float,
    pitch: float,
    yaw: float,
    rng: np.random.Generator,
    thumb: str | None = None,
) -> PlacedHand:
    """A posed hand turned the gesture's usual way up, then by `rot_extra` degrees (scale 1, at 0)."""
    shape = skeleton.HandShape.random(rng)
    pose = pose_for(fingers, gesture, shape, rng, thumb)
    joints = skeleton.joints(pose, shape)
    how = ORIENTATION.get(gesture, "upright")
    # Turning toward the thumb side is a positive yaw for a right palm, negative when mirrored.
    side = (1.0 if handedness == "right" else -1.0) * (1.0 if facing == "palm" else -1.0)
    if how in ("circle", "heart"):  # turned 20 degrees, never so far that the palm is seen edge-on
        yaw = float(np.clip(yaw + side * 20.0, -40.0, 40.0))
    base = orientation(handedness, facing, 0.0, pitch, yaw)
    if how.startswith("thumb"):
        ref = joints[4] - joints[2]
    elif how == "heart":
        ref = (joints[4] + joints[8]) / 2 - joints[0]
    else:
        ref = joints[9] - joints[0]
    roll = _angle_up((ref @ base.T)[:2])
    if how == "thumb_down":
        roll += 180.0
    elif how == "tilt":
        roll += rng.choice([-1.0, 1.0]) * rng.uniform(12.0, 30.0)
    rot = orientation(handedness, facing, roll + rot_extra, pitch, yaw)
    return PlacedHand(joints, pose, shape, rot, 1.0, np.zeros(3))


def _forearm(hand: PlacedHand, rng: np.random.Generator) -> np.ndarray:
    """Unit image-frame direction from the wrist to the elbow, bent a little at the wrist, never
    pointing so far toward or away from the camera that the forearm vanishes."""
    dev, ext = np.radians(rng.uniform(-15, 15)), np.radians(rng.uniform(-25, 25))
    local = np.array([np.sin(dev), -np.cos(dev) * np.cos(ext), np.cos(dev) * np.sin(ext)])
    d = hand.direction(local)
    flat = np.hypot(d[0], d[1])
    if flat < 0.6:
        d[:2] *= 0.6 / max(flat, 1e-3)
        d[2] = np.sign(d[2]) * 0.8
    return d / np.linalg.norm(d)


def _extent(hand: PlacedHand, margin_mm: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    p = hand.joints @ hand.rot.T
    return p.min(0)[:2] - margin_mm, p.max(0)[:2] + margin_mm


def _hand_record(fingers, gesture, drawn, skin, handedness, rotation_deg, facing, pitch, yaw) -> dict:
    return {
        "fingers": fingers,
        "count": fingers.count("1"),
        "gesture": gesture,
        "box": [round(v, 1) for v in drawn.box],
        "joints": drawn.joints.astype(np.float32),
        "skin": skin,
        "handedness": handedness,
        "rotation": round(float(rotation_deg), 1),
        "facing": facing,
        "pitch": round(float(pitch), 1),
        "yaw": round(float(yaw), 1),
    }


def _finish(canvas: np.ndarray, rng: np.random.Generator, quality: int | None, hands, kind, people) -> Render:
    rgb = scene.camera(canvas, rng)
    q = int(rng.integers(60, 96)) if quality is None else int(quality)
    data, decoded = scene.jpeg(rgb, q)
    return Render(decoded, hands, kind, data, people)


def render_hand(
    fingers: str | None = None,
    gesture: str | None = None,
    *,
    rng: np.random.Generator,
    size: tuple[int, int] = (256, 256),
    skin: str | None = None,
    handedness: str | None = None,
    rotation: float | None = None,
    facing: str | None = None,
    quality: int | None = None,
    thumb: str | None = None,
    turn: float | None = None,
) -> Render:
    """One hand showing `fingers` (e.g. "01100") or `gesture` (a name from `GESTURES`), in front of
    a person and a cluttered background, with its forearm reaching the frame edge.

    Unset options are drawn from `rng`: skin from `SKIN_TONES`, handedness, rotation (uniform within
    +-60 degrees of the gesture's usual orientation), facing (the back of the hand 20 % of the time,
    see `gestures.BACK_SHARE`), JPEG quality 60-95. `thumb` "rest" / "tuck" places a folded thumb
    along the index finger / the fist (`gestures.THUMB_POSES`); `turn` (degrees) turns the hand
    out of the image plane toward its thumb side instead of the usual -30..30 (a thumbs-up seen
    from the side).
    Raises ValueError for an unknown gesture, skin, handedness or malformed fingers.
    """
    fingers, gesture = resolve(fingers, gesture)
    skin = _choose(skin, list(SKIN_TONES), "skin tone", rng)
    handedness = _choose(handedness, list(HANDEDNESS), "handedness", rng)
    if facing is None:
        facing = "back" if rng.random() < BACK_SHARE.get(gesture, BACK_SHARE_DEFAULT) else "palm"
    facing = _choose(facing, ["palm", "back"], "facing", rng)
    rot_extra = float(rng.uniform(-60, 60)) if rotation is None else float(rotation)
    w, h = size
    unit = min(w, h)
    light = Light.random(rng)
    pitch, yaw = float(rng.uniform(-20, 15)), float(rng.uniform(-30, 30))
    if turn is not None:  # toward the thumb side: + for a right palm, mirrored otherwise
        yaw = float(turn) * (1.0 if handedness == "right" else -1.0) * (1.0 if facing == "palm" else -1.0)
    hand = _pose_hand(fingers, gesture, handedness, facing, rot_extra, pitch, yaw, rng, thumb)
    lo, hi = _extent(hand)
    # Wrist to middle fingertip is 40-65 % of the frame, unless the pose would then not fit.
    length = 185.0 * hand.shape.size
    hand.scale = float(min(rng.uniform(0.4, 0.65) * unit / length, 0.85 * unit / max(hi - lo)))
    lo, hi = lo * hand.scale, hi * hand.scale
    margin = 0.08 * unit
    ox = rng.uniform(margin - lo[0], max(w - margin - hi[0], margin - lo[0] + 1))
    oy = rng.uniform(margin - lo[1], max(h - margin - hi[1], margin - lo[1] + 1))
    hand.origin = np.array([ox, oy, 0.0])

    canvas = scene.background(rng, w, h)
    people = 0
    if rng.random() < 0.85:
        # The person holding the hand up, further back; the hand is beside the face or in front of
        # the body, not over the face (a face behind a hand of the same skin is another problem).
        ps = hand.scale * rng.uniform(0.4, 0.75)
        box = np.concatenate([hand.origin[:2] + lo, hand.origin[:2] + hi])
        for _ in range(10):
            cx, sy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.45, 0.95) * h
            head = np.array([cx, sy - 235 * ps])
            gap = np.maximum(np.maximum(box[:2] - head, head - box[2:]), 0)
            if np.hypot(*gap) > 90 * ps:
                scene.draw_person(canvas, rng, cx, sy, ps, skin, light, arms="down")
                people = 1
                break
    canvas = scene.depth_of_field(canvas, rng.uniform(0.002, 0.01) * unit)
    _keep_contrast(canvas, np.concatenate([hand.origin[:2] + lo, hand.origin[:2] + hi]), skin)

    direction = _forearm(hand, rng)
    wrist = hand.forearm_start()
    flat = np.hypot(*direction[:2])
    exits = [((w if d > 0 else 0) - p) / d for p, d in zip(wrist[:2], direction[:2]) if abs(d) > 1e-6]
    reach = min(e for e in exits if e > 0) if any(e > 0 for e in exits) else unit
    elbow = wrist + direction / flat * (reach + 60 * hand.scale)
    arm_px = float(np.linalg.norm((elbow - wrist)[:2]))
    sleeve = None
    if rng.random() < 0.5:
        sleeve = max(float(rng.uniform(0.35, 0.9)), min(70 * hand.scale / max(arm_px, 1), 0.95))
    drawn = draw_hand(
        canvas,
        hand,
        skin=skin,
        light=light,
        rng=rng,
        elbow=elbow,
        sleeve_from=sleeve,
        sleeve_color=scene.color(rng),
        shadow_on_background=rng.uniform(0.15, 0.4),
    )
    record = _hand_record(fingers, gesture, drawn, skin, handedness, rot_extra, facing, pitch, yaw)
    return _finish(canvas, rng, quality, [record], "hand", people)


def _keep_contrast(canvas: np.ndarray, box, skin: str, gap: float = 0.22) -> None:
    """Brighten or darken the backdrop when, behind the hand, it is nearly as bright as the skin,
    so that the renders test how a hand looks rather than camouflage."""
    h, w = canvas.shape[:2]
    x0, y0, x1, y1 = (int(np.clip(v, 0, lim)) for v, lim in zip(box, (w, h, w, h)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    bg = surface.luminance(canvas[y0:y1, x0:x1])
    back, palm = SKIN_TONES[skin]
    sk = 0.8 * surface.luminance((np.array(back, np.float32) + np.array(palm, np.float32)) / 510.0)
    if abs(bg - sk) >= gap:
        return
    if sk + gap <= 0.95 and (sk < 0.5 or sk - gap < 0.05):
        k = (1 - (sk + gap)) / max(1 - bg, 1e-3)
        canvas[:] = 1 - (1 - canvas) * k
    else:
        canvas *= (sk - gap) / max(bg, 1e-3)


def render_group(
    k: int,
    rng: np.random.Generator,
    size: tuple[int, int] = (1600, 1000),
    *,
    fingers: str | None = None,
    gesture: str | None = None,
    skin: str | None = None,
    quality: int | None = None,
) -> Render:
    """`k` people side by side, each raising one or two hands; every hand shows `fingers` /
    `gesture`, or a random gesture from the vocabulary when both are None. Skin tones vary per
    person unless `skin` is given. Hands that would overlap another are left down (not drawn)."""
    if k < 1:
        raise ValueError("a group needs at least one person")
    given = resolve(fingers, gesture) if fingers is not None or gesture is not None else None
    if skin is not None:
        _choose(skin, list(SKIN_TONES), "skin tone", rng)
    w, h = size
    light = Light.random(rng)
    canvas = scene.depth_of_field(scene.background(rng, w, h), rng.uniform(1.0, 3.0))
    slot = w / k
    s = min(0.62 * slot / 400.0, 0.2 * h / 230.0)
    people = []
    for i in range(k):
        cx = (i + 0.5) * slot + rng.uniform(-0.08, 0.08) * slot
        ps = s * rng.uniform(0.9, 1.05)
        shoulder_y = min(h - rng.uniform(330, 470) * ps, h * 0.95)
        shoulder_y = max(shoulder_y, 330 * ps + 0.03 * h)
        tone = skin or _choose(None, list(SKIN_TONES), "skin tone", rng)
        n_hands = 1 if rng.random() < 0.65 else 2
        sides = [-1, 1] if n_hands == 2 else [int(rng.choice([-1, 1]))]
        people.append((cx, shoulder_y, ps, tone, sides))
    drawn_people = []
    for cx, shoulder_y, ps, tone, sides in people:
        arms = ("none" if -1 in sides else "down", "none" if 1 in sides else "down")
        drawn_people.append(scene.draw_person(canvas, rng, cx, shoulder_y, ps, tone, light, arms=arms))
    hands, boxes = [], list[np.ndarray]()
    for (cx, shoulder_y, ps, tone, sides), person in zip(people, drawn_people):
        for side in sides:
            f, g = given or resolve(None, _choose(None, list(GESTURES), "", rng))
            handedness = "right" if side < 0 else "left"  # facing the camera: their right is our left
            shoulder = person["shoulders"][0 if side < 0 else 1]
            for attempt in range(12):
                rot_extra = float(rng.uniform(-30, 30))
                facing = "back" if rng.random() < BACK_SHARE.get(g, BACK_SHARE_DEFAULT) else "palm"
                pitch, yaw = float(rng.uniform(-20, 15)), float(rng.uniform(-30, 30))
                hand = _pose_hand(f, g, handedness, facing, rot_extra, pitch, yaw, rng)
                hand.scale = ps * rng.uniform(1.0, 1.15)
                reach = rng.uniform(170, 270) if attempt < 6 else rng.uniform(60, 170)  # then in front of the chest
                hand.origin = np.array([cx + side * reach * ps, shoulder_y - rng.uniform(40, 250) * ps, 150 * ps])
                lo, hi = _extent(hand)
                box = np.concatenate([hand.origin[:2] + lo * hand.scale, hand.origin[:2] + hi * hand.scale])
                inside = box[0] >= 2 and box[1] >= 2 and box[2] <= w - 2 and box[3] <= h - 2
                if inside and all(_overlap(box, b) < 0.05 for b in boxes):
                    break
            else:
                continue
            boxes.append(box)
            elbow = hand.forearm_start() + _forearm(hand, rng) * 250 * hand.scale
            sleeve = float(rng.uniform(0.3, 0.9)) if rng.random() < 0.6 else None
            drawn = draw_hand(
                canvas,
                hand,
                skin=tone,
                light=light,
                rng=rng,
                elbow=elbow,
                shoulder=shoulder,
                sleeve_from=sleeve,
                sleeve_color=person["shirt"],
                shadow_on_background=0.0,
            )
            hands.append(_hand_record(f, g, drawn, tone, handedness, rot_extra, facing, pitch, yaw))
    return _finish(canvas, rng, quality, hands, "scene", k)


def _overlap(a, b) -> float:
    """Intersection over the smaller box."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / max(small, 1e-6)


def render_empty(
    rng: np.random.Generator,
    size: tuple[int, int] = (640, 480),
    *,
    people: int | None = None,
    quality: int | None = None,
) -> Render:
    """A scene with people (arms down or crossed, hands out of sight) and clutter, and no hand."""
    w, h = size
    light = Light.random(rng)
    canvas = scene.depth_of_field(scene.background(rng, w, h), rng.uniform(0.5, 2.5))
    n = int(rng.integers(1, 5)) if people is None else people
    for i in range(n):
        slot = w / max(n, 1)
        s = min(0.6 * slot / 400.0, 0.22 * h / 230.0) * rng.uniform(0.8, 1.1)
        shoulder_y = max(min(h - rng.uniform(250, 420) * s, h * 0.95), 330 * s + 0.03 * h)
        scene.draw_person(
            canvas,
            rng,
            (i + 0.5) * slot + rng.uniform(-0.1, 0.1) * slot,
            shoulder_y,
            s,
            _choose(None, list(SKIN_TONES), "", rng),
            light,
            arms="crossed" if rng.random() < 0.4 else "down",
        )
    return _finish(canvas, rng, quality, [], "negative", n)


CLASPS = ("handshake", "grip")


def render_clasp(
    rng: np.random.Generator,
    size: tuple[int, int] = (640, 480),
    *,
    kind: str | None = None,
    skin: str | None = None,
    quality: int | None = None,
) -> Render:
    """Two hands holding each other and showing no sign: a photo that must not be flagged.

    "handshake": two people's right hands meeting from either side, seen from the side, fingers
    wrapped round the other's hand. "grip": one person's hands folded in front of the body, one
    hand's fingers wrapped round the other fist. The photo's kind is "negative"; `hands` records the
    drawn hands with `fingers` None (holding, not showing a number).
    """
    kind = _choose(kind, list(CLASPS), "clasp", rng)
    w, h = size
    unit = min(w, h)
    light = Light.random(rng)
    canvas = scene.depth_of_field(scene.background(rng, w, h), rng.uniform(0.002, 0.01) * unit)
    tones = [_choose(skin, list(SKIN_TONES), "skin tone", rng) for _ in range(2)]
    if kind == "grip":  # one person's two hands
        tones[1] = tones[0]
    scale = rng.uniform(0.3, 0.5) * unit / 185.0  # px per mm: a hand 30-50 % of the frame
    centre = np.array([rng.uniform(0.35, 0.65) * w, rng.uniform(0.4, 0.65) * h, 0.0])
    tilt = float(rng.uniform(-20, 20))
    hands = []
    if kind == "handshake":
        # The image-right person's hand, palm toward the camera and behind; then the image-left
        # person's, its back to the camera, in front: palms together, thumbs on top.
        placements = [
            ("palm", 90.0 + tilt, np.array([55.0, 0.0, -40.0])),
            ("back", -90.0 + tilt, np.array([-55.0, 0.0, 40.0])),
        ]
        wrap = ([25.0, 45.0, 25.0], [45.0, 65.0, 40.0])
    else:
        # The fist held (right, back to the camera, fingers across), then the left hand over it.
        placements = [
            ("back", -70.0 + tilt, np.array([15.0, 10.0, -30.0])),
            ("back", 70.0 + tilt, np.array([-15.0, -5.0, 30.0])),
        ]
        wrap = ([40.0, 60.0, 35.0], [70.0, 90.0, 55.0])
    for i, (facing, roll, offset) in enumerate(placements):
        handedness = "right" if kind == "handshake" or i == 0 else "left"
        shape = skeleton.HandShape.random(rng)
        flex = rng.uniform(*wrap, size=(4, 3))
        spread = skeleton.SPREAD_FOLDED + rng.normal(0.0, 1.5, 4)
        pose = skeleton.Pose(flex, spread, np.zeros(5), 0.3)
        pose.thumb = rng.uniform([5, 15, 20, 0, 0], [25, 35, 50, 15, 15])  # along the other hand
        rot = orientation(handedness, facing, roll, float(rng.uniform(-15, 15)), float(rng.uniform(-20, 20)))
        hand = PlacedHand(skeleton.joints(pose, shape), pose, shape, rot, scale, np.zeros(3))
        # the palm's middle (40 mm up the hand) at the meeting point, shifted by `offset` (mm, image axes)
        hand.origin = centre + offset * scale - hand.direction([0.0, 40.0 * shape.size, 0.0]) * scale
        direction = hand.direction([0.0, -1.0, 0.0])
        direction[:2] /= max(np.hypot(*direction[:2]), 1e-6)
        elbow = hand.forearm_start() + direction * unit
        drawn = draw_hand(
            canvas,
            hand,
            skin=tones[i],
            light=light,
            rng=rng,
            elbow=elbow,
            sleeve_from=float(rng.uniform(0.3, 0.6)),
            sleeve_color=scene.color(rng),
            shadow_on_background=0.0,
        )
        hands.append(
            {
                "fingers": None,
                "count": None,
                "gesture": None,
                "box": [round(v, 1) for v in drawn.box],
                "joints": drawn.joints.astype(np.float32),
                "skin": tones[i],
                "handedness": handedness,
                "rotation": round(roll, 1),
                "facing": facing,
                "pitch": 0.0,
                "yaw": 0.0,
                "clasp": kind,
            }
        )
    return _finish(canvas, rng, quality, hands, "negative", 0)
