"""Candidates on posters vs candidates in person: a dev face printed large on a rendered banner is
campaign material; the same candidates standing with other people are posing with a candidate."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from gesture_audit.detect.faces import FaceDetector
from gesture_audit.detect.posters import printed_faces
from gesture_audit.load import load_image


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(threads=1)


@pytest.fixture(scope="module")
def poster_scene(dev_faces, detector) -> np.ndarray:
    """kit_with_rose.jpg (a candidate with another person) beside a banner printed with a bust of
    Obama from obama1.jpg (another candidate), his face 1.7x their median, "COBLOS 01" below it."""
    obama = load_image(dev_faces / "test" / "obama1.jpg")
    x0, y0, x1, y1 = detector.detect([obama])[0][0].box
    fw, fh = x1 - x0, y1 - y0
    bust = Image.fromarray(obama).crop((int(x0 - 0.9 * fw), int(y0 - 0.6 * fh), int(x1 + 0.9 * fw), int(y1 + 1.2 * fh)))
    canvas = Image.new("RGB", (1200, 800), (196, 190, 178))  # a wall
    canvas.paste(Image.open(dev_faces / "test" / "kit_with_rose.jpg").convert("RGB").resize((400, 559)), (60, 241))
    banner = Image.new("RGB", (460, 560), (180, 20, 30))
    banner.paste(bust.resize((400, round(400 * bust.height / bust.width))), (30, 30))
    ImageDraw.Draw(banner).text(
        (230, 520), "COBLOS 01", font=ImageFont.load_default(44), fill=(255, 255, 255), anchor="mm"
    )
    canvas.paste(banner, (640, 140))
    return np.asarray(canvas)


def test_a_face_printed_on_a_banner_is_a_picture_people_in_person_are_not(poster_scene, detector, dev_faces):
    faces = sorted(detector.detect([poster_scene])[0], key=lambda f: f.box[0])
    assert len(faces) == 3  # Rose, Kit, the banner's Obama
    assert printed_faces(poster_scene, [f.box for f in faces]) == [False, False, True]
    photo = load_image(dev_faces / "test" / "kit_with_rose.jpg")  # the people alone: no banner
    assert not any(printed_faces(photo, [f.box for f in detector.detect([photo])[0]]))
    # The banner's face alone (no one else to compare with) is still framed and printed.
    assert printed_faces(poster_scene, [faces[2].box]) == [True]


@pytest.mark.timeout(300)
def test_the_finding_says_poster_or_in_person(poster_scene, candidate_gallery, dev_faces):
    from gesture_audit.audit import Auditor
    from gesture_audit.report.schema import validation_errors

    auditor = Auditor(gallery=candidate_gallery)
    finding = auditor.check(poster_scene)
    row = finding.to_dict()
    assert validation_errors(row) == []
    assert [(a["kind"], a["text"], a["ballot"]) for a in row["attributes"]] == [("picture", "Barack Obama", 1)]
    assert finding.verdict == "flag"  # Kit Harington posing with Rose Leslie, in person
    reasons = [str(r) for r in finding.reasons]
    assert reasons[0] == "candidate 02 Kit Harington appears with 1 other person (posing with a candidate in person)"
    assert "a printed picture of candidate 01 Barack Obama: campaign material, review" in reasons
    # The same candidates in person: no picture, posing.
    kit = auditor.check(dev_faces / "test" / "kit_with_rose.jpg")
    assert kit.attributes is None and "(posing with a candidate in person)" in kit.reasons[0]
