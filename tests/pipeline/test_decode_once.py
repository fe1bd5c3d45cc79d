"""With the memory on, an image is decoded once per call: the result cache's lookup decodes it
and the pipeline reads that page (issue 19); the reading is the one made without the memory, and
an image that cannot be decoded fails as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import scipix.imaging.decode as decode_module
from scipix.errors import ImageDecodeError
from scipix.service import Scipix
from scipix.settings import Settings

QUADRATIC = Path(__file__).resolve().parents[2] / "examples" / "quadratic.png"


@pytest.fixture(scope="module")
def remembering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scipix]:
    """The memory on, its cache answering nothing: every call reads."""
    data = tmp_path_factory.mktemp("data")
    settings = Settings(runtime={"data_dir": data}, memory={"cache": False})  # type: ignore[arg-type]
    with Scipix(settings) as service:
        yield service


def test_one_decode_per_call_and_the_same_reading(
    remembering: Scipix, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[int] = []
    inner = decode_module.decode_bytes

    def counted(data: bytes, *args: object, **kwargs: object) -> object:
        decoded.append(len(data))
        return inner(data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(decode_module, "decode_bytes", counted)
    data = QUADRATIC.read_bytes()
    result = remembering.recognize(data, scope="once")
    assert decoded == [len(data)]
    assert result.cached is None and result.latex
    store = remembering.memory_store()
    assert store is not None and store.count("result", "once") == 1  # remembered, not served
    alone = Scipix(Settings(memory={"enabled": False}, learning={"enabled": False}))  # type: ignore[arg-type]
    with alone:
        assert alone.recognize(data).latex == result.latex


def test_an_undecodable_image_fails_as_before(remembering: Scipix) -> None:
    with pytest.raises(ImageDecodeError) as failed:
        remembering.recognize(b"plain text, not a picture", scope="once")
    assert failed.value.to_mathpix()["error_info"]["id"] == "image_decode_error"
