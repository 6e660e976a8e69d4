"""A page's structure as a test sees it: landmarks, headings, meta tags, scripts and links."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Outline:
    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)

    def first(self, tag: str, **attrs: str) -> dict[str, str] | None:
        for name, found in self.tags:
            if name == tag and all(found.get(k) == v for k, v in attrs.items()):
                return found
        return None

    def count(self, tag: str) -> int:
        return sum(1 for name, _ in self.tags if name == tag)

    def meta(self, key: str) -> str | None:
        for name, attrs in self.tags:
            if name == "meta" and key in (attrs.get("property"), attrs.get("name")):
                return attrs.get("content")
        return None


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = Outline()
        self._heading: int | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.outline.tags.append((tag, {k: v or "" for k, v in attrs}))
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self._heading, self._text = int(tag[1]), []

    def handle_endtag(self, tag: str) -> None:
        if self._heading is not None and tag == f"h{self._heading}":
            self.outline.headings.append((self._heading, " ".join("".join(self._text).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._text.append(data)


def outline(html: str | bytes) -> Outline:
    parser = _Parser()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    parser.close()
    return parser.outline


class _DefinitionParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[list[str]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("dt", "dd"):
            self._in = tag
            if tag == "dt":
                self.pairs.append(["", ""])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("dt", "dd"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and self.pairs:
            self.pairs[-1][0 if self._in == "dt" else 1] += data


def definitions(html: str | bytes) -> dict[str, str]:
    """A page's description-list terms and values, whitespace collapsed."""
    parser = _DefinitionParser()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return {" ".join(k.split()): " ".join(v.split()) for k, v in parser.pairs}
