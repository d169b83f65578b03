"""The rendered sample photos in samples/ (made by samples/make_samples.sh) as a scan judges them
under the default election, Pilpres 2024: every photo whose hands show a ballot number is flagged,
the others (fist, open palm, four, thumbs-up, wave, the photo without hands) are clear."""

from __future__ import annotations

import json
from pathlib import Path

from gesture_audit import Auditor

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_samples_ballot_signs_are_flagged_and_the_rest_clear(engine):
    auditor = Auditor(engine=engine)
    election = auditor.election
    labels = [json.loads(line) for line in (SAMPLES / "labels.jsonl").read_text().splitlines() if line.strip()]
    assert len(labels) == len(list(SAMPLES.glob("*.jpg")))
    expected, got = {}, {}
    for label in labels:
        ballots = [election.pair(election.number_for(hand["gesture"])) for hand in label["hands"]]
        expected[label["path"]] = "flag" if any(ballots) else "clear"
        finding = auditor.check(SAMPLES / label["path"])
        got[label["path"]] = (
            finding.verdict,
            [(h["fingers"], h["gesture"], round(h["confidence"], 2)) for h in finding.hands],
        )
    assert "flag" in expected.values() and {"fist_7_00000.jpg", "empty_7_00000.jpg"} <= {
        p for p, v in expected.items() if v == "clear"
    }
    wrong = {p: got[p] for p in expected if got[p][0] != expected[p]}
    assert not wrong, wrong
