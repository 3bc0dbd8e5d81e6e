"""The few XML shapes OSS speaks: building answers and reading CompleteMultipartUpload bodies.

Answers are built by hand (escaped) rather than through ElementTree so that element order and
the XML declaration match what OSS sends byte for byte in spirit, and clients that parse with
regular expressions or strict parsers alike accept them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# A node is (tag, text) or (tag, children).
Node = tuple[str, "str | Sequence[Node]"]


def render(root: Node) -> bytes:
    """Serialise a node tree, with the XML declaration OSS puts in front of every answer."""
    return (XML_DECLARATION + _render(root)).encode("utf-8")


def _render(node: Node) -> str:
    tag, content = node
    if isinstance(content, str):
        return f"<{tag}>{escape(content)}</{tag}>"
    inner = "".join(_render(child) for child in content)
    return f"<{tag}>{inner}</{tag}>"


@dataclass(frozen=True, slots=True)
class CompletePart:
    part_number: int
    etag: str


class MalformedXML(ValueError):
    """The body is not the XML the call expects (OSS answers MalformedXML)."""


def parse_complete_body(body: bytes) -> list[CompletePart]:
    """Read ``<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...``."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - body size is capped by the caller
    except ET.ParseError as exc:
        raise MalformedXML(str(exc)) from exc
    if root.tag != "CompleteMultipartUpload":
        raise MalformedXML(f"root element is {root.tag!r}")
    parts: list[CompletePart] = []
    for node in root.findall("Part"):
        number_text = node.findtext("PartNumber")
        etag = node.findtext("ETag")
        if number_text is None or etag is None:
            raise MalformedXML("a Part lacks PartNumber or ETag")
        try:
            number = int(number_text.strip())
        except ValueError as exc:
            raise MalformedXML(f"PartNumber {number_text!r} is not a number") from exc
        parts.append(CompletePart(number, etag.strip()))
    return parts
