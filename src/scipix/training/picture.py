"""Pictures of every kind the product meets, made by the data engine from held-out formulas.

The picture-kind classifier (``imaging/picture.py``) is fitted on the ``fit`` part of these and
checked on the ``check`` part (``training/classifier.py``); strategies and thresholds are chosen
on the ``tune`` part and ``benchmarks/preprocess_auto.py`` reports on ``check`` (see
:data:`PARTS`). Each picture keeps the clean image it was made from, so a degraded copy can be
scored against the same formula read clean. Conditions, and the kind each one is:

- ``render``: a TeX render in one of several fonts and sizes, as rendered (kind ``render``);
- ``screenshot``: a small anti-aliased render on a flat background (white, tinted or dark mode),
  sometimes zoomed by the screen or saved as a good JPEG (kind ``screenshot``);
- ``photo``: a render (or a handwritten formula) printed, then photographed: enlarged, on grey
  or yellowed paper with texture, uneven light and often a shadow, a perspective tilt, defocus or
  motion blur, sensor noise and JPEG (kind ``paper``);
- ``scan``: a render scanned from paper: paper tone and grain, a slight turn, light blur, specks,
  sometimes JPEG (kind ``paper``);
- ``handwriting``: CROHME and ``hand`` images of the same split (kind ``handwriting``).

Every random choice comes from one seeded generator: the same arguments give the same pictures.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from scipix.errors import LatexError
from scipix.schema import PictureKind
from scipix.training.augment import apply_step
from scipix.training.corpus import label_options, load_paired, normalized, split_of

Gray = npt.NDArray[np.uint8]
Float = npt.NDArray[np.float32]

#: Condition → the kind the classifier should answer for it.
CONDITIONS: dict[str, PictureKind] = {
    "render": "render",
    "screenshot": "screenshot",
    "photo": "paper",
    "scan": "paper",
    "handwriting": "handwriting",
}
FORMULA_SOURCES = ("im2latex_val", "arxiv_texnet", "k12")
HANDWRITTEN_SETS = ("crohme", "hand")
RENDER_FONTS = ("cm", "lmodern", "mathptmx", "euler", "cmbright", "libertinus", "fourier", "stix2")
#: The share of renders made by matplotlib's mathtext rather than TeX.
MATHTEXT_SHARE = 0.3
#: Renders and handwriting come with a white margin of up to this many pixels (cropped to the
#: ink first, for handwriting), so that the margin tells nothing about the kind.
MAX_MARGIN = 48
#: Longest formula (in model tokens) kept: the small model reads long ones rarely right anyway.
MAX_TOKENS = 48


@dataclass(frozen=True)
class Picture:
    """One picture: its ``condition`` (see the module docstring), the ``kind`` the classifier
    should say, the normalized ``latex`` and the ``clean`` image it was made from."""

    image: Gray
    condition: str
    latex: str
    clean: Gray

    @property
    def kind(self) -> PictureKind:
        return CONDITIONS[self.condition]


#: The parts of the data: ``fit`` is the corpora's train split; ``tune`` and ``check`` are the
#: two halves of their held-out (val) split: thresholds and strategies are chosen on ``tune``,
#: scores are reported on ``check``.
PARTS = ("fit", "tune", "check")


def part_of(latex: str) -> str:
    """Which of :data:`PARTS` a normalized formula (or label) belongs to."""
    if split_of(latex) == "train":
        return "fit"
    digest = hashlib.blake2b(latex.encode("utf-8"), digest_size=8, person=b"scipix-part").digest()
    return "tune" if digest[0] % 2 == 0 else "check"


def held_out_formulas(data_root: Path, part: str, n: int, seed: int) -> list[str]:
    """``n`` normalized formulas of ``part`` (see :data:`PARTS`) from the corpora, at most
    :data:`MAX_TOKENS` tokens long, in a seeded random order."""
    rng = random.Random(seed)
    lines: list[tuple[str, str]] = []
    for source in FORMULA_SOURCES:
        path = data_root / f"{source}.txt"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            lines += [(source, raw) for raw in text.splitlines() if raw.strip()]
    rng.shuffle(lines)
    found: list[str] = []
    for source, raw in lines:
        if len(found) >= n:
            break
        try:
            latex, tokens = normalized(raw, label_options(None, source))
        except LatexError:
            continue
        if 3 <= len(tokens) <= MAX_TOKENS and part_of(latex) == part:
            found.append(latex)
    return found


def render_all(
    formulas: Sequence[str], dpis: Sequence[int], rng: random.Random
) -> list[Gray | None]:
    """Renders, one per formula (None where the renderer fails): per batch of eight, TeX in
    one of :data:`RENDER_FONTS` or (a share :data:`MATHTEXT_SHARE`) matplotlib's mathtext."""
    from scipix.training.mathtext import MATHTEXT_FONTS, MathtextRenderer, mathtext_available
    from scipix.training.render import TexRenderer, available_tex_fonts

    fonts = [f for f in RENDER_FONTS if f in available_tex_fonts()] or ["cm"]
    images: list[Gray | None] = []
    for start in range(0, len(formulas), 8):
        mathtext = mathtext_available() and rng.random() < MATHTEXT_SHARE
        renderer: TexRenderer | MathtextRenderer = (
            MathtextRenderer(rng.choice(MATHTEXT_FONTS))
            if mathtext
            else TexRenderer(rng.choice(fonts))
        )
        chunk = list(formulas[start : start + 8])
        outcomes = renderer.render(chunk, dpi=list(dpis[start : start + 8]))
        images += [o.image for o in outcomes]
    return images


# -- degradations (float32 images in [0, 1], 1 = white paper) ----------------------------------


def _float(image: Gray) -> Float:
    return image.astype(np.float32) / 255.0


def _uint8(img: Float) -> Gray:
    return np.asarray(np.clip(np.rint(img * 255.0), 0, 255), dtype=np.uint8)


def _resize(img: Float, factor: float, method: int) -> Float:
    h, w = img.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(cv2.resize(img, size, interpolation=method), dtype=np.float32)


def _pad(img: Float, lo: int, hi: int, rng: np.random.Generator) -> Float:
    t, b, left, r = (int(v) for v in rng.integers(lo, hi + 1, size=4))
    padded = cv2.copyMakeBorder(img, t, b, left, r, cv2.BORDER_CONSTANT, value=1.0)
    return np.asarray(padded, dtype=np.float32)


def _jpeg(img: Float, quality: int) -> Float:
    ok, data = cv2.imencode(".jpg", _uint8(img), [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else None
    return img if decoded is None else _float(np.asarray(decoded, dtype=np.uint8))


def _smooth_field(shape: tuple[int, ...], rng: np.random.Generator, cells: int) -> Float:
    coarse = rng.uniform(-1.0, 1.0, size=(cells, cells)).astype(np.float32)
    field = cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return np.asarray(field, dtype=np.float32)


def _shadow(img: Float, rng: np.random.Generator) -> Float:
    """A soft-edged shadow (a hand or a phone) over part of the picture."""
    h, w = img.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    side = (xs - rng.uniform(0.2, 0.8) * w) * np.cos(theta)
    side += (ys - rng.uniform(0.2, 0.8) * h) * np.sin(theta)
    softness = rng.uniform(0.03, 0.2) * max(h, w)
    inside = 1.0 / (1.0 + np.exp(-side / softness))
    depth = rng.uniform(0.25, 0.55)
    return np.asarray(img * (1.0 - depth * inside), dtype=np.float32)


def _on_paper(
    img: Float, rng: np.random.Generator, tone: tuple[float, float], grain: float
) -> Float:
    """Ink (not quite black) on paper of a random tone with blotches and grain."""
    base = rng.uniform(*tone)
    blotches = _smooth_field(img.shape, rng, int(rng.integers(3, 8))) * rng.uniform(0.01, 0.05)
    noise = rng.normal(0.0, grain, size=img.shape).astype(np.float32)
    paper = np.clip(base + blotches + noise, 0.0, 1.0)
    ink = rng.uniform(0.0, 0.3)
    return np.asarray(paper * (1.0 - (1.0 - img) * (1.0 - ink)), dtype=np.float32)


def photograph(image: Gray, rng: np.random.Generator) -> Gray:
    """A phone photo of the formula printed on paper (see the module docstring)."""
    img = _resize(_float(image), rng.uniform(1.3, 3.0), cv2.INTER_CUBIC)
    img = _pad(img, 10, 90, rng)
    img = _float(apply_step(_uint8(img), "geometry", rng, 1.0))
    img = _on_paper(img, rng, (0.55, 0.95), rng.uniform(0.005, 0.03))
    img = _float(apply_step(_uint8(img), "lighting", rng, 1.0))
    if rng.random() < 0.5:
        img = _shadow(img, rng)
    if rng.random() < 0.75:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.6)), dtype=np.float32)
    else:
        img = _float(apply_step(_uint8(img), "blur", rng, 1.0))
    img = img + rng.normal(0.0, rng.uniform(0.01, 0.045), size=img.shape).astype(np.float32)
    return _uint8(_jpeg(np.clip(img, 0.0, 1.0), int(rng.integers(45, 92))))


def scan(image: Gray, rng: np.random.Generator) -> Gray:
    """A scan of the formula printed on paper (see the module docstring)."""
    img = _resize(_float(image), rng.uniform(1.0, 2.2), cv2.INTER_CUBIC)
    img = _pad(img, 6, 50, rng)
    img = _float(apply_step(_uint8(img), "geometry", rng, 0.5))
    img = _on_paper(img, rng, (0.78, 0.97), rng.uniform(0.01, 0.035))
    if rng.random() < 0.4:
        img = _float(apply_step(_uint8(img), "lighting", rng, 0.5))
    img = np.asarray(cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.9)), dtype=np.float32)
    if rng.random() < 0.5:
        specks = rng.random(img.shape) < rng.uniform(0.0005, 0.003)
        img[specks] = rng.uniform(0.0, 0.5)
    if rng.random() < 0.6:
        img = _jpeg(img, int(rng.integers(60, 95)))
    return _uint8(img)


def screenshot(image: Gray, rng: np.random.Generator) -> Gray:
    """A screenshot: a small anti-aliased render on a flat background (white, tinted or dark
    mode), sometimes zoomed by the screen (linear interpolation) or saved as a good JPEG."""
    img = _resize(_float(image), 1.0 / rng.uniform(1.0, 1.8), cv2.INTER_AREA)
    img = _pad(img, 4, 60, rng)
    mode = rng.choice(["white", "tinted", "dark"], p=[0.4, 0.3, 0.3])
    if mode == "white":
        bg, ink = 1.0, rng.uniform(0.0, 0.25)
    elif mode == "tinted":
        bg, ink = rng.uniform(0.72, 0.97), rng.uniform(0.0, 0.4)
    else:
        bg, ink = rng.uniform(0.05, 0.3), rng.uniform(0.75, 1.0)
    img = np.asarray(bg + (ink - bg) * (1.0 - img), dtype=np.float32)
    if rng.random() < 0.3:
        zoom = float(rng.choice([1.25, 1.5, 2.0]))
        method = cv2.INTER_LINEAR if rng.random() < 0.7 else cv2.INTER_CUBIC
        img = np.clip(_resize(img, zoom, method), 0.0, 1.0)
    if rng.random() < 0.2:
        img = _jpeg(img, int(rng.integers(85, 97)))
    return _uint8(img)


DEGRADE: dict[str, Callable[[Gray, np.random.Generator], Gray]] = {
    "photo": photograph,
    "scan": scan,
    "screenshot": screenshot,
}


# -- picture sets ----------------------------------------------------------------------------


def read_gray(path: Path) -> Gray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read {path}")
    return np.asarray(image, dtype=np.uint8)


def handwritten_pictures(train_dir: Path, part: str, n: int, seed: int) -> list[Picture]:
    """``n`` CROHME and ``hand`` images of ``part`` (about half from each set)."""
    rng = random.Random(seed)
    found: list[Picture] = []
    for k, name in enumerate(reversed(HANDWRITTEN_SETS)):  # the smaller set first
        split = load_paired(train_dir / name)
        items = [(p, latex) for p, latex in split.train + split.val if part_of(latex) == part]
        want = n - len(found) if k == len(HANDWRITTEN_SETS) - 1 else n // len(HANDWRITTEN_SETS)
        for path, latex in rng.sample(items, min(want, len(items))):
            image = with_margin(read_gray(path), rng)
            found.append(Picture(image, "handwriting", latex, image))
    return found


def with_margin(image: Gray, rng: random.Random) -> Gray:
    """``image`` cropped to its ink with a random white margin (up to :data:`MAX_MARGIN`)."""
    from scipix.training.render import crop_to_ink

    cropped = crop_to_ink(image, rng.randint(2, MAX_MARGIN))
    return image if cropped is None else np.asarray(cropped, dtype=np.uint8)


def picture_set(
    data_root: Path, part: str, per_condition: int, seed: int = 0, photo_hand: float = 0.25
) -> list[Picture]:
    """``per_condition`` pictures of each condition from ``part`` (see :data:`PARTS`) of
    ``data_root/train`` (or of ``data_root`` itself when it holds the corpora). The printed
    conditions use different formulas; a share ``photo_hand`` of the photos are of handwriting."""
    train_dir = data_root / "train" if (data_root / "train").is_dir() else data_root
    rng, nprng = random.Random(seed), np.random.default_rng(seed)
    printed = ("render", "screenshot", "photo", "scan")
    formulas = held_out_formulas(train_dir, part, int(per_condition * len(printed) * 1.15), seed)
    dpis = [int(rng.choice((100, 120, 150, 200, 250))) for _ in formulas]
    renders = [(f, im) for f, im in zip(formulas, render_all(formulas, dpis, rng), strict=True)]
    usable = [(f, im) for f, im in renders if im is not None]
    pictures: list[Picture] = []
    hand = handwritten_pictures(train_dir, part, per_condition * 2, seed)
    for i, condition in enumerate(printed):
        chosen = usable[i * per_condition : (i + 1) * per_condition]
        if condition == "photo":
            n_hand = round(photo_hand * len(chosen))
            chosen = chosen[n_hand:] + [(p.latex, p.image) for p in hand[per_condition:][:n_hand]]
        for latex, image in chosen:
            degrade = DEGRADE.get(condition)
            made = degrade(image, nprng) if degrade is not None else with_margin(image, rng)
            pictures.append(Picture(made, condition, latex, image))
    pictures += hand[:per_condition]
    return pictures
