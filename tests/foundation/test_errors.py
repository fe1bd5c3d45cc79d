"""The error tree: every class has a row in the table, appears in the docstring, and pickles."""

from __future__ import annotations

import pickle
import re

import pytest

from scipix import errors
from scipix.errors import (
    ERROR_TABLE,
    AuthError,
    ConfigError,
    ImageDownloadError,
    ImageTooLargeError,
    InputError,
    LatexError,
    RateLimitError,
    RequestTooLargeError,
    ScipixError,
    error_classes,
    mathpix_error,
)

OWN_CLASSES = [cls for cls in error_classes() if cls.__module__ == "scipix.errors"]
TREE_LINE = re.compile(r"^\s+[│├└─\s]*(\w+Error)\s+(\w+)\s+(\d{3})$")


def docstring_tree() -> dict[str, tuple[str, int]]:
    rows = {}
    for line in (errors.__doc__ or "").splitlines():
        match = TREE_LINE.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), int(match.group(3)))
    return rows


def test_every_class_has_a_row_in_the_table() -> None:
    missing = [cls.__name__ for cls in error_classes() if cls.error_id not in ERROR_TABLE]
    assert missing == []


def test_every_row_of_the_table_is_used() -> None:
    used = {cls.error_id for cls in OWN_CLASSES}
    assert set(ERROR_TABLE) == used


def test_the_docstring_draws_every_class_with_its_id_and_status() -> None:
    tree = docstring_tree()
    assert set(tree) == {cls.__name__ for cls in OWN_CLASSES}
    for cls in OWN_CLASSES:
        assert tree[cls.__name__] == (cls.error_id, ERROR_TABLE[cls.error_id].http_status)


def test_the_docstring_draws_the_real_hierarchy() -> None:
    depth = {}
    for line in (errors.__doc__ or "").splitlines():
        match = TREE_LINE.match(line)
        if match:
            depth[match.group(1)] = line.index(match.group(1))
    for cls in OWN_CLASSES:
        if cls is not ScipixError:
            parent = cls.__bases__[0]
            assert depth[cls.__name__] == depth[parent.__name__] + 4, cls.__name__


def test_mathpix_ids_and_statuses() -> None:
    assert ImageTooLargeError.error_id == "image_max_size"  # Mathpix's id, not image_too_large
    assert RequestTooLargeError.error_id == "sys_request_too_large"
    assert AuthError().http_status == 401
    assert RateLimitError().http_status == 429
    assert ImageDownloadError().http_status == 200  # Mathpix: errors travel in a 200 body
    assert issubclass(ConfigError, InputError)


def test_to_mathpix_shape() -> None:
    error = ImageDownloadError("timed out after 15 s", url="https://x/y.png", extra=None)
    assert error.to_mathpix() == {
        "error": "timed out after 15 s",
        "error_info": {
            "id": "image_download_error",
            "message": "timed out after 15 s",
            "url": "https://x/y.png",
        },
    }


def test_default_message_comes_from_the_table() -> None:
    error = RateLimitError(limit_name="per_minute", limit_value=600, count=601)
    assert error.message == ERROR_TABLE["http_max_requests"].message
    assert error.to_mathpix()["error_info"]["count"] == 601


def test_mathpix_error_for_any_exception() -> None:
    assert mathpix_error(AuthError("bad key")) == (
        401,
        {"error": "bad key", "error_info": {"id": "http_unauthorized", "message": "bad key"}},
    )
    status, body = mathpix_error(KeyError("/secret/path"))
    assert status == 500 and body["error_info"]["id"] == "sys_exception"
    assert "secret" not in str(body)  # internals never leak


@pytest.mark.parametrize("cls", OWN_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_pickles(cls: type[ScipixError]) -> None:
    error = cls("what went wrong", name="beam_width", value=99)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert copy.message == "what went wrong"
    assert copy.to_mathpix() == error.to_mathpix()


def test_latex_error_keeps_its_position() -> None:
    error = pickle.loads(pickle.dumps(LatexError("unbalanced {", position=4)))
    assert error.position == 4
    assert error.to_mathpix()["error_info"]["position"] == 4
