"""A photo's social-media post in report.html and summary.csv: shown, escaped, never executed."""

from __future__ import annotations

from collections import Counter

from made import finding

from gesture_audit.report.evidence import Evidence
from gesture_audit.report.html import render_html
from gesture_audit.report.summary import COLUMNS, summary_row
from gesture_audit.results import Finding


def post_row(path: str, caption: str, link: str | None) -> Finding:
    post = {"source": "x", "time": "2024-01-01T10:00:00+00:00", "caption": caption, "link": link}
    return finding(path, "review", 0.55, reasons=["the post's caption names ballot 02"], post=post)


def test_post_in_report_and_csv():
    shown = post_row(
        "x.zip!/data/tweets_media/1-a.jpg", '<script>alert(1)</script> #02 "coblos"', "https://x.com/i/web/status/1"
    )
    hostile = post_row("b.jpg", '=HYPERLINK("http://evil")', "javascript:alert(1)")
    page = render_html(
        [shown, hostile],
        {f.path: Evidence(missing="test") for f in (shown, hostile)},
        [],
        Counter(review=2),
        None,
        include_clear=False,
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt; #02 &quot;coblos&quot;" in page and "<script>alert(1)" not in page
    assert 'href="https://x.com/i/web/status/1"' in page and "javascript:alert" not in page
    assert "x.zip!/data/tweets_media/1-a.jpg" in page and "2024-01-01T10:00:00+00:00" in page
    row = dict(zip(COLUMNS, summary_row(hostile)))
    assert row["post_caption"] == '\'=HYPERLINK("http://evil")'  # a formula shown as text
    assert row["post_time"] == "2024-01-01T10:00:00+00:00"
    assert summary_row(Finding("c.jpg", None))[-3:] == ["", "", ""]  # no post: empty cells
    assert Finding.from_dict(shown.to_dict()) == shown and "post" not in Finding("c.jpg", None).to_dict()
