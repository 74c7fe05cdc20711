"""What a person hands in, checked before anything is extracted or stored."""

from __future__ import annotations

import pytest

from webapp.services.intake import (
    MAX_TEXT_CHARS,
    IntakeError,
    Overrides,
    from_text,
    from_upload,
    read_overrides,
)


def test_empty_fields_keep_what_was_extracted_unless_the_form_showed_every_detail():
    assert read_overrides({}) == Overrides()
    assert read_overrides({"byline": "", "title": "  A   Title \x00"}) == Overrides(title="A Title")
    assert read_overrides({"byline": "", "date": "", "details": "exact"}) == Overrides(
        byline="", date_text=""
    )


@pytest.mark.parametrize(
    "values, field",
    [
        ({"title": "x" * 501}, "title"),
        ({"date": "x" * 101}, "date"),
        ({"source_url": "javascript:alert(1)"}, "source_url"),
        ({"source_url": "https://"}, "source_url"),
    ],
)
def test_bad_details_name_their_field(values, field):
    with pytest.raises(IntakeError) as error:
        read_overrides(values)
    assert error.value.field == field and error.value.status == 422


def test_text_limits():
    with pytest.raises(IntakeError) as error:
        from_text(" \r\n ")
    assert (error.value.field, error.value.status) == ("text", 422)
    with pytest.raises(IntakeError) as error:
        from_text("a" * (MAX_TEXT_CHARS + 1))
    assert error.value.status == 413 and "300,000" in str(error.value)
    assert from_text("# T\r\n\r\nBody.").title == "T"


def test_upload_limits_and_messages_start_with_a_capital():
    with pytest.raises(IntakeError) as error:
        from_upload(b"", "a.md", None)
    assert (error.value.field, error.value.status) == ("file", 422)
    with pytest.raises(IntakeError) as error:
        from_upload(b"a" * (20 * 1024 * 1024 + 1), "a.txt", None)
    assert error.value.status == 413
    with pytest.raises(IntakeError) as error:
        from_upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "photo.pdf", "application/pdf")
    assert str(error.value)[0].isupper() and str(error.value).endswith(".")
