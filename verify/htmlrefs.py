"""What a page loads: its scripts, stylesheets, images and frames, and a CSP given in a meta tag.

Parsed with the standard library's tolerant HTML parser (a broken page must not stop the audit);
links (`<a href>`) are navigation, not subresources, and are left out. URLs are resolved against the
page URL (and a `<base href>`).
"""
from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# (tag, attribute) pairs that load a subresource the browser fetches with the page.
_LOADS = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
          ("audio", "src"), ("embed", "src"), ("object", "data"), ("track", "src"), ("input", "src")}
_LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "manifest", "prefetch"}
MAX_REFS = 500


@dataclass(frozen=True)
class PageRefs:
    scripts: tuple[str, ...] = ()                      # absolute URLs of <script src>
    subresources: tuple[tuple[str, str, int], ...] = ()  # (tag, absolute URL, line) of everything loaded
    meta_csp: tuple[str, ...] = ()                     # <meta http-equiv="Content-Security-Policy" content>


class _Parser(HTMLParser):
    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.scripts: list[str] = []
        self.subs: list[tuple[str, str, int]] = []
        self.meta_csp: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.subs) >= MAX_REFS:
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href"):
            self.base = urljoin(self.base, a["href"].strip())
        elif tag == "meta" and a.get("http-equiv", "").lower() == "content-security-policy":
            self.meta_csp.append(a.get("content", ""))
        elif tag == "link" and _LINK_RELS & set(a.get("rel", "").lower().split()) and a.get("href"):
            self._add(tag, a["href"])
        for t, attr in _LOADS:
            if t == tag and a.get(attr):
                url = self._add(tag, a[attr])
                if tag == "script" and url:
                    self.scripts.append(url)
        if tag in ("img", "source") and a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self._add(tag, part.strip().split()[0])

    def _add(self, tag: str, ref: str) -> str | None:
        ref = ref.strip()
        if not ref or ref.startswith(("data:", "blob:", "javascript:", "about:", "#")):
            return None
        url = urljoin(self.base, ref)
        self.subs.append((tag, url, self.getpos()[0]))
        return url


def page_refs(html: str, url: str) -> PageRefs:
    p = _Parser(url)
    try:
        p.feed(html)
        p.close()
    except (AssertionError, ValueError):  # the parser gives up on some broken markup: keep what it found
        pass
    return PageRefs(scripts=tuple(dict.fromkeys(p.scripts)), subresources=tuple(p.subs), meta_csp=tuple(p.meta_csp))


def same_origin(url: str, page_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(page_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
