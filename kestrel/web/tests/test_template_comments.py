"""A ``{# … #}`` comment ends on its own line in Django templates: spread over two lines, its text is
printed on the page (it was, under every list, until this test)."""

from pathlib import Path

import kestrel

ROOT = Path(kestrel.__file__).parent


def test_plt3_no_template_comment_spans_lines():
    broken = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.rglob("templates/**/*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.count("{#") > line.count("#}")
    ]
    assert broken == [], "use {% comment %} … {% endcomment %} for comments over several lines"
