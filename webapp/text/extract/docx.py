"""A Word document (.docx), converted by mammoth: headings, paragraphs, lists, emphasis,
links, tables and images kept."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

import lxml.html
import mammoth
from lxml import etree

from webapp.text.extract.base import ExtractedArticle, ExtractError
from webapp.text.extract.images import ImageCollector
from webapp.text.extract.tomarkdown import html_to_markdown

# Word's own styles that mammoth does not map by default.
_STYLE_MAP = """
p[style-name='Title'] => h1:fresh
p[style-name='Subtitle'] => h2:fresh
p[style-name='Quote'] => blockquote > p:fresh
p[style-name='Intense Quote'] => blockquote > p:fresh
p[style-name='Caption'] => p.caption:fresh
"""
# A .docx is a ZIP archive: refuse one that would unpack to far more than it weighs.
_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_CORE = "docProps/core.xml"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DAMAGED = "This Word document is damaged and cannot be read ({}). Open and save it again."
# Authors that are a program's placeholder, not a person.
_PLACEHOLDER_AUTHORS = {"python-docx", "unknown", "author", "user", "admin", "administrator"}


def extract_docx(data: bytes) -> ExtractedArticle:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ExtractError(_DAMAGED.format(error)) from None
    if sum(info.file_size for info in infos) > _MAX_UNPACKED_BYTES:
        raise ExtractError("This Word document unpacks to more than 200 MB; it is refused.")
    names = {info.filename for info in infos}
    if "word/document.xml" not in names:
        raise ExtractError(_DAMAGED.format("it has no word/document.xml"))
    title, author = _core_properties(archive) if _CORE in names else (None, None)

    images = ImageCollector()

    def keep_image(image) -> dict[str, str]:
        try:
            with image.open() as stream:
                digest = images.add(stream.read(), image.alt_text or "")
        except (KeyError, OSError, ValueError):
            digest = images.add(None)
        return {"src": f"asset:{digest}", "alt": image.alt_text or ""} if digest else {}

    try:
        result = mammoth.convert_to_html(
            io.BytesIO(data),
            style_map=_STYLE_MAP,
            convert_image=mammoth.images.img_element(keep_image),
        )
    except Exception as error:  # mammoth raises many kinds of error on a damaged file
        raise ExtractError(_DAMAGED.format(type(error).__name__)) from None
    html = _captioned_figures(result.value)
    title, html = _leading_heading(html, title)
    markdown = html_to_markdown(html)
    return ExtractedArticle(
        kind="docx",
        title=title,
        byline=author,
        date_text=None,
        source_url=None,
        body_markdown=markdown,
        images=images.assets(),
        notes=images.notes(),
    )


def _core_properties(archive: zipfile.ZipFile) -> tuple[str | None, str | None]:
    try:
        root = ElementTree.fromstring(archive.read(_CORE))
    except (ElementTree.ParseError, KeyError, OSError, zipfile.BadZipFile):
        return None, None
    title = " ".join((root.findtext(f"{_DC}title") or "").split()) or None
    author = " ".join((root.findtext(f"{_DC}creator") or "").split()) or None
    if author and author.casefold() in _PLACEHOLDER_AUTHORS:
        author = None
    return title, author


def _fragment(html: str):
    return lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")


def _captioned_figures(html: str) -> str:
    """An image alone in a paragraph followed by a Caption paragraph becomes a figure."""
    if "caption" not in html:
        return html
    root = _fragment(html)
    for paragraph in root.findall("p"):
        images = paragraph.findall("img")
        if len(images) != 1 or paragraph.text_content().strip():
            continue
        caption = paragraph.getnext()
        if caption is None or caption.tag != "p" or "caption" not in caption.get("class", ""):
            continue
        figure = etree.Element("figure")
        figure.append(images[0])
        figcaption = etree.SubElement(figure, "figcaption")
        figcaption.text = caption.text
        for child in list(caption):
            figcaption.append(child)
        paragraph.addprevious(figure)
        root.remove(paragraph)
        root.remove(caption)
    return _inner_html(root)


def _leading_heading(html: str, title: str | None) -> tuple[str | None, str]:
    """The title: the document's title property, else the heading that opens the text.
    That heading leaves the body when it is the title."""
    root = _fragment(html)
    first = next((child for child in root if isinstance(child.tag, str)), None)
    if first is None or not re.fullmatch(r"h[1-2]", first.tag):
        return title, html
    heading = " ".join(first.text_content().split())
    if not heading or (title and heading.casefold() != title.casefold()):
        return title, html
    root.remove(first)
    return heading, _inner_html(root)


def _inner_html(root) -> str:
    return (root.text or "") + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in root
    )
