"""Lines of a page: fractions, accents and big-operator limits stay in their line."""

from __future__ import annotations

import numpy as np

from imaging.drawing import formula, stack, text_line
from scipix.imaging.components import Boxes, find_components, group_intervals
from scipix.imaging.enhance import ink_mask
from scipix.imaging.layout import find_lines


def lines_of(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    return [line.box for line in find_lines(find_components(ink_mask(gray)))]


def test_a_lone_fraction_is_one_line() -> None:
    assert len(lines_of(formula(r"\frac{a+b}{c}"))) == 1


def test_limits_accents_and_stacked_fractions_are_one_line_each() -> None:
    parts = [
        formula(r"\frac{a+b}{c}"),
        text_line("Perform the indicated operation and simplify."),
        formula(r"\hat{x} + \bar{y} = \sum_{i=1}^n z_i"),
        formula(r"\frac{\frac{1}{x}+1}{y}"),
    ]
    page = stack(parts, gap=30)
    found = lines_of(page)
    assert len(found) == len(parts)
    top = 0
    for part, (_, y0, _, y1) in zip(parts, found, strict=True):
        assert top <= y0 and y1 <= top + part.shape[0]
        top += part.shape[0] + 30


def test_group_intervals_merges_overlaps_only() -> None:
    labels = group_intervals(np.array([0, 5, 20, 22, 40]), np.array([10, 12, 25, 30, 41]))
    assert labels.tolist() == [0, 0, 1, 1, 2]


def test_components_are_boxes_of_ink_blobs() -> None:
    mask = np.zeros((50, 80), dtype=bool)
    mask[5:15, 5:25] = True
    mask[30:45, 50:52] = True
    boxes = find_components(mask)
    got = sorted(
        zip(boxes.x.tolist(), boxes.y.tolist(), boxes.w.tolist(), boxes.h.tolist(), strict=True)
    )
    assert got == [(5, 5, 20, 10), (50, 30, 2, 15)]


def test_turned_boxes_are_the_components_of_the_turned_page() -> None:
    mask = ink_mask(formula(r"\frac{a+b}{c} = \sum_{i=1}^n x_i"))
    height, width = mask.shape
    turned = find_components(np.ascontiguousarray(np.rot90(mask, 2)))
    mine = find_components(mask).turned(width, height)
    assert len(turned) == len(mine) > 5
    assert as_boxes(mine) == as_boxes(turned)


def as_boxes(boxes: Boxes) -> set[tuple[int, int, int, int]]:
    return set(
        zip(boxes.x.tolist(), boxes.y.tolist(), boxes.w.tolist(), boxes.h.tolist(), strict=True)
    )
