"""Languages: the catalogue covers every message in the code and is compiled; messages render in
either language, fall back to English, and survive findings.jsonl; the locale and Accept-Language
choose the language."""

from __future__ import annotations

import pickle
import string
from pathlib import Path

import pytest
from made import finding

from gesture_audit.i18n import (
    LOCALE_DIR,
    N_,
    Message,
    N_plural,
    accept_language,
    check_language,
    default_language,
    translator,
)
from gesture_audit.report.schema import validation_errors
from gesture_audit.results import Finding

PACKAGE = Path(__file__).resolve().parents[1] / "gesture_audit"
PO = LOCALE_DIR / "id" / "LC_MESSAGES" / "gesture_audit.po"
MO = PO.with_suffix(".mo")
POT = LOCALE_DIR / "gesture_audit.pot"

babel = pytest.importorskip("babel", reason="babel is not installed (pip install -e '.[dev]')")


def _ids(catalogue) -> set:
    return {m.id for m in catalogue if m.id}


def _extracted() -> set:
    """What babel.cfg's recipe extracts from the code (the AST method: f-strings included)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    found = extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "gesture_audit.i18n:extract")], keywords=DEFAULT_KEYWORDS
    )
    return {msgid for _, _, msgid, _, _ in found}


def _fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogue_covers_the_code_and_is_compiled():
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    code = _extracted()
    assert len(code) > 100  # the reasons, the report, the CLI: not an empty extraction
    with open(POT, "rb") as fh:
        pot = read_po(fh)
    assert _ids(pot) == code, "the .pot is stale: run the extract / update / compile recipe (docs/CONTRACTS.md)"
    with open(PO, "rb") as fh:
        po = read_po(fh)
    assert po.num_plurals == 1  # Indonesian has one form (nplurals=1)
    missing = sorted(
        str(m.id) for m in po if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    )
    assert not missing, f"untranslated or fuzzy in {PO.name}: {missing}"
    assert code <= _ids(po), f"not in {PO.name}: {sorted(map(str, code - _ids(po)))}"
    # Placeholders survive translation (a missing {pair} would drop the ballot from a reason).
    for m in po:
        if m.id:
            source = m.id if isinstance(m.id, tuple) else (m.id,)
            target = m.string if isinstance(m.string, tuple) else (m.string,)
            assert all(_fields(t) <= _fields(source[-1]) | {"n"} for t in target), m.id
            assert _fields(target[0]) >= _fields(source[0]) - {"n"}, m.id
    # The compiled .mo says what the .po says.
    with open(MO, "rb") as fh:
        mo = read_mo(fh)

    def table(catalogue) -> dict:
        def flat(v):
            return tuple(v) if isinstance(v, (list, tuple)) else v

        return {flat(m.id): flat(m.string) for m in catalogue if m.id}

    assert table(mo) == table(po), f"{MO.name} is older than {PO.name}: run pybabel compile (docs/CONTRACTS.md)"


def test_message_renders_in_either_language_and_falls_back():
    sign = N_("V sign")
    reason = N_(
        "{side} shows {number} ({sign}), confidence {confidence:.2f}: ballot {pair}",
        side=N_("right hand"),
        number=2,
        sign=sign,
        confidence=0.914,
        pair="02 Prabowo–Gibran",
    )
    assert reason == "right hand shows 2 (V sign), confidence 0.91: ballot 02 Prabowo–Gibran"
    assert translator("en").text(reason) == reason
    assert translator("id").text(reason) == (
        "tangan kanan menunjukkan pose jari 2 (tanda V), keyakinan 0.91: paslon nomor urut 02 Prabowo–Gibran"
    )
    # Plural forms: English has two, Indonesian one.
    people = [
        N_plural(
            "{who} appears with {n} other person",
            "{who} appears with {n} other people",
            n,
            who=N_("candidate {name}", name="X"),
        )
        for n in (1, 3)
    ]
    assert people == ["candidate X appears with 1 other person", "candidate X appears with 3 other people"]
    assert translator("id").text(people[1]).startswith("calon X tampil bersama 3 orang lain")
    # A message the catalogue lacks (another engineer's new reason), or plain text: English, no error.
    new = N_("a reason added later: {what}", what="x")
    assert translator("id").text(new) == "a reason added later: x"
    assert translator("id").text("plain text") == "plain text"
    assert translator("id").text(None) == ""
    # A language without a catalogue is English.
    assert translator("fr").text(reason) == reason


def test_message_round_trips_through_findings_jsonl():
    reason = N_(
        "{side} shows a {sign} ({why}), confidence {confidence:.2f}",
        side=N_("left hand"),
        sign=N_("finger heart"),
        why="a support sign",
        confidence=0.7,
    )
    row = finding("a.jpg", "review", 0.5, reasons=[reason, "a plain reason"])
    line = row.to_dict()
    assert line["reasons"] == [str(reason), "a plain reason"]
    assert type(line["reasons"][0]) is str
    assert line["reason_messages"][1] is None
    assert validation_errors(line) == []
    back = Finding.from_dict(line)
    assert isinstance(back.reasons[0], Message) and back.reasons[0].to_dict() == reason.to_dict()
    assert translator("id").text(back.reasons[0]).startswith("tangan kiri menunjukkan finger heart")
    assert row.to_dict(translator("id"))["reasons"][0] == translator("id").text(reason)
    assert pickle.loads(pickle.dumps(reason)).to_dict() == reason.to_dict()
    # A damaged reason_messages entry leaves the English text, never an error.
    line["reason_messages"][0] = {"msgid": "{missing}"}
    assert Finding.from_dict(line).reasons[0] == str(reason)
    # Findings written before messages existed read as they were.
    del line["reason_messages"]
    assert Finding.from_dict(line).reasons == [str(reason), "a plain reason"]


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"LANG": "id_ID.UTF-8"}, "id"),
        ({"LANG": "id_ID"}, "id"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "id_ID.UTF-8"}, "en"),
        ({"LC_MESSAGES": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}, "id"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "ida_XX"}, "en"),
        ({}, "en"),
    ],
)
def test_default_language_follows_the_locale(environ, expected):
    assert default_language(environ) == expected


@pytest.mark.parametrize(
    "header, expected",
    [
        ("id-ID,id;q=0.9,en-US;q=0.8", "id"),
        ("en-US,en;q=0.9,id;q=0.8", "en"),
        ("fr-FR, id;q=0.5", "id"),
        ("de", "en"),
        ("", "en"),
        ("id;q=oops, en;q=0.2", "en"),
    ],
)
def test_accept_language(header, expected):
    assert accept_language(header) == expected


def test_check_language():
    assert check_language("ID") == "id"
    with pytest.raises(ValueError):
        check_language("fr")
