"""gzip_bytes: the deflate stream gzip.compress makes, with a window fitted to the data."""

import gzip
import random

import pytest

from webapp.compression import LEVEL, gzip_bytes

WORDS = "<mark data-at class hl depth-3 heat-2 the passage why does this matter".split()


def html_like(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    text = " ".join(rng.choice(WORDS) for _ in range(size // 3 + 1)).encode()
    return text[:size]


@pytest.mark.parametrize(
    "size",
    [0, 1, 250, 511, 512, 1024, 3000, 3834, 3835, 4096, 7000, 16_000, 32_506, 32_768, 90_000],
)
def test_the_same_deflate_stream_as_gzip_compress(size):
    data = html_like(size, size)
    ours = gzip_bytes(data)
    assert gzip.decompress(ours) == data
    # The 10-byte header differs only in its time and flags; the stream and trailer match.
    assert ours[10:] == gzip.compress(data, LEVEL, mtime=0)[10:]


def test_a_page_with_matches_far_back_keeps_them():
    # A repeat 3,900 bytes back: found only with a window wide enough for it.
    head = html_like(3_900, 1)
    data = head + head[:300]
    assert gzip_bytes(data)[10:] == gzip.compress(data, LEVEL, mtime=0)[10:]
    assert len(gzip_bytes(data)) < len(gzip.compress(head, LEVEL)) + 40
