"""Social-media exports: the post (time, caption, link) each photo or video of an export belongs to.

Recognised by their metadata files, in a folder or inside an archive ("download your data" zips):

    Instagram  [your_instagram_activity/]content/posts_1.json, reels.json, stories.json, ...:
               media[].uri (relative to the export), creation_timestamp, title (the caption)
    Facebook   [your_facebook_activity/]posts/your_posts_1.json (your_posts__check_ins__photos_and_videos_1
               .json since 2023), your_uncategorized_photos.json, album/*.json:
               attachments[].data[].media.uri, timestamp, data[].post or media.description
    X          data/tweets.js (data/tweet.js before 2022), `window.YTD.tweets.part0 = [...]`:
               tweet.id_str, created_at, full_text; media in data/tweets_media/<id>-<name>
    WhatsApp   _chat.txt (iPhone) or "WhatsApp Chat with NAME.txt" (Android), with the attachments
               beside it: "<attached: 00000012-PHOTO-2024-01-01-10-00-00.jpg>" or
               "IMG-20240101-WA0001.jpg (file attached)" (Indonesian: terlampir), caption after it

    posts, metadata = find_posts([(row_path, source), ...])   # source: anything with read_bytes()

`posts` maps the row path of each photo or video to its `Post`; `metadata` holds the row paths of the
export's own files (JSON, JS, HTML, TXT under a recognised export), which the scan reads for this
and does not report as photos. Meta's JSON stores UTF-8 text as escaped Latin-1 (mojibake); it is
repaired. A metadata file that cannot be parsed ties no photo, and is still the export's own file.
Instagram and Facebook exports downloaded as HTML are recognised (their files are not reported) but
tie no posts: ask for the JSON format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Protocol

METADATA_SUFFIXES = (".json", ".js", ".html", ".htm", ".txt", ".css", ".csv")
MAX_METADATA = 64 * 1024 * 1024  # a metadata file larger than this is not read


class Readable(Protocol):
    def read_bytes(self) -> bytes: ...


@dataclass
class Post:
    """The post a photo was part of. `time`: ISO 8601 (the export's own text when it cannot be
    read unambiguously); `source`: instagram, facebook, x or whatsapp."""

    source: str
    time: str | None = None
    caption: str | None = None
    link: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# A metadata file's path (after the export's root) -> the platform. The root is the part before.
_PATTERNS = [
    (
        "instagram",
        re.compile(
            r"^(.*?)(?:your_instagram_activity/)?(?:content|media)/"
            r"(?:posts_\d+|archived_posts|reels|stories|profile_photos|igtv_videos)\.(?:json|html)$"
        ),
    ),
    (
        "facebook",
        re.compile(
            r"^(.*?)(?:your_facebook_activity/)?posts/(?:your_[a-z_]*posts[a-z_]*(?:_\d+)?|"
            r"your_uncategorized_photos|your_videos|album/\d+)\.(?:json|html)$"
        ),
    ),
    ("x", re.compile(r"^(.*?)data/(?:tweets(?:-part\d+)?|tweet)\.js$")),
    ("whatsapp", re.compile(r"^(.*?)(?:_chat|WhatsApp Chat with [^/]*|Chat WhatsApp dengan [^/]*)\.txt$")),
]


def _split(row: str) -> tuple[str, str] | None:
    """(the export's root prefix, the platform) when `row` is a metadata file of an export."""
    for platform, pattern in _PATTERNS:
        m = pattern.match(row)
        if m:
            return m.group(1), platform
    return None


def find_posts(files: Iterable[tuple[str, Readable]]) -> tuple[dict[str, Post], set[str]]:
    """The post of each photo or video of the exports among `files` (row path -> Post), and the
    row paths of the exports' own metadata files."""
    files = list(files)
    rows = {row for row, _ in files}
    found = [(row, source, *split) for row, source in files if (split := _split(row))]
    roots = {(root, platform) for _, _, root, platform in found}
    metadata = {row for row in rows if row.lower().endswith(METADATA_SUFFIXES) and _under_export(row, roots)}
    posts: dict[str, Post] = {}
    for row, source, root, platform in found:
        if not row.endswith((".json", ".js", ".txt")):
            continue  # the HTML flavour of an export: its files are skipped, no posts tied
        try:
            if hasattr(source, "stat") and source.stat().st_size > MAX_METADATA:
                continue  # a file on disk: not read at all
            data = source.read_bytes()
            if len(data) > MAX_METADATA:
                continue
            text = data.decode("utf-8-sig", "replace")
            found_posts = _PARSERS[platform](text, root, rows)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue  # a damaged metadata file ties no photo
        for media, post in found_posts:
            if media in rows and media not in metadata:
                posts.setdefault(media, post)
    return posts, metadata


def _under_export(row: str, roots: set[tuple[str, str]]) -> bool:
    """Whether `row` is one of an export's own files: under its root (a WhatsApp chat: beside the
    chat), and not inside a further archive."""
    for root, platform in roots:
        rest = row[len(root) :]
        if row.startswith(root) and "!/" not in rest and (platform != "whatsapp" or "/" not in rest):
            return True
    return False


# -- parsers: (text of the metadata file, export root prefix, all row paths) -> [(media row, Post)]


def _unmojibake(text: str) -> str:
    """Meta writes UTF-8 bytes as \\u00XX escapes; undo that where it is what happened."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _epoch(value) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, timezone.utc).isoformat()
    return None


def _uris(node, context: dict, caption_of, out: list) -> None:
    """Every dict with a "uri" under `node`, with the time and caption of the nearest post around it."""
    if isinstance(node, list):
        for item in node:
            _uris(item, context, caption_of, out)
        return
    if not isinstance(node, dict):
        return
    context = dict(context)
    time = _epoch(node.get("creation_timestamp")) or _epoch(node.get("timestamp"))
    if time:
        context.setdefault("time", time)
    caption = caption_of(node)
    if caption:
        context["caption"] = caption
    if isinstance(node.get("uri"), str) and not node["uri"].startswith(("http://", "https://")):
        out.append((node["uri"], context.get("time"), context.get("caption")))
    for value in node.values():
        if isinstance(value, (list, dict)):
            _uris(value, context, caption_of, out)


def _meta(platform: str, caption_of):
    def parse(text: str, root: str, rows: set[str]) -> list[tuple[str, Post]]:
        found: list = []
        _uris(json.loads(text), {}, caption_of, found)
        return [
            (root + uri.lstrip("/"), Post(platform, time, caption and _unmojibake(caption)))
            for uri, time, caption in found
        ]

    return parse


def _instagram_caption(node: dict) -> str | None:
    title = node.get("title")
    return title if isinstance(title, str) and title.strip() else None


def _facebook_caption(node: dict) -> str | None:
    for item in node.get("data") or []:
        if isinstance(item, dict) and isinstance(item.get("post"), str) and item["post"].strip():
            return item["post"]
    description = node.get("description")
    return description if isinstance(description, str) and description.strip() else None


def _x(text: str, root: str, rows: set[str]) -> list[tuple[str, Post]]:
    items = json.loads(text[text.index("=") + 1 :])  # window.YTD.tweets.part0 = [ ... ]
    by_id: dict[str, Post] = {}
    for item in items:
        tweet = item.get("tweet", item)
        tid = str(tweet.get("id_str") or tweet.get("id") or "")
        if not tid:
            continue
        try:
            time = datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y").isoformat()
        except (KeyError, ValueError, TypeError):
            time = tweet.get("created_at")
        caption = re.sub(r"\s*https://t\.co/\w+$", "", tweet.get("full_text") or tweet.get("text") or "")
        by_id[tid] = Post("x", time, caption or None, f"https://x.com/i/web/status/{tid}")
    out = []
    for folder in ("data/tweets_media/", "data/tweet_media/"):
        prefix = root + folder
        for row in rows:
            if row.startswith(prefix):
                tid = row[len(prefix) :].split("-", 1)[0]
                if tid in by_id:
                    out.append((row, by_id[tid]))
    return out


# A message starts with its date and time: "[01/01/24, 10.00.00] Budi: ..." (iPhone) or
# "01/01/24 10.00 - Budi: ..." (Android); separators and the AM/PM suffix vary by locale.
_MESSAGE = re.compile(
    r"^\u200e?\[?(\d{1,4})[/.-](\d{1,2})[/.-](\d{2,4}),? (\d{1,2})[.:](\d{2})(?:[.:](\d{2}))?"
    r"(?:\s?([AaPp])\.?\s?[Mm]\.?)?\]?(?: -|:)? (.*)$"
)
_ATTACHED = [
    re.compile(r"<(?:attached|terlampir): ([^>]+)>"),
    re.compile(r"^\u200e?([^\s/][^/]*?\.\w{2,5}) \((?:file attached|file terlampir)\)"),
]


def _whatsapp(text: str, root: str, rows: set[str]) -> list[tuple[str, Post]]:
    messages: list[tuple[tuple, str]] = []
    for line in text.splitlines():
        m = _MESSAGE.match(line)
        if m:
            body = m.group(8)
            body = body.split(": ", 1)[1] if ": " in body else body  # drop the sender
            messages.append((m.groups()[:7], body))
        elif messages:
            messages[-1] = (messages[-1][0], messages[-1][1] + "\n" + line)
    # Day first (Indonesia) unless some date shows the month must come first.
    month_first = any(int(g[1]) > 12 for g, _ in messages) and not any(int(g[0]) > 12 for g, _ in messages)
    out = []
    for stamp, body in messages:
        body = body.lstrip("\u200e")  # WhatsApp marks attachments with a left-to-right mark
        for pattern in _ATTACHED:
            m = pattern.search(body)
            if not m:
                continue
            name = m.group(1).strip().lstrip("\u200e")
            caption = (body[: m.start()] + body[m.end() :]).replace("\u200e", "").strip()
            if root + name in rows:
                out.append((root + name, Post("whatsapp", _chat_time(stamp, month_first), caption or None)))
            break
    return out


def _chat_time(g: tuple, month_first: bool) -> str | None:
    a, b, year, hour, minute, second, half = g
    day, month = (int(b), int(a)) if month_first else (int(a), int(b))
    if len(a) == 4:  # 2024-01-31
        year, month, day = a, int(b), int(year)
    year = int(year) + (2000 if len(str(year)) == 2 else 0)
    hour = int(hour) % 12 + (12 if half in ("P", "p") else 0) if half else int(hour)
    try:
        return datetime(year, month, day, hour, int(minute), int(second or 0)).isoformat()
    except ValueError:
        return None


_PARSERS = {
    "instagram": _meta("instagram", _instagram_caption),
    "facebook": _meta("facebook", _facebook_caption),
    "x": _x,
    "whatsapp": _whatsapp,
}


def export_kind(row: str) -> str | None:
    """The platform whose export metadata file `row` is, or None."""
    found = _split(row)
    return found[1] if found else None
