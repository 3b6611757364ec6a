"""A tiny HTML inspector (stdlib parser): tags with attributes, headings in order, text."""

from __future__ import annotations

from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[int] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def urls(self) -> list[str]:
        return [
            v or ""
            for _, attrs in self.tags
            for k, v in attrs.items()
            if k in ("src", "href", "srcset", "action")
        ]


def check_page(html: str) -> Page:
    """The checks every convlens page passes: offline, accessible, script-free."""
    page = Page(html)
    assert html.startswith("<!doctype html>")
    (root,) = page.all("html")
    assert root.get("lang") == "en"
    metas = [m for m in page.all("meta") if (m.get("http-equiv") or "").lower() == "content-security-policy"]
    assert [m["content"] for m in metas] == ["default-src 'none'; img-src data:; style-src 'unsafe-inline'"]
    assert not [u for u in page.urls() if u.lower().startswith(("http:", "https:", "//"))]
    assert all((u.startswith(("#", "data:"))) for u in page.urls()), page.urls()
    assert not page.all("script") and not page.all("iframe") and not page.all("object")
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]  # no event handlers
    assert all(img.get("alt") for img in page.all("img"))
    assert page.headings and page.headings[0] == 1 and page.headings.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(page.headings, page.headings[1:])), page.headings
    assert "@media print" in html
    return page
