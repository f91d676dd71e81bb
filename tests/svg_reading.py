"""Reading the packs' inline SVG in tests: parse it, and find elements and texts by tag and class."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - parses only the project's own chart output

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - our own output, parsed to check it is well formed


def elements(root: ET.Element, tag: str | None = None, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{NS}{tag}") if tag else root.iter()
    return [e for e in found if cls is None or cls in (e.get("class") or "").split()]


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [e.text or "" for e in elements(root, "text", cls)]
