"""The recognizer's input preparation: polarity, crop, glyph-scale normalization, blanks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scipix.errors import ImageNoContentError
from scipix.recognition.preprocess import InputSpec, batch_images, glyph_height, prepare_image

SPEC = InputSpec()


def text_image(text: str, scale: float, invert: bool = False, size: tuple[int, int] = (400, 1200)):
    """Dark text on white (or the reverse), drawn with OpenCV's Hershey font."""
    image = np.full(size, 255, np.uint8)
    cv2.putText(image, text, (20, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, 2)
    return 255 - image if invert else image


def test_blank_image_has_no_content() -> None:
    with pytest.raises(ImageNoContentError):
        prepare_image(np.full((50, 200), 255, np.uint8), SPEC)


def test_ink_is_one_on_zero_and_tightly_cropped() -> None:
    out = prepare_image(text_image("a+b=c", 0.5), SPEC)
    assert out.dtype == np.float32
    assert out.max() > 0.9 and out.min() == 0.0
    margin = SPEC.margin
    assert out[:, :margin].max() == 0.0 and out[:, -margin:].max() == 0.0
    assert out[:, margin].max() > 0.0 or out[:, margin + 1].max() > 0.0  # ink starts at margin


def test_light_on_dark_equals_dark_on_light() -> None:
    a = prepare_image(text_image("x^2", 0.6), SPEC)
    b = prepare_image(text_image("x^2", 0.6, invert=True), SPEC)
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("scale", [0.4, 1.0, 2.5])
def test_glyphs_are_brought_to_the_trained_size(scale: float) -> None:
    out = prepare_image(text_image("12+34=46", scale), SPEC)
    measured = glyph_height((255 - out * 255).astype(np.uint8), SPEC.ink_threshold)
    assert measured is not None
    assert abs(measured - SPEC.glyph_height) <= SPEC.glyph_height * (SPEC.rescale_band + 0.15)


def test_huge_image_is_capped() -> None:
    wide = text_image("1234567890" * 8, 3.0, size=(300, 8000))
    out = prepare_image(wide, SPEC)
    assert out.shape[0] <= SPEC.max_height and out.shape[1] <= SPEC.max_width


def test_batch_pads_to_multiples() -> None:
    images = [prepare_image(text_image(t, 0.5), SPEC) for t in ("a", "a+b+c+d")]
    batch = batch_images(images, SPEC)
    assert batch.shape[0] == 2 and batch.shape[1] == 1
    assert batch.shape[2] % SPEC.pad_height == 0 and batch.shape[3] % SPEC.pad_width == 0
    np.testing.assert_array_equal(
        batch[0, 0, : images[0].shape[0], : images[0].shape[1]], images[0]
    )


def test_batches_hold_only_images_of_one_padded_shape() -> None:
    from scipix.recognition.recognizer import same_shape_chunks

    spec = InputSpec()
    sizes = [(40, 100), (45, 70), (40, 120), (60, 100), (33, 97), (48, 128), (40, 100)]
    images = [np.zeros(size, np.float32) for size in sizes]
    chunks = same_shape_chunks(images, spec, batch_size=2)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(len(images)))
    assert all(len(chunk) <= 2 for chunk in chunks)
    for chunk in chunks:
        padded = batch_images([images[i] for i in chunk], spec)
        for i in chunk:  # each image padded as it is alone
            assert padded.shape[2:] == batch_images([images[i]], spec).shape[2:]
    # five of them pad to 48 x 128 (2 + 2 + 1), the others to 48 x 96 and 64 x 128
    assert sorted(len(chunk) for chunk in chunks) == [1, 1, 1, 2, 2]
