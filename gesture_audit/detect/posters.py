"""Printed faces: a face on a banner or poster, not a person standing in the photo.

`printed_faces(image, boxes) -> list[bool]`, one per face box (x0, y0, x1, y1 image pixels). A
face is printed when both hold:

    size        it is the only face, or far larger than the others (`LARGER` × their median
                height): a poster's portrait dwarfs the people in front of it
    frame       a printed rectangle holds it with no body below: a convex four-cornered outline
                (Canny edges, contours, cv2.approxPolyDP) around the face, at most `FRAME_AREA`
                face areas, whose bottom edge is within `BODY` face heights under the chin (a
                person in a doorway or a window frame has the body below, inside the frame)

Cheap (edges in a window a few faces wide); run on candidate faces only.
"""

from __future__ import annotations

import cv2
import numpy as np

LARGER = 1.5  # × the median height of the other faces
FRAME_AREA = (1.5, 60.0)  # the frame's area, in face-box areas
BODY = 2.5  # face heights: a frame ending closer than this under the chin holds a bust, not a body
WINDOW = (3.0, 2.0, 3.5)  # face sizes searched: sideways, above, below


def printed_faces(image: np.ndarray, boxes: list) -> list[bool]:
    """For each face box, whether it is a printed picture (see the module docstring)."""
    boxes = [np.asarray(b, np.float32).reshape(4) for b in boxes]
    heights = np.array([b[3] - b[1] for b in boxes], np.float32)
    out = []
    for k, box in enumerate(boxes):
        others = np.delete(heights, k)
        large = not len(others) or heights[k] >= LARGER * float(np.median(others))
        out.append(bool(large and framed(image, box)))
    return out


def framed(image: np.ndarray, box: np.ndarray) -> bool:
    """Whether a printed rectangle encloses this face box with no room for a body below it."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    fw, fh = x1 - x0, y1 - y0
    side, up, down = WINDOW
    wx0, wy0 = int(max(0, x0 - side * fw)), int(max(0, y0 - up * fh))
    wx1, wy1 = int(min(w, x1 + side * fw)), int(min(h, y1 + down * fh))
    window = image[wy0:wy1, wx0:wx1]
    if window.size == 0:
        return False
    # Work at about 64 px a face: the frame's straight edges survive, the texture inside does not.
    scale = min(1.0, 64.0 / max(fh, 1.0))
    small = cv2.resize(window, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else window
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    edges = cv2.dilate(cv2.Canny(grey, 50, 150), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    face = (np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32) - [wx0, wy0]) * scale
    face_area = fw * fh * scale * scale
    for contour in contours:
        outline = cv2.approxPolyDP(contour, 0.03 * cv2.arcLength(contour, True), True)
        if len(outline) != 4 or not cv2.isContourConvex(outline):
            continue
        area = cv2.contourArea(outline)
        if not FRAME_AREA[0] * face_area <= area <= FRAME_AREA[1] * face_area:
            continue
        if not all(cv2.pointPolygonTest(outline, (float(x), float(y)), True) >= -2 for x, y in face):
            continue
        # The bottom edge below the face: the lower of the two lowest corners (the frame may lean).
        bottom = np.sort(outline[:, 0, 1])[2]
        if bottom - face[2, 1] <= BODY * fh * scale:
            return True
    return False
