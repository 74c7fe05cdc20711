"""The safe fetcher against a real HTTP server on loopback (allowed by name for the tests)."""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import time

import pytest

from tests.samples import ARTICLE_HTML, html_page, pdf, png, wrap
from tests.site import LocalSite, drip, endless, gzip_bomb, slow
from webapp.text.fetch import FetchError, _is_public, fetch_article, fetch_url

LOCAL = frozenset({"127.0.0.1"})


@pytest.fixture
def site():
    with LocalSite() as running:
        yield running


def test_a_page_is_fetched_with_its_final_address_and_type(site):
    site.page("/article", html_page(ARTICLE_HTML))
    site.routes["/moved"] = lambda h: h.redirect("/article", 301)
    resource = fetch_url(site.url("/moved"), allowed_hosts=LOCAL)
    assert resource.url == site.url("/article")
    assert resource.content_type == "text/html; charset=utf-8"
    assert b"slow reading" in resource.data
    path, headers = site.requests[-1]
    assert path == "/article"
    assert headers["Host"] == f"127.0.0.1:{site.port}"
    assert headers["User-Agent"].startswith("Marginalia/")


def test_loopback_is_refused_unless_allowed(site):
    site.page("/article", html_page(ARTICLE_HTML))
    with pytest.raises(FetchError) as error:
        fetch_url(site.url("/article"))
    assert "127.0.0.1, which is not public" in str(error.value)
    assert site.requests == []  # refused before connecting


def test_a_host_allowed_by_name_may_be_reached(site):
    site.page("/article", "<p>hello</p>")
    resource = fetch_url(site.url("/article", host="localhost"), allowed_hosts={"LOCALHOST"})
    assert resource.data == b"<p>hello</p>"


def test_a_redirect_to_a_private_address_is_refused(site):
    site.routes["/jump"] = lambda h: h.redirect(f"http://127.0.0.2:{site.port}/secret")
    with pytest.raises(FetchError) as error:
        fetch_url(site.url("/jump"), allowed_hosts=LOCAL)
    assert "leads to 127.0.0.2, which is not public" in str(error.value)
    assert [path for path, _ in site.requests] == ["/jump"]


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:84e5", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fd00:ec2::254", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),
    ],
)
def test_which_addresses_are_public(address, public):
    assert _is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.org/file", "Only http:// and https:// addresses"),
        ("file:///etc/passwd", "Only http:// and https:// addresses"),
        ("javascript:alert(1)", "Only http:// and https:// addresses"),
        ("http://", "has no host name"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http://example.org:notaport/", "not a valid web address"),
        ("http://" + "a" * 2000 + ".org/", "longer than 2,000 characters"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://[::1]:8080/", "::1, which is not public"),
        ("http://0x7f000001/", "not public"),
    ],
)
def test_bad_addresses_are_refused_before_any_connection(url, message):
    with pytest.raises(FetchError, match=message):
        fetch_url(url)


def test_a_server_that_does_not_answer_times_out(site):
    site.routes["/slow"] = slow(10)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"127\.0\.0\.1 did not answer within 0\.5 seconds"):
        fetch_url(site.url("/slow"), allowed_hosts=LOCAL, timeout=0.5)
    assert time.monotonic() - started < 8  # gave up long before the server answered


def test_a_body_that_drips_in_hits_the_deadline_for_the_whole_fetch(site):
    site.routes["/drip"] = drip(total=200, every=0.05)  # ten seconds in all
    started = time.monotonic()
    with pytest.raises(FetchError, match="did not answer within 0.6 seconds"):
        fetch_url(site.url("/drip"), allowed_hosts=LOCAL, timeout=0.6)
    assert time.monotonic() - started < 8  # gave up long before the body was complete


def test_404_is_reported(site):
    with pytest.raises(FetchError, match=r"127\.0\.0\.1 answered 404 Not Found\."):
        fetch_url(site.url("/nowhere"), allowed_hosts=LOCAL)


def test_a_redirect_loop_stops(site):
    site.routes["/loop"] = lambda h: h.redirect("/loop")
    with pytest.raises(FetchError, match="redirected more than 5 times"):
        fetch_url(site.url("/loop"), allowed_hosts=LOCAL)
    assert len(site.requests) == 6


def test_a_redirect_without_location(site):
    site.routes["/nowhere-to"] = lambda h: h.redirect("")
    with pytest.raises(FetchError, match="redirect without saying where"):
        fetch_url(site.url("/nowhere-to"), allowed_hosts=LOCAL)


def test_a_huge_body_is_refused_by_its_length(site):
    site.page("/big", b"x" * 300_000)
    with pytest.raises(FetchError, match="is larger than 195 KB"):
        fetch_url(site.url("/big"), allowed_hosts=LOCAL, max_bytes=200_000)


def test_a_huge_body_without_length_is_cut_while_it_streams(site):
    site.routes["/endless"] = endless()
    with pytest.raises(FetchError, match="larger than 1 MB"):
        fetch_url(site.url("/endless"), allowed_hosts=LOCAL, max_bytes=1024 * 1024)


def test_a_compressed_bomb_is_cut_while_it_unpacks(site):
    site.routes["/bomb"] = gzip_bomb(60 * 1024 * 1024)
    with pytest.raises(FetchError, match="larger than 5 MB"):
        fetch_url(site.url("/bomb"), allowed_hosts=LOCAL, max_bytes=5 * 1024 * 1024)


def test_a_compressed_page_is_unpacked(site):
    body = html_page(ARTICLE_HTML).encode()
    site.routes["/gz"] = lambda h: h.reply(
        gzip.compress(body), "text/html", headers={"Content-Encoding": "gzip"}
    )
    assert fetch_url(site.url("/gz"), allowed_hosts=LOCAL).data == body


# -- fetch_article: fetch, judge, extract, copy the images -----------------------------------


def test_an_article_by_address_with_its_images_copied(site):
    image = png(4, 4, (1, 2, 3))
    body = ARTICLE_HTML + '<figure><img src="/img/a.png" alt="A tiny square"></figure>'
    body += "<p>The closing paragraph of the article, long enough to be kept in it.</p>"
    site.page("/story", html_page(body))
    site.page("/img/a.png", image, "image/png")
    article = fetch_article(site.url("/story?ref=home"), allowed_hosts=LOCAL)
    assert article.kind == "html" and article.title == "Slow Reading in a Fast Age"
    [asset] = article.images
    assert asset.digest == hashlib.sha256(image).hexdigest() and asset.alt == "A tiny square"
    assert f"![A tiny square](asset:{asset.digest})" in article.body_markdown
    # The page's canonical address wins over the address it was fetched from.
    assert article.source_url == "https://news.example.org/2024/slow-reading"


def test_an_image_on_a_private_address_is_not_copied(site):
    body = ARTICLE_HTML + f'<p><img src="http://127.0.0.2:{site.port}/a.png" alt="x"></p>'
    site.page("/story", html_page(body))
    article = fetch_article(site.url("/story"), allowed_hosts=LOCAL)
    assert article.images == ()
    assert article.notes == ("1 image could not be copied and was left out.",)


def test_a_pdf_by_address_is_extracted_as_a_pdf(site):
    lines = wrap("A paragraph of a PDF that was fetched by its web address. " * 3)
    site.page("/paper.pdf", pdf([lines, lines], title="Fetched Paper"), "application/pdf")
    article = fetch_article(site.url("/paper.pdf"), allowed_hosts=LOCAL)
    assert (article.kind, article.title) == ("pdf", "Fetched Paper")
    assert article.source_url == site.url("/paper.pdf")


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (b'{"a": 1}', "application/json", "returned application/json, not a web page"),
        (png(), "image/png", "returned image/png, not a web page"),
        (png(), "text/html", "is a PNG image, not a web page"),
        (b"Just some words.\n", "text/plain", "returned text/plain, not a web page"),
    ],
)
def test_what_is_not_an_article_is_refused(site, body, content_type, message):
    site.page("/thing", body, content_type)
    with pytest.raises(FetchError if "returned" in message else ValueError, match=message):
        fetch_article(site.url("/thing"), allowed_hosts=LOCAL)


def test_a_huge_page_is_refused_by_fetch_article(site):
    site.routes["/endless"] = endless()
    with pytest.raises(FetchError, match="larger than 1 MB"):
        fetch_article(site.url("/endless"), allowed_hosts=LOCAL, max_bytes=1024 * 1024)
