"""The security headers each response gets: added once, never over what the view set."""

from __future__ import annotations

from flask import Response

from webapp.security import add_security_headers, policy_for


def test_a_plain_response_gets_every_header_once_and_varies_on_htmx():
    response = Response("<p>hi</p>", mimetype="text/html")
    add_security_headers(response, "default-src 'self'")
    headers = response.headers
    assert headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
    assert headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert headers.getlist("Referrer-Policy") == ["same-origin"]
    assert headers.getlist("X-Frame-Options") == ["DENY"]
    assert headers.getlist("Vary") == ["HX-Request"]


def test_what_the_view_set_stays_whatever_its_case_and_vary_is_merged():
    response = Response("x")
    response.headers["content-security-policy"] = "default-src 'none'; sandbox"
    response.headers["X-FRAME-OPTIONS"] = "SAMEORIGIN"
    response.headers["Vary"] = "Accept-Encoding"
    add_security_headers(response, "default-src 'self'")
    headers = response.headers
    assert headers.getlist("Content-Security-Policy") == ["default-src 'none'; sandbox"]
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert headers.getlist("Vary") == ["Accept-Encoding, HX-Request"]
    add_security_headers(response, "default-src 'self'")  # (a second pass adds nothing)
    assert headers.getlist("Vary") == ["Accept-Encoding, HX-Request"]
    assert len(headers.getlist("Referrer-Policy")) == 1


def test_the_policy_allows_htmx_from_its_address_with_its_hash():
    policy = policy_for("https://cdn.example/htmx.js", "sha384-abc")
    assert "script-src 'self' https://cdn.example/htmx.js 'sha384-abc'" in policy
    assert policy.startswith("default-src 'self'; ")
    assert "frame-ancestors 'none'" in policy
