"""What a file is, judged by its bytes: never by its name or its declared type."""

from __future__ import annotations

import codecs
import io
import re
import zipfile

from webapp.text.extract.images import sniff_image

# Formats we recognise only to refuse them by name.
_SIGNATURES = (
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"%!PS", "a PostScript file"),
    (b"{\\rtf", "an RTF document (save it as .docx)"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio or video file"),
    (b"fLaC", "a FLAC audio file"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an icon file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word (.doc) or Office file (save it as .docx)"),
)
_IMAGE_NAMES = {
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
}
_ZIP_KINDS = (
    ("word/document.xml", "docx"),
    ("xl/workbook.xml", "an Excel workbook"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HTML_STRONG = re.compile(r"(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.S)
_HTML_WEAK = re.compile(
    r"<(article|main|section|div|p|h[1-6]|meta|title|table|ul|ol|header|nav|span|a|br)[\s>/]"
)
_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def sniff(data: bytes) -> str:
    """ "pdf", "docx", "text", or a description of what else the bytes are ("a PNG image")."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if image := sniff_image(data):
        return _IMAGE_NAMES[image]
    if data[4:8] == b"ftyp":
        return "a video or audio file"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text"
    head = data[:8192]
    if b"\x00" in head:
        return "a binary file"
    sample = head.decode("latin-1")
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        return "a binary file"
    return "text"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError):
        # A docx is a ZIP archive: a damaged one still names its parts near the start.
        return "docx" if b"word/" in data[:4096] else "a damaged ZIP archive"
    for part, kind in _ZIP_KINDS:
        if part in names:
            return kind
    if mimetype == b"application/epub+zip":
        return "an EPUB book"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        return "an OpenDocument text (save it as .docx)"
    return "a ZIP archive"


def decode_text(data: bytes, content_type: str | None) -> str | None:
    """The text of the bytes: UTF-8 or UTF-16 (with a BOM), else the charset an HTML page
    declares (header or <meta>), else None."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(data, content_type)
    if declared:
        try:
            return data.decode(declared, errors="replace")
        except LookupError:
            return None
    return None


def _declared_charset(data: bytes, content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    if looks_like_html(data[:4096].decode("latin-1"), strong_only=True):
        match = _CHARSET.search(data[:4096])
        # An HTML page with no declared charset is windows-1252, as browsers read it.
        return match.group(1).decode("ascii") if match else "windows-1252"
    return None


def looks_like_html(text: str, *, strong_only: bool = False) -> bool:
    """A page (doctype, <html>, <head>, <body>), or, unless strong_only, a fragment that
    starts with a common HTML element."""
    head = _XML_PROLOG.sub("", text.lstrip("\ufeff \t\r\n")[:4096], count=1).lower()
    if _HTML_STRONG.match(head):
        return True
    return not strong_only and bool(_HTML_WEAK.match(head))


def is_svg(text: str) -> bool:
    head = _XML_PROLOG.sub("", text.lstrip("\ufeff \t\r\n")[:4096], count=1).lower()
    head = re.sub(r"^(<!--.*?-->\s*|<!doctype[^>]*>\s*)*", "", head, flags=re.S)
    return head.startswith("<svg")
