"""A web page: the article in it, found by trafilatura; navigation and boilerplate dropped.

trafilatura gives its result as an XML tree of its own (head, p, list, item, quote, hi,
ref, graphic, table, row, cell, lb, code). We turn that into plain HTML elements, copy the
images through the caller's fetcher, and write the Markdown with tomarkdown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree

from webapp.text.extract.base import MAX_IMAGES, ExtractedArticle, ExtractError
from webapp.text.extract.images import ImageCollector, decode_data_uri
from webapp.text.extract.tomarkdown import html_to_markdown

FetchImage = Callable[[str], bytes | None]

_HI = {
    "#b": "strong",
    "#strong": "strong",
    "#i": "em",
    "#em": "em",
    "#t": "code",
    "#sup": "sup",
    "#sub": "sub",
}
_BLOCK_PARENTS = {"body", "main", "doc", "div", "quote", "item", "cell"}
_IMAGE_FETCH_THREADS = 4


def extract_html(html: str, *, base_url: str | None, fetch_image: FetchImage | None):
    """The article of an HTML page (a whole page or a fragment)."""
    html, captions = _captions_as_paragraphs(html)
    try:
        document = trafilatura.bare_extraction(
            html,
            url=base_url,
            with_metadata=True,
            include_comments=False,
            include_formatting=True,
            include_links=True,
            include_images=True,
            include_tables=True,
            favor_recall=True,
        )
    except (ValueError, etree.LxmlError) as error:
        raise ExtractError(f"This HTML page cannot be read: {error}") from None
    body = getattr(document, "body", None)
    if body is None or not "".join(body.itertext()).strip():
        raise ExtractError(
            "No article text was found in this page: it may be built by JavaScript, or "
            "be a list of links rather than an article. Paste the text instead."
        )
    title = _clean(document.title) or _first_h1(html)
    _to_html(body)
    _drop_heading_equal_to(body, title)
    images = ImageCollector()
    _copy_images(body, images, base_url, fetch_image)
    _figures(body, captions)
    markdown = html_to_markdown(etree.tostring(body, encoding="unicode", method="html"), base_url)
    return ExtractedArticle(
        kind="html",
        title=title,
        byline=_clean((document.author or "").replace(";", ",")),
        date_text=_clean(document.date),
        source_url=_http_url(document.url) or _http_url(base_url),
        body_markdown=markdown,
        images=images.assets(),
        notes=images.notes(),
    )


def _to_html(root) -> None:
    """trafilatura's elements renamed to the HTML ones they stand for, in place."""
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        tag = element.tag
        rend = element.get("rend", "")
        if tag == "head":
            element.tag = rend if re.fullmatch(r"h[1-6]", rend) else "h2"
        elif tag == "list":
            element.tag = "ol" if rend == "ol" else "ul"
        elif tag == "item":
            element.tag = "li"
        elif tag == "quote":
            element.tag = "blockquote"
        elif tag == "hi":
            element.tag = _HI.get(rend, "span")
        elif tag == "ref":
            element.tag = "a"
            element.set("href", element.get("target", ""))
        elif tag == "graphic":
            element.tag = "img"
        elif tag == "lb":
            element.tag = "br"
        elif tag == "row":
            element.tag = "tr"
        elif tag == "cell":
            element.tag = "th" if element.get("role") == "head" else "td"
        elif tag == "code":
            parent = element.getparent()
            if parent is not None and parent.tag in _BLOCK_PARENTS | {"blockquote", "li"}:
                element.tag = "pre"  # a code block, not inline code
        elif tag in {"main", "doc"}:
            element.tag = "div"
        for name in ("rend", "target", "role"):
            element.attrib.pop(name, None)


def _captions_as_paragraphs(html: str) -> tuple[str, set[str]]:
    """trafilatura drops <figcaption> but keeps a paragraph there, after the image: the page
    with its captions as paragraphs, and their texts to find them again."""
    if "figcaption" not in html.lower():
        return html, set()
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, etree.LxmlError):
        return html, set()
    captions = set()
    for caption in tree.iter("figcaption"):
        caption.tag = "p"
        captions.add(_normal(caption.text_content()))
    return lxml.html.tostring(tree, encoding="unicode"), captions


def _figures(body, captions: set[str]) -> None:
    """An image followed by its caption paragraph becomes <figure><img><figcaption>."""
    for img in list(body.iter("img")):
        anchor = img
        parent = img.getparent()
        if parent is not None and parent.tag == "p" and len(parent) == 1:
            if not "".join(parent.itertext()).strip() and not (img.tail or "").strip():
                anchor = parent  # an image alone in a paragraph
        caption = anchor.getnext()
        if (img.tail or "").strip() and anchor is img:
            continue
        if (
            caption is None
            or caption.tag != "p"
            or _normal("".join(caption.itertext())) not in captions
        ):
            continue
        figure = etree.Element("figure")
        anchor.addprevious(figure)
        figure.append(img)
        caption.tag = "figcaption"
        figure.append(caption)
        if anchor is not img:
            anchor.getparent().remove(anchor)


def _drop_heading_equal_to(body, title: str | None) -> None:
    """The page's own title repeated as its first heading is metadata, not body."""
    if not title:
        return
    for element in body.iter():
        if element is body or not isinstance(element.tag, str):
            continue
        if re.fullmatch(r"h[1-6]", element.tag) and _same_text("".join(element.itertext()), title):
            element.getparent().remove(element)
        if element.tag not in {"div", "section", "article"}:
            return


def _copy_images(body, images: ImageCollector, base_url, fetch_image) -> None:
    """Each image replaced by its copy (`asset:<digest>`), or removed."""
    found = [img for img in body.iter("img")]
    addresses: dict[str, str] = {}
    for img in found:
        src = (img.get("src") or "").strip()
        if src.startswith("data:"):
            continue
        address = urljoin(base_url, src) if base_url else src
        if urlsplit(address).scheme in {"http", "https"}:
            addresses.setdefault(address, address)
    fetched: dict[str, bytes | None] = {}
    if fetch_image is not None and addresses:
        wanted = list(addresses)[:MAX_IMAGES]
        with ThreadPoolExecutor(_IMAGE_FETCH_THREADS) as pool:
            fetched = dict(zip(wanted, pool.map(_quietly(fetch_image), wanted), strict=True))
    for img in found:
        src = (img.get("src") or "").strip()
        alt = img.get("alt") or img.get("title") or ""
        if src.startswith("data:"):
            digest = images.add(decode_data_uri(src), alt)
        else:
            address = urljoin(base_url, src) if base_url else src
            digest = images.add(fetched[address], alt) if address in fetched else None
            if address not in fetched:
                images.missing()
        if digest is None:
            _remove_keeping_tail(img)
        else:
            for name in list(img.attrib):
                if name not in {"src", "alt"}:
                    del img.attrib[name]
            img.set("src", f"asset:{digest}")
            img.set("alt", " ".join(alt.split()))


def _quietly(fetch_image: FetchImage) -> FetchImage:
    def fetch(url: str) -> bytes | None:
        try:
            return fetch_image(url)
        except ValueError:
            return None

    return fetch


def _remove_keeping_tail(element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _first_h1(html: str) -> str | None:
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, etree.LxmlError):
        return None
    for heading in tree.iter("h1"):
        if text := _clean(heading.text_content()):
            return text
    return None


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _http_url(value: str | None) -> str | None:
    value = (value or "").strip()
    try:
        return value if urlsplit(value).scheme in {"http", "https"} and len(value) <= 2000 else None
    except ValueError:
        return None
