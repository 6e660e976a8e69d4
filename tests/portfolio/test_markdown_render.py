"""Markdown from the admin becomes HTML that cannot run script on a visitor's browser."""

import pytest

from portfolio.markdown_render import render_markdown
from portfolio.models import Project
from tests.portfolio.page_outline import outline

ATTACKS = """\
Hello **world**.

<script>alert("x")</script>

<img src="x.png" alt="x" onerror="alert(1)">

<a href="javascript:alert(2)">raw link</a> and [md link](javascript:alert(3))

<a href="JaVaScRiPt:alert(4)">mixed case</a> <a href="data:text/html,<b>x</b>">data</a>

<p onclick="alert(5)" style="color:red">styled</p>

<iframe src="https://example.com"></iframe><style>body{display:none}</style>

<svg><script>alert(6)</script></svg>
"""


def _dangerous(html: str) -> list[str]:
    found = []
    for tag, attrs in outline(html).tags:
        if tag in {"script", "iframe", "style", "svg", "object", "embed"}:
            found.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                found.append(f"{tag}[{name}]")
            if name in {"href", "src"} and value.strip().lower().startswith(
                ("javascript:", "data:")
            ):
                found.append(f"{tag}[{name}={value}]")
    return found


def test_script_event_handlers_and_script_urls_do_not_survive():
    html = render_markdown(ATTACKS)
    assert _dangerous(html) == []
    assert "<script" not in html.lower()
    assert "onerror" not in html and "onclick" not in html
    assert 'href="javascript:' not in html.lower()
    assert "alert(1)" not in html and 'alert("x")' not in html


def test_harmless_markup_is_kept():
    html = render_markdown(ATTACKS)
    assert "<strong>world</strong>" in html
    assert '<img src="x.png" alt="x">' in html
    assert ">raw link</a>" in html and "<p>styled</p>" in html


def test_links_keep_safe_schemes_and_get_noopener():
    html = render_markdown("[site](https://example.com) [mail](mailto:a@example.com)")
    assert '<a href="https://example.com" rel="noopener noreferrer">site</a>' in html
    assert '<a href="mailto:a@example.com" rel="noopener noreferrer">mail</a>' in html


@pytest.mark.parametrize(
    ("text", "top", "expected"),
    [
        ("# A\n\n## B", 2, [(2, "A"), (3, "B")]),
        ("## A\n\n### B", 2, [(2, "A"), (3, "B")]),
        ("### Only", 4, [(4, "Only")]),
        ("# A\n\n###### Deep", 2, [(2, "A"), (6, "Deep")]),
    ],
)
def test_headings_nest_under_the_page_heading(text, top, expected):
    assert outline(render_markdown(text, top_heading=top)).headings == expected


def test_tables_and_code_render():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx < y\n```")
    assert "<table>" in html and "<td>2</td>" in html
    assert "<pre><code>x &lt; y\n</code></pre>" in html


def test_empty_text_renders_nothing():
    assert render_markdown("   \n") == ""


@pytest.mark.django_db
def test_a_project_stores_its_sanitised_body_on_save():
    project = Project.objects.create(
        title="T", slug="t", summary="s", body="# Title\n\n<script>alert(1)</script>ok"
    )
    assert project.body_html.startswith("<h2>Title</h2>")
    assert "script" not in project.body_html
    project.body = "Changed"
    project.save()
    assert Project.objects.get(pk=project.pk).body_html == "<p>Changed</p>\n"
