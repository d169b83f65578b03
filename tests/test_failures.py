"""The failure paths: an engine that raises, a judgement that fails, the service's 500.

The engine is a stub here on purpose: what is under test is how the Auditor and the service turn
a failure into one error row (or one 500 answer) and carry on, not the engine itself. The photos
are real JPEGs made here.
"""

from __future__ import annotations

import asyncio
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from gesture_audit.audit import Auditor
from gesture_audit.detect.core import Hand
from gesture_audit.report.schema import validation_errors


def jpeg(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 96, 3), value, np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


POISON = 13  # the grey level of the photo the stub engine cannot take


class StubEngine:
    """`detect_hands` as the Auditor calls it: raises for any batch holding the poisoned photo,
    finds `hands` (default none) in the others. `groups` None: the Auditor decodes as for --fast."""

    groups = None

    def __init__(self, hands=None):
        self.hands = hands or []
        self.calls: list[int] = []

    def detect_hands(self, images):
        self.calls.append(len(images))
        if any(int(image[0, 0, 0]) == POISON for image in images):
            raise RuntimeError("engine fell over")
        return [list(self.hands) for _ in images]


def test_a_photo_whose_detection_raises_gets_its_own_error_row():
    engine = StubEngine()
    auditor = Auditor(engine=engine)
    findings = list(auditor.check_many([jpeg(200), jpeg(POISON), jpeg(100)], batch=8))
    assert [f.status for f in findings] == ["ok", "error", "ok"]
    assert findings[1].error == "hand detection failed (engine fell over)"
    assert findings[1].sha256 and findings[1].verdict is None and findings[1].hands == []
    assert [f.verdict for f in findings[::2]] == ["clear", "clear"]
    assert engine.calls == [3, 1, 1, 1]  # the batch failed, then each photo alone
    for finding in findings:
        assert validation_errors(finding.to_dict()) == []


def test_a_judgement_that_fails_is_a_judgement_failed_row():
    """A hand the classifier cannot read (landmarks of the wrong shape after detection) stops the
    judgement of its photo only."""
    broken = Hand(np.zeros(4), 0.9, 0.9, "right", 0.9, np.zeros((21, 3)), np.zeros((21, 3)))
    broken.landmarks = np.zeros((3, 3), np.float32)  # no 21 points: the finger reading raises
    auditor = Auditor(engine=StubEngine([broken]))
    finding = auditor.check(jpeg(200))
    assert finding.status == "error" and finding.error.startswith("judgement failed (")
    assert validation_errors(finding.to_dict()) == []


@pytest.mark.timeout(120)
def test_the_service_answers_500_when_the_check_fails_and_goes_on():
    from gesture_audit.serve import create_app

    auditor = Auditor(engine=StubEngine())
    app = create_app(make_auditor=lambda: auditor)

    async def main():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app", timeout=60) as client:
                for _ in range(600):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                    await asyncio.sleep(0.05)
                failed = await client.post("/v1/check", content=jpeg(POISON))
                fine = await client.post("/v1/check", content=jpeg(200))
                batch = await client.post(
                    "/v1/check/batch",
                    files=[
                        ("files", ("a.jpg", jpeg(POISON), "image/jpeg")),
                        ("files", ("b.jpg", jpeg(200), "image/jpeg")),
                    ],
                )
                return failed, fine, batch

    failed, fine, batch = asyncio.run(main())
    assert failed.status_code == 500, failed.text
    assert failed.json()["reason"] == "check_failed" and "engine fell over" in failed.text
    assert fine.status_code == 200 and fine.json()["verdict"] == "clear"
    assert batch.status_code == 200
    assert [f["status"] for f in batch.json()] == ["error", "ok"]
