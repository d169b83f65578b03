"""Election configs: the shipped ones, the samples, and what a broken file says."""

from __future__ import annotations

from pathlib import Path

import pytest

from gesture_audit.judge.election import PACKAGED, ElectionError, load_election, packaged_elections, parse_election

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "elections"


def test_default_is_pilpres_2024():
    e = load_election()
    assert e.name == "Pilpres 2024"
    assert sorted(e.pairs) == [1, 2, 3]
    assert e.pairs[2].names == ("Prabowo Subianto", "Gibran Rakabuming Raka")
    assert e.pairs[3].label == "03 Ganjar Pranowo–Mahfud MD"
    assert e.number_for("metal") == 3 and e.number_for("v") == 2 and e.number_for("one") == 1
    assert e.number_for("thumb_up") is None and e.number_for("fist") is None
    assert e.pair(e.number_for("five")) is None  # five fingers point at no pair in 2024
    assert "finger_heart" in e.support


def test_2019_reads_thumbs_up_as_01():
    e = load_election("pilpres-2019")
    assert e.number_for("thumb_up") == 1
    assert e.pairs[1].names == ("Joko Widodo", "Ma'ruf Amin")
    assert e.pairs[2].names == ("Prabowo Subianto", "Sandiaga Uno")


def test_pilkada_template_has_numbers_above_five():
    e = load_election(SAMPLES / "pilkada-template.toml")
    assert sorted(e.pairs) == [1, 2, 3, 4, 5, 6]
    assert e.thresholds.combine_hands


@pytest.mark.parametrize("name", ["pilpres-2024", "pilpres-2019"])
def test_shipped_elections_load_by_name(name):
    assert name in packaged_elections() and load_election(name).source == name


def test_sample_files_load():
    paths = sorted(SAMPLES.glob("*.toml"))
    assert paths, "the Pilkada template lives in samples/elections/"
    for path in paths:
        e = load_election(path)
        assert e.source == str(path)
        assert 0 < e.thresholds.review <= e.thresholds.flag <= 1


def test_to_record_for_the_report():
    record = load_election().to_record()
    assert record["name"] == "Pilpres 2024" and record["source"] == "pilpres-2024"
    assert record["ballots"]["1"] == "Anies Baswedan–Muhaimin Iskandar"


MINIMAL = {"election": {"name": "Test"}, "pairs": [{"number": 1, "names": ["A", "B"]}], "signs": {"v": 1}}


def with_changes(**changes) -> dict:
    data = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in MINIMAL.items()}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "data,message",
    [
        (with_changes(election={}), "needs a name"),
        (with_changes(pairs=[]), "no \\[\\[pairs\\]\\]"),
        (with_changes(pairs=[{"number": 1}, {"number": 1}]), "listed twice"),
        (with_changes(pairs=[{"number": 0}]), "whole number from 1"),
        (with_changes(pairs=[{"number": 1, "names": "A and B"}]), "list of strings"),
        (with_changes(signs={"peace": 2}), "unknown sign 'peace'"),
        (with_changes(signs={"v": "two"}), "whole number"),
        (with_changes(support={"v": "why"}), "both \\[signs\\] and \\[support\\]"),
        (with_changes(weights={"five": 1.5}), "within 0..1"),
        (with_changes(verdict={"flag": 0.3, "review": 0.5}), "review <= flag"),
        (with_changes(verdict={"flag": "high"}), "flag must be a number"),
        (with_changes(verdict={"flagg": 0.8}), "unknown keys: flagg"),
    ],
)
def test_bad_configs_say_what_is_wrong(data, message):
    with pytest.raises(ElectionError, match=message):
        parse_election(data, "test.toml")


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ElectionError, match="not found"):
        load_election(tmp_path / "nope.toml")
    with pytest.raises(ElectionError, match="shipped elections: pilpres-2019, pilpres-2024"):
        load_election("pilpres-2029")
    bad = tmp_path / "bad.toml"
    bad.write_text("[election\nname = 1")
    with pytest.raises(ElectionError, match="not valid TOML"):
        load_election(bad)


def test_thresholds_come_from_the_file(tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text((PACKAGED / "pilpres-2024.toml").read_text().replace("flag = 0.75", "flag = 0.99"))
    assert load_election(path).thresholds.flag == 0.99
