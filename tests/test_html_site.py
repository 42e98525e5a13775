"""The built site's checks can fail: a page that fetches from a CDN, a link to nowhere, a missing anchor."""

from __future__ import annotations

from html_site import broken_links, external_loads


def test_external_loads_and_broken_links_are_found(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example.org/x.js"></script><link rel="stylesheet" href="//cdn.example.org/s.css">'
        '<img src="img/ok.png"><img src="img/missing.png"><a href="b.html#there">b</a><a href="b.html#nowhere">b</a>'
        '<a href="https://example.org/">an outside link is not a load</a><a href="#top" id="top">top</a>')
    (tmp_path / "b.html").write_text('<h1 id="there">B</h1><a href="a.html">back</a>')
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "ok.png").write_bytes(b"")
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "macros.html").write_text('<script src="{{ pathto(x) }}"></script>')  # not a page
    assert external_loads(tmp_path) == ["a.html: https://cdn.example.org/x.js", "a.html: //cdn.example.org/s.css"]
    assert sorted(broken_links(tmp_path)) == ["a.html: b.html#nowhere (no anchor #nowhere)",
                                              "a.html: img/missing.png (no such file)"]
