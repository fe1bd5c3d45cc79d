"""Images in, clean gray pages out: safe decoding and pre-processing (numpy + OpenCV, no state).

``decode_image`` (format sniffing, pixel limits checked before decoding, EXIF orientation,
first frame only) and ``preprocess`` (polarity, deskew, 0/90/180/270 orientation, crop, CLAHE,
denoise, binarize) are the entry points; ``layout`` finds lines for the Detect agent.
"""

from __future__ import annotations

from scipix.imaging.decode import DecodeLimits, ImageSource, decode_image
from scipix.imaging.geometry import resize_pad
from scipix.imaging.page import Page
from scipix.imaging.preprocess import PreprocessConfig, Preprocessed, preprocess

__all__ = [
    "DecodeLimits",
    "ImageSource",
    "Page",
    "PreprocessConfig",
    "Preprocessed",
    "decode_image",
    "preprocess",
    "resize_pad",
]
