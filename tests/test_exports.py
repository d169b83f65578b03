"""Social-media exports: each photo tied to its post, the export's own files recognised; captions
read against the election. The exports are small fakes built here in the documented layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gesture_audit.exports import Post, find_posts
from gesture_audit.judge.captions import judge_caption, read_caption
from gesture_audit.judge.election import load_election


class Text:
    """A metadata file's contents (find_posts reads anything with read_bytes)."""

    def __init__(self, text: str):
        self.data = text.encode("utf-8")

    def read_bytes(self) -> bytes:
        return self.data


def meta(value) -> str:
    """JSON as Meta writes it: UTF-8 bytes escaped one by one as \\u00XX."""
    return (
        json.dumps(value, ensure_ascii=False)
        .encode("utf-8")
        .decode("latin-1")
        .encode("ascii", "backslashreplace")
        .decode("ascii")
        .replace("\\x", "\\u00")
    )


def photo() -> Path:
    return Path(__file__)  # never read: only metadata files are


def test_instagram_facebook_x_whatsapp():
    files = {
        # Instagram (2024 layout), a single-photo post and a carousel with the caption on the post
        "ig/your_instagram_activity/content/posts_1.json": Text(
            meta(
                [
                    {
                        "media": [
                            {
                                "uri": "media/posts/202401/1.jpg",
                                "creation_timestamp": 1704103200,
                                "title": "Coblos nomor 2 ya 🙏",
                            }
                        ]
                    },
                    {
                        "title": "Jalan-jalan",
                        "creation_timestamp": 1704189600,
                        "media": [
                            {"uri": "media/posts/202401/2.jpg", "creation_timestamp": 1704189600, "title": ""},
                            {"uri": "media/posts/202401/3.mp4", "creation_timestamp": 1704189600, "title": ""},
                        ],
                    },
                ]
            )
        ),
        "ig/your_instagram_activity/likes/liked_posts.json": Text("[]"),
        "ig/media/posts/202401/1.jpg": photo(),
        "ig/media/posts/202401/2.jpg": photo(),
        "ig/media/posts/202401/3.mp4": photo(),
        "ig/media/posts/202401/unposted.jpg": photo(),
        # Facebook, zipped
        "fb.zip!/your_facebook_activity/posts/your_posts_1.json": Text(
            meta(
                [
                    {
                        "timestamp": 1704276000,
                        "data": [{"post": "Bersama Pak Anies"}],
                        "attachments": [
                            {
                                "data": [
                                    {
                                        "media": {
                                            "uri": "your_facebook_activity/posts/media/a/9.jpg",
                                            "creation_timestamp": 1704276000,
                                            "title": "Mobile uploads",
                                        }
                                    }
                                ]
                            }
                        ],
                        "title": "Budi updated his status.",
                    }
                ]
            )
        ),
        "fb.zip!/your_facebook_activity/posts/media/a/9.jpg": photo(),
        # X
        "x/data/tweets.js": Text(
            "window.YTD.tweets.part0 = "
            + json.dumps(
                [
                    {
                        "tweet": {
                            "id_str": "1742",
                            "created_at": "Mon Jan 01 10:00:00 +0000 2024",
                            "full_text": "Salam tiga jari #03 https://t.co/AbC123",
                        }
                    }
                ]
            )
        ),
        "x/data/tweets_media/1742-GCxyz.jpg": photo(),
        "x/data/account.js": Text("window.YTD.account.part0 = []"),
        # WhatsApp: Android (Indonesian) and iPhone
        "wa/WhatsApp Chat with Grup Kantor.txt": Text(
            "31/01/24 10.00 - Budi: IMG-20240131-WA0001.jpg (file terlampir)\nfoto 01 kemarin\n"
            "31/01/24 10.05 - Ani: oke\n"
        ),
        "wa/IMG-20240131-WA0001.jpg": photo(),
        "wa/other/notes.txt": Text("not part of the chat"),
        "ios/_chat.txt": Text(
            "[1/31/24, 10:00:00 PM] Budi: \u200e<attached: 00000012-PHOTO-2024-01-31-22-00-00.jpg>\n"
        ),
        "ios/00000012-PHOTO-2024-01-31-22-00-00.jpg": photo(),
        # Not an export: its JSON stays a file like any other
        "misc/data.json": Text("{}"),
    }
    posts, metadata = find_posts(files.items())
    assert posts == {
        "ig/media/posts/202401/1.jpg": Post("instagram", "2024-01-01T10:00:00+00:00", "Coblos nomor 2 ya 🙏"),
        "ig/media/posts/202401/2.jpg": Post("instagram", "2024-01-02T10:00:00+00:00", "Jalan-jalan"),
        "ig/media/posts/202401/3.mp4": Post("instagram", "2024-01-02T10:00:00+00:00", "Jalan-jalan"),
        "fb.zip!/your_facebook_activity/posts/media/a/9.jpg": Post(
            "facebook", "2024-01-03T10:00:00+00:00", "Bersama Pak Anies"
        ),
        "x/data/tweets_media/1742-GCxyz.jpg": Post(
            "x", "2024-01-01T10:00:00+00:00", "Salam tiga jari #03", "https://x.com/i/web/status/1742"
        ),
        "wa/IMG-20240131-WA0001.jpg": Post("whatsapp", "2024-01-31T10:00:00", "foto 01 kemarin"),
        "ios/00000012-PHOTO-2024-01-31-22-00-00.jpg": Post("whatsapp", "2024-01-31T22:00:00", None),
    }
    assert metadata == {
        "ig/your_instagram_activity/content/posts_1.json",
        "ig/your_instagram_activity/likes/liked_posts.json",
        "fb.zip!/your_facebook_activity/posts/your_posts_1.json",
        "x/data/tweets.js",
        "x/data/account.js",
        "wa/WhatsApp Chat with Grup Kantor.txt",
        "ios/_chat.txt",
    }


def test_damaged_metadata_ties_nothing_and_is_still_the_exports():
    files = {"ig/content/posts_1.json": Text('[{"media": [{"uri": '), "ig/media/posts/1.jpg": photo()}
    assert find_posts(files.items()) == ({}, {"ig/content/posts_1.json"})


@pytest.mark.parametrize(
    "caption, named",
    [
        ("Coblos nomor 3 ya!", {3: ['"nomor 3"']}),
        ("Salam #02 bersama Pak Prabowo", {2: ['"#02"', '"Prabowo"']}),
        ("foto 01", {1: ['"01"']}),
        ("Bersama Anies Baswedan", {1: ['"Anies Baswedan"', '"Anies"', '"Baswedan"']}),
        ("Rapat 01/02/2024 jam 10.00, amin", {}),  # a date, a time and a common word name no pair
        ("#2024 tahun baru", {}),
        ("", {}),
    ],
)
def test_read_caption(caption, named):
    assert read_caption(caption, load_election()) == named


def test_a_caption_alone_is_review_never_flag():
    election = load_election()
    named = read_caption("coblos nomor 2", election)
    assert judge_caption("clear", 0.0, [], [], named, election)[:2] == ("review", 0.55)  # (review 0.35 + flag 0.75) / 2
    verdict, risk, reasons = judge_caption("review", 0.6, ["a hand"], [2], named, election)
    assert verdict == "review" and risk > 0.6 and reasons[-1].endswith("as a hand shows")  # never raised to flag
    assert judge_caption("flag", 0.9, ["a hand"], [2], named, election)[0] == "flag"
    assert judge_caption("clear", 0.1, [], [], {}, election) == ("clear", 0.1, [])
