"""Markdown written in the admin, turned into HTML that is safe to put on a public page.

The admin is trusted less than it looks: a pasted snippet or a compromised staff account must not
be able to run script on visitors' browsers, so whatever markdown-it produces (raw HTML included)
goes through nh3's allow-list before it is stored.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Links may only leave for the web or a mail client; `javascript:`/`data:` never survive.
_URL_SCHEMES = {"http", "https", "mailto"}


# Raw HTML is allowed through the parser on purpose: nh3 removes what is dangerous, and an owner
# pasting `<kbd>` or a `<details>` block gets what they expect.
_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render_markdown(text: str, top_heading: int = 2) -> str:
    """Sanitised HTML for `text`, its highest Markdown heading shifted to level `top_heading`.

    The page owns the single h1 and the levels above the text, so whether the owner starts
    sections with `#` or `##`, they nest under the page's own headings without skipping a level.
    """
    if not text.strip():
        return ""
    tokens = _PARSER.parse(text)
    headings = [t for t in tokens if t.type in ("heading_open", "heading_close")]
    if headings:
        shift = top_heading - min(int(t.tag[1]) for t in headings)
        for token in headings:
            token.tag = f"h{max(1, min(6, int(token.tag[1]) + shift))}"
    return sanitise_html(_PARSER.renderer.render(tokens, _PARSER.options, {}))


def sanitise_html(html: str) -> str:
    """`html` reduced to nh3's allow-list of tags and attributes and safe URL schemes."""
    return nh3.clean(
        html,
        url_schemes=_URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
    )
