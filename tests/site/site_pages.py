"""Shared by the browser tests: every page of the book (from _toc.yml), and a phone-sized tab."""

from __future__ import annotations

from tests.site.test_site import HTML, toc_files


def book_pages() -> list[str]:
    """Every page the table of contents lists, as paths under the built site."""
    return [f"{f}.html" for f in toc_files() if (HTML / f"{f}.html").exists()]


def resize(tab, width: int, height: int, mobile: bool = False) -> None:
    tab.send("Emulation.setDeviceMetricsOverride",
             {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
