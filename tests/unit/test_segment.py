"""Sentence starts: the offsets where the reader's sentence spans begin."""

from __future__ import annotations

import pytest

from webapp.text.segment import sentence_starts


def sentences(text: str) -> list[str]:
    starts = sentence_starts(text)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def test_empty_text_has_no_sentences():
    assert sentence_starts("") == []


def test_one_sentence_starts_at_zero():
    assert sentence_starts("Just one sentence without a full stop") == [0]
    assert sentence_starts("One.") == [0]


def test_ordinary_prose():
    text = "The group was hailed in the West. Its members say they are neutral! Are they? Yes."
    assert sentences(text) == [
        "The group was hailed in the West. ",
        "Its members say they are neutral! ",
        "Are they? ",
        "Yes.",
    ]


def test_offsets_are_code_points_after_the_whitespace():
    text = "🎉 Party.  𝔐 is next.\nNew line."
    starts = sentence_starts(text)
    assert starts == [0, 10, 21]  # 🎉 and 𝔐 are one code point each
    assert text[10] == "𝔐" and text[21] == "N"


def test_trailing_whitespace_adds_no_empty_sentence():
    assert sentence_starts("First. Second.   ") == [0, 7]


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith met Dr. Jones at St. Mary's.",
        "Mrs. Smith and Ms. Lee, vs. the rest.",
        "Bring fruit, e.g. Apples and pears.",
        "Bring fruit, i.e. Apples only.",
        "They came from No. 5 Downing Street.",
        "Martin Luther King Jr. Spoke here.",
        "The U.S. officials agreed.",
        "Wait… what happened?",
        "He said it was e.g. fine.",
    ],
)
def test_abbreviations_and_lowercase_continuations_do_not_split(text):
    assert sentence_starts(text) == [0]


def test_no_is_an_abbreviation_only_before_a_number():
    assert sentences("She said no. Then she left.") == ["She said no. ", "Then she left."]
    assert sentences("It is No. 5. It won.") == ["It is No. 5. ", "It won."]


def test_quotes_and_brackets_after_the_full_stop():
    text = '"We call on refugees to return." TASS cited Assad. (He spoke at length.) Then left.'
    assert sentences(text) == [
        '"We call on refugees to return." ',
        "TASS cited Assad. ",
        "(He spoke at length.) ",
        "Then left.",
    ]


def test_curly_quotes_and_guillemets():
    text = "“It is over.” They left. «Да.» Он ушёл. ‘Fine.’ Done."
    assert sentences(text) == [
        "“It is over.” ",
        "They left. ",
        "«Да.» ",
        "Он ушёл. ",
        "‘Fine.’ ",
        "Done.",
    ]


def test_repeated_punctuation():
    assert sentences("Really?! Yes... Fine!!! End") == ["Really?! ", "Yes... ", "Fine!!! ", "End"]


def test_chinese_needs_no_space_after_the_full_stop():
    assert sentences("你好。我是学生。谢谢！再见？好") == [
        "你好。",
        "我是学生。",
        "谢谢！",
        "再见？",
        "好",
    ]


def test_japanese_with_closing_bracket():
    assert sentences("彼は「はい。」次に行った。終わり") == [
        "彼は「はい。」",
        "次に行った。",
        "終わり",
    ]


def test_cjk_punctuation_followed_by_space():
    assert sentence_starts("你好。 我是学生。") == [0, 4]


def test_arabic_question_mark_and_full_stop():
    text = "هل هذا صحيح؟ نعم. القوات باقية"
    assert sentences(text) == ["هل هذا صحيح؟ ", "نعم. ", "القوات باقية"]


def test_urdu_full_stop_and_devanagari_danda():
    assert sentences("یہ اچھا ہے۔ وہ بھی") == ["یہ اچھا ہے۔ ", "وہ بھی"]
    assert sentences("यह अच्छा है। वह भी") == ["यह अच्छा है। ", "वह भी"]


def test_digits_and_decimals_do_not_split():
    assert sentence_starts("It grew 3.5 percent in 2018.") == [0]
    assert sentences("It ended in 2018. 40 years later.") == [
        "It ended in 2018. ",
        "40 years later.",
    ]


def test_long_block_is_fast_and_complete():
    text = "这是一个句子。" * 20_000
    starts = sentence_starts(text)
    assert len(starts) == 20_000
    assert starts[:3] == [0, 7, 14]
