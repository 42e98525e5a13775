"""Reading a built HTML site: what each page loads, and where each of its links points."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

EXTERNAL = ("http://", "https://", "//")
NOT_PAGES = ("_static", "_sources", "_images")  # theme templates and copied sources, not pages a reader opens


def pages(site: Path) -> list[Path]:
    """Return the site's HTML pages."""
    return sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in NOT_PAGES)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []   # what the browser fetches on its own: scripts, stylesheets, images
        self.links: list[str] = []   # where a reader can go: href of <a>
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag in ("script", "img", "iframe", "source", "video", "audio") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "img" and a.get("srcset"):
            self.loads.extend(part.split()[0] for part in a["srcset"].split(",") if part.strip())
        if tag == "link" and a.get("href") and set(a.get("rel", "").split()) & {"stylesheet", "preload", "icon",
                                                                                  "modulepreload"}:
            self.loads.append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def read(path: Path) -> _Page:
    """Return what the page at ``path`` loads, links to and names as anchors."""
    page = _Page()
    page.feed(path.read_text(errors="replace"))
    return page


def external_loads(site: Path) -> list[str]:
    """Return 'page: url' for everything a page of ``site`` would fetch from another host."""
    return [f"{p.relative_to(site)}: {url}" for p in pages(site) for url in read(p).loads if url.startswith(EXTERNAL)]


def broken_links(site: Path) -> list[str]:
    """Return 'page: target' for every internal link or image of ``site`` that does not resolve.

    A target resolves when its file exists and, if it names an anchor, the target page has that id.
    """
    parsed = {p.resolve(): read(p) for p in pages(site)}
    broken = []
    for path, page in sorted(parsed.items()):
        for target in [*page.links, *page.loads]:
            parts = urlsplit(target)
            if parts.scheme or target.startswith(("//", "mailto:", "javascript:")):
                continue
            file = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                broken.append(f"{path.relative_to(site.resolve())}: {target} (no such file)")
            elif parts.fragment and file.suffix == ".html":
                ids = parsed[file].ids if file in parsed else read(file).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(site.resolve())}: {target} (no anchor #{parts.fragment})")
    return broken
