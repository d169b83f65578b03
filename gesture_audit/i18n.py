"""Languages: English (the source) and Bahasa Indonesia, through gettext catalogues.

The catalogue is `gesture_audit/locale/id/LC_MESSAGES/gesture_audit.po`, compiled to `.mo` beside
it (see docs/CONTRACTS.md for the extract / update / compile recipe). The language is chosen once,
at the edge (a CLI option, the locale, an HTTP `Accept-Language`), never inside the judgement:

- Text the edge writes itself: `tr = translator(lang)`, then `tr.gettext("...")` and
  `tr.ngettext("one photo", "{n} photos", n).format(n=n)`.
- Text made inside the pipeline (a finding's reasons) is a `Message`: English text (a `str`, so it
  can be printed, compared and written to findings.jsonl as it is) that remembers its msgid and
  arguments, so an edge can render it in another language: `tr.text(reason)`.

      reasons.append(N_("{side} shows {number} ({sign})", side=..., number=2, sign=...))
      reasons.append(N_plural("{n} other person", "{n} other people", n))

  Arguments may be Messages themselves (rendered in the same language). A plain string, or a
  message the catalogue lacks, is shown in English: never an error.
"""

from __future__ import annotations

import gettext
import os
import re
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "id")
DOMAIN = "gesture_audit"
LOCALE_DIR = Path(__file__).with_name("locale")


class Message(str):
    """English text that keeps its msgid (and plural, count, arguments) for rendering elsewhere."""

    msgid: str
    plural: str | None
    n: int | None
    args: dict

    def __new__(cls, msgid: str, /, *, plural: str | None = None, n: int | None = None, **args) -> Message:
        self = super().__new__(cls, _fill(msgid if plural is None or n == 1 else plural, n, args, None))
        self.msgid, self.plural, self.n, self.args = msgid, plural, n, args
        return self

    def render(self, tr: Translator) -> str:
        template = (
            tr.catalogue.gettext(self.msgid)
            if self.plural is None
            else tr.catalogue.ngettext(self.msgid, self.plural, 0 if self.n is None else self.n)
        )
        try:
            return _fill(template, self.n, self.args, tr)
        except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder
            return _fill(self.msgid if self.plural is None or self.n == 1 else self.plural, self.n, self.args, tr)

    def to_dict(self) -> dict:
        out: dict = {"msgid": self.msgid}
        if self.plural is not None:
            out.update(plural=self.plural, n=self.n)
        if self.args:
            out["args"] = {k: v.to_dict() if isinstance(v, Message) else v for k, v in self.args.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Message:
        args = {
            k: cls.from_dict(v) if isinstance(v, dict) and "msgid" in v else v
            for k, v in (data.get("args") or {}).items()
        }
        return cls(data["msgid"], plural=data.get("plural"), n=data.get("n"), **args)

    def __reduce__(self):  # pickling (worker processes) keeps the msgid and arguments
        return Message.from_dict, (self.to_dict(),)


def N_(msgid: str, /, **args) -> Message:
    """A translatable message (marked for extraction)."""
    return Message(msgid, **args)


def N_plural(singular: str, plural: str, n: int, /, **args) -> Message:
    """A translatable message with plural forms, chosen by `n` (also available as `{n}`)."""
    return Message(singular, plural=plural, n=n, **args)


def _fill(template: str, n: int | None, args: dict, tr: Translator | None) -> str:
    values = {k: (v.render(tr) if tr is not None else str(v)) if isinstance(v, Message) else v for k, v in args.items()}
    if n is not None:
        values.setdefault("n", n)
    return template.format(**values)


class Translator:
    """Everything shown in one language: `gettext`, `ngettext`, and `text` for Messages."""

    def __init__(self, lang: str):
        self.lang = lang
        try:
            self.catalogue: gettext.NullTranslations = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
        except OSError:  # English, or a missing catalogue: the source text
            self.catalogue = gettext.NullTranslations()

    def gettext(self, msgid: str) -> str:
        return self.catalogue.gettext(msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalogue.ngettext(singular, plural, n)

    def text(self, value) -> str:
        """A Message in this language; any other value as it is (plain strings stay English)."""
        if isinstance(value, Message):
            return value.render(self)
        return "" if value is None else str(value)


@cache
def translator(lang: str | None = None) -> Translator:
    return Translator(lang or default_language())


def default_language(environ=None) -> str:
    """ "id" when the locale (LC_ALL, LC_MESSAGES or LANG, the first one set) is Indonesian, else "en"."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "id" if re.match(r"(id|in)([_.@-]|$)", value, re.IGNORECASE) else "en"
    return "en"


def check_language(lang: str | None) -> str:
    """A `--lang` value checked (ValueError for an unknown one), or the locale's default for None."""
    if lang is None:
        return default_language()
    lang = lang.strip().lower()
    if lang not in LANGUAGES:
        raise ValueError(f"{lang!r}: choose one of {', '.join(LANGUAGES)}")
    return lang


def accept_language(header: str | None, default: str = "en") -> str:
    """The language an HTTP `Accept-Language` header prefers among ours (`default` when none fits)."""
    best, best_q = default, 0.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        if code == "in":  # the old ISO code of Indonesian
            code = "id"
        q = 1.0
        m = re.search(r"q\s*=\s*([^;,\s]*)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                continue
        if code in LANGUAGES and q > best_q:
            best, best_q = code, q
    return best


# What marks a message in our code: the function's name, and how many of its first arguments are
# the message (two: singular and plural).
KEYWORDS = {"_": 1, "gettext": 1, "N_": 1, "ngettext": 2, "N_plural": 2}


def extract(fileobj, keywords=None, comment_tags=None, options=None):
    """A babel extraction method (babel.cfg) reading the code's syntax tree, so that calls inside
    f-strings are found too. Yields (line, function, message or (singular, plural), comments)."""
    import ast

    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        count = KEYWORDS.get(name) if name else None
        if not count or len(node.args) < count:
            continue
        texts = node.args[:count]
        if all(isinstance(t, ast.Constant) and isinstance(t.value, str) for t in texts):
            values = tuple(t.value for t in texts if isinstance(t, ast.Constant))
            # named as babel's own keywords, whose argument specs babel then applies
            yield node.lineno, "gettext" if count == 1 else "ngettext", values[0] if count == 1 else values, []
