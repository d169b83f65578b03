"""The hand skeleton: MediaPipe's 21 points, posed by joint angles.

Everything here is in the hand's own frame, millimetres, for a right hand: the base of the palm at
the origin (the wrist point sits a little above it, see WRIST), +y toward the fingers, +x toward
the thumb, +z out of the palm. A left hand is the mirror image (x -> -x), applied by the renderer.

Points: MediaPipe's topology (`detect.core.CHAINS`): 0 wrist, 1-4 thumb CMC/MCP/IP/TIP, 5-8 index
MCP/PIP/DIP/TIP, 9-12 middle, 13-16 ring, 17-20 pinky. Bone lengths follow adult hand anthropometry (wrist crease to middle fingertip about
185 mm) and MediaPipe's own world landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesture_audit.detect.core import CHAINS
from gesture_audit.detect.core import WRIST as TOPOLOGY_WRIST

# Finger joints index..pinky: MCP position, phalanx lengths (proximal, middle, distal to the tip)
# and surface radii at MCP, PIP, DIP and tip.
MCP = np.array([[23.0, 83.0, 0.0], [5.0, 87.0, 0.0], [-12.5, 82.0, 0.0], [-28.5, 73.0, 0.0]])
PHALANX = np.array([[39.0, 23.0, 21.0], [44.0, 27.0, 23.0], [41.0, 26.0, 22.0], [32.0, 19.0, 20.0]])
FINGER_RADIUS = np.array([[9.6, 8.4, 7.4, 6.4], [10.0, 8.8, 7.7, 6.7], [9.4, 8.2, 7.2, 6.3], [8.4, 7.3, 6.4, 5.6]])
THUMB_CMC = np.array([20.0, 24.0, 2.0])
THUMB_BONE = np.array([41.0, 32.0, 27.0])  # CMC-MCP, MCP-IP, IP-tip
THUMB_RADIUS = np.array([12.0, 10.4, 9.4, 8.0])
# Where MediaPipe puts two landmarks relative to the surfaces: the wrist point sits on the wrist
# crease, above the heel of the palm; a fingertip point sits inside the pad, short of the end.
WRIST = np.array([0.0, 10.0, 0.0])
TIP_INSET = 0.7  # fingertip radii

# Natural fan of extended fingers and the convergence of folded ones (degrees, + toward the thumb).
SPREAD_OPEN = np.array([7.0, 0.0, -7.0, -15.0])
SPREAD_FOLDED = np.array([-4.0, 0.0, 4.0, 9.0])
# Thumb angles, degrees: phi (metacarpal turned from +y toward +x), psi (out of the palm), gamma
# (which way it curls: 0 across the palm toward the little finger, 90 straight out of the palm),
# MCP flexion, IP flexion.
THUMB_LOW = np.array([-35.0, -10.0, -30.0, -5.0, -15.0])
THUMB_HIGH = np.array([105.0, 85.0, 85.0, 75.0, 85.0])


@dataclass
class HandShape:
    """One person's hand: overall size, finger length and width relative to the average adult."""

    size: float = 1.0
    finger_length: float = 1.0
    width: float = 1.0

    @classmethod
    def random(cls, rng: np.random.Generator) -> HandShape:
        return cls(float(rng.uniform(0.88, 1.08)), float(rng.uniform(0.93, 1.07)), float(rng.uniform(0.9, 1.12)))


@dataclass
class Pose:
    """Joint angles in degrees. `flex` rows are index..pinky (MCP, PIP, DIP); positive curls toward
    the palm. `spread` turns each finger about the palm normal. `thumb` is (phi, psi, gamma, MCP,
    IP), see THUMB_LOW.
    `arch` (0..1) brings the ring and pinky knuckles forward, as in a fist."""

    flex: np.ndarray
    spread: np.ndarray
    thumb: np.ndarray
    arch: float = 0.0


def finger_joints(finger: int, flex, spread: float, shape: HandShape, arch: float = 0.0) -> np.ndarray:
    """MCP, PIP, DIP and tip of finger 0..3 (index..pinky), shape (4, 3)."""
    mcp = MCP[finger] * [shape.width, 1.0, 1.0] + [0.0, 0.0, arch * (0.0, 0.0, 3.0, 7.0)[finger]]
    a = np.radians(spread)
    u = np.array([np.sin(a), np.cos(a), 0.0])
    n = np.array([0.0, 0.0, 1.0])
    theta = np.radians(np.cumsum(flex))
    lengths = PHALANX[finger] * shape.finger_length - [0.0, 0.0, TIP_INSET * FINGER_RADIUS[finger, 3]]
    pts = [mcp]
    for length, th in zip(lengths, theta):
        pts.append(pts[-1] + length * (np.cos(th) * u + np.sin(th) * n))
    return np.array(pts) * shape.size


def thumb_frame(phi: float, psi: float, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Metacarpal direction and the direction the thumb curls toward."""
    p, s, g = np.radians([phi, psi, gamma])
    d = np.array([np.sin(p) * np.cos(s), np.cos(p) * np.cos(s), np.sin(s)])
    across = np.array([-1.0, 0.1, 0.0])
    across -= across.dot(d) * d
    across /= np.linalg.norm(across)
    out = np.cross(d, across)
    if out[2] < 0:
        out = -out
    return d, np.cos(g) * across + np.sin(g) * out


def thumb_joints(angles, shape: HandShape) -> np.ndarray:
    """CMC, MCP, IP and tip of the thumb, shape (4, 3)."""
    phi, psi, gamma, mcp, ip = angles
    d, q = thumb_frame(phi, psi, gamma)
    bones = THUMB_BONE * shape.finger_length - [0.0, 0.0, TIP_INSET * THUMB_RADIUS[3]]
    pts = [THUMB_CMC * [shape.width, 1.0, 1.0]]
    for length, th in zip(bones, np.radians([0.0, mcp, mcp + ip])):
        pts.append(pts[-1] + length * (np.cos(th) * d + np.sin(th) * q))
    return np.array(pts) * shape.size


def joints(pose: Pose, shape: HandShape) -> np.ndarray:
    """The 21 MediaPipe points of a posed hand, shape (21, 3)."""
    out = np.zeros((21, 3))
    out[TOPOLOGY_WRIST] = WRIST * shape.size
    out[list(CHAINS[0])] = thumb_joints(pose.thumb, shape)
    for f in range(4):
        out[list(CHAINS[f + 1])] = finger_joints(f, pose.flex[f], pose.spread[f], shape, pose.arch)
    return out


def segment_frames(pose: Pose) -> np.ndarray:
    """Palmar direction (the side a segment curls toward) for the 15 phalanges, shape (5, 3, 3):
    thumb metacarpal/proximal/distal, then index..pinky proximal/middle/distal."""
    out = np.zeros((5, 3, 3))
    d, q = thumb_frame(*pose.thumb[:3])
    for k, th in enumerate(np.radians([0.0, pose.thumb[3], pose.thumb[3] + pose.thumb[4]])):
        out[0, k] = -np.sin(th) * d + np.cos(th) * q
    n = np.array([0.0, 0.0, 1.0])
    for f in range(4):
        a = np.radians(pose.spread[f])
        u = np.array([np.sin(a), np.cos(a), 0.0])
        for k, th in enumerate(np.radians(np.cumsum(pose.flex[f]))):
            out[f + 1, k] = -np.sin(th) * u + np.cos(th) * n
    return out


def solve_thumb(target: np.ndarray, prior, shape: HandShape, *, point: int = 3, iterations: int = 30) -> np.ndarray:
    """Thumb angles that bring thumb point `point` (3 = tip, 2 = IP) to `target`, staying near `prior`.

    Damped Gauss-Newton on the five angles with a numeric Jacobian; the prior term keeps the
    solution anatomically plausible when the target is out of reach.
    """
    x = np.clip(np.asarray(prior, float), THUMB_LOW, THUMB_HIGH)
    prior = x.copy()
    reg = 0.05  # mm per degree
    n = len(x)
    for _ in range(iterations):
        r0 = thumb_joints(x, shape)[point] - target
        jac = np.empty((3, n))
        for i in range(n):
            dx = np.zeros(n)
            dx[i] = 0.5
            jac[:, i] = (thumb_joints(x + dx, shape)[point] - target - r0) / 0.5
        a = np.vstack([jac, reg * np.eye(n)])
        b = np.concatenate([r0, reg * (x - prior)])
        step = np.linalg.solve(a.T @ a + 1e-3 * np.eye(n), a.T @ b)
        x = np.clip(x - step, THUMB_LOW, THUMB_HIGH)
        if np.linalg.norm(step) < 0.05:
            break
    return x
