"""What the MCP tools return: pydantic models whose JSON schemas are the tools' output schemas.

A failed call returns no model: it is a tool error result whose structured content is the
Mathpix error body ``{"error": message, "error_info": {"id", "message", ...}}``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

#: What a recognition can be returned as, besides LaTeX.
Format = Literal["latex", "mathml", "asciimath", "html", "mmd"]
#: What LaTeX converts to (``latex_convert``).
Target = Literal["mathml", "asciimath", "html", "mmd", "latex"]


class ErrorBody(BaseModel):
    id: str = Field(description="The Mathpix-style error id (image_missing, path_not_allowed…).")
    message: str


class Recognition(BaseModel):
    """One image read: what ``scipix ocr`` prints, plus the other formats asked for."""

    request_id: str = Field(description="Read it again as scipix://results/{request_id}.")
    image: str | None = Field(None, description="The path or URI given (None for base64).")
    latex: str | None = Field(None, description="The LaTeX, as `scipix ocr` prints it.")
    text: str | None = Field(None, description="Mathpix Markdown of the whole image.")
    confidence: float | None = None
    latex_valid: bool | None = None
    formats: dict[str, str] = Field(
        default_factory=dict, description="Each other format asked for (mathml, asciimath…)."
    )
    warnings: list[ErrorBody] = Field(default_factory=list)
    error: ErrorBody | None = Field(None, description="Set when this image failed (batches).")


class Batch(BaseModel):
    """Every image of a batch, in order; a failed image carries ``error``, the rest go on."""

    results: list[Recognition]
    succeeded: int
    failed: int
    seconds: float


class Preprocessing(BaseModel):
    """What pre-processing did to the image (the cleaned image is the PNG in the content)."""

    width: int = Field(description="The cleaned image's size, in pixels.")
    height: int
    original_width: int
    original_height: int
    steps: list[str] = Field(description="The steps that ran, in order (polarity, deskew…).")
    inverted: bool = Field(description="Light ink on a dark background was turned over.")
    rotation: int = Field(description="Degrees of quarter turn undone (0, 90, 180, 270).")
    skew: float = Field(description="Degrees of skew straightened.")
    crop_box: list[int] = Field(description="[x0, y0, x1, y1] kept of the straightened image.")
    timings_ms: dict[str, float]


class Conversion(BaseModel):
    latex: str
    to: Target
    output: str


class LatexIssue(BaseModel):
    id: str = Field(description="unbalanced_brace, unknown_command, …")
    message: str
    position: int = Field(description="0-based character offset in the LaTeX.")


class LatexCheck(BaseModel):
    valid: bool
    issues: list[LatexIssue]


class Equivalence(BaseModel):
    equal: bool
    level: Literal["exact", "symbolic", "none"] = Field(
        description="exact: same canonical form; symbolic: SymPy decided; none: undecided."
    )
    reason: str


class SampleTiming(BaseModel):
    name: str
    latex: str | None
    latency_ms: float = Field(description="Median time of one recognition, in ms.")


class Benchmark(BaseModel):
    samples: list[SampleTiming]
    images: int = Field(description="Recognitions timed in the throughput run.")
    throughput_per_s: float = Field(description="Images a second, read by the pipeline.")
    workers: int
    threads: int = Field(description="ONNX Runtime threads per model.")
    model_version: str


class ResultRecord(BaseModel):
    """A recent result, as scipix://results/{request_id} gives it."""

    request_id: str
    image: str | None
    result: dict[str, Any] = Field(description="The Mathpix-shaped result body.")


class PdfPage(BaseModel):
    page: int = Field(description="1-based page number.")
    source: Literal["text_layer", "ocr", "none"] = Field(
        description="text_layer: the PDF's own text; ocr: the rendered page was read."
    )
    error: ErrorBody | None = Field(None, description="Set when this page failed.")


class PdfReading(BaseModel):
    """A PDF read page by page (a failed page is left out of ``mmd`` and says why)."""

    mmd: str = Field(description="The document as Mathpix Markdown.")
    num_pages: int = Field(description="Pages in the document.")
    pages: list[PdfPage] = Field(description="The pages read, in order.")


class MemoryHit(BaseModel):
    id: int
    score: float = Field(description="Cosine similarity of the LaTeX embeddings.")
    match: Literal["exact", "symbolic", "similar"] = Field(
        description="exact: same canonical form; symbolic: SymPy finds them equal."
    )
    latex: str
    request_id: str | None = None


class MemorySearch(BaseModel):
    results: list[MemoryHit] = Field(description="Equivalent readings first, then similar.")


class CorrectionReceipt(BaseModel):
    correction_id: int
    latex: str = Field(description="The corrected LaTeX kept.")
    request_id: str | None = None
    original_latex: str | None = Field(None, description="What had been read.")
    remembered: bool = Field(
        description="A near-identical image will now be answered with the corrected LaTeX."
    )
