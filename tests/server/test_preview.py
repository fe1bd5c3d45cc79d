"""``POST /web/preview``: the web page's rendering of LaTeX or Mathpix Markdown a person edited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from scipix.server.preview import MAX_PREVIEW_CHARS, preview_latex, preview_text

from .conftest import Credentials


def test_one_formula_becomes_display_mathml() -> None:
    made = preview_latex("\\frac{a}{b}")
    assert made.problems == [] and made.asciimath == ["a/b"]
    [mathml] = made.mathml
    assert "<mfrac>" in mathml and 'display="block"' in mathml
    assert made.html.startswith('<div><div class="math-display"><math')


def test_markdown_keeps_prose_lines_and_math_in_order() -> None:
    made = preview_text("Let \\( x \\) be <b>.\n\\[\nx^{2}\n\\]\nand $y$ too\nend")
    assert len(made.mathml) == 3 and made.problems == []
    html = made.html
    assert 'Let <span class="math-inline"><math' in html
    assert 'be &lt;b&gt;.<div class="math-display">' in html  # escaped; no <br> before a block
    assert "</div>and <span" in html and "too<br>end" in html


def test_invalid_math_is_shown_as_typed_with_the_reason() -> None:
    made = preview_text("\\[\nx^{2\n\\]")
    assert made.mathml == []
    assert '<code class="invalid-math">x^{2</code>' in made.html
    [problem] = made.problems
    assert "never closed" in problem


def test_the_route_needs_a_key_and_answers_the_rendering(
    client: TestClient, key: Credentials
) -> None:
    refused = client.post("/web/preview", json={"latex": "x"})
    assert refused.status_code == 401
    assert refused.json()["error_info"]["id"] == "http_unauthorized"
    answer = client.post("/web/preview", json={"text": "a \\( x^{2} \\)"}, headers=key.headers)
    assert answer.status_code == 200
    assert answer.json()["asciimath"] == ["x^2"]
    for bad in (
        {},
        {"latex": 3},
        {"latex": "x", "text": "x"},
        {"latex": "x" * (MAX_PREVIEW_CHARS + 1)},
    ):
        wrong = client.post("/web/preview", json=bad, headers=key.headers)
        assert wrong.json()["error_info"]["id"] == "opts_bad_format", bad
