"""The work behind the MCP tools, synchronous and free of MCP types: the server
(:mod:`scipix.mcp.server`) runs these in worker threads and turns their errors into tool errors.

Everything goes through the one :class:`~scipix.service.Scipix` the server was built with.
"""

from __future__ import annotations

import base64
import binascii
import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Sequence
from pathlib import Path

from scipix import latex
from scipix.cli.ocr import OutputFormat, rendering
from scipix.errors import (
    ImageDecodeError,
    ImageMissingError,
    InputError,
    OptionsError,
    RequestTooLargeError,
    ScipixError,
    ValueOutOfRangeError,
)
from scipix.mcp import models
from scipix.mcp.paths import Roots, folder_images
from scipix.schema import DataOptions, RecognizeOptions, Result
from scipix.service import Scipix
from scipix.settings import Settings

#: Images ``benchmark`` times, shipped with the package.
SAMPLES = Path(__file__).parent / "samples"
#: One entry of a batch plan: the location given, and its resolved path or why it is refused.
PlanItem = tuple[str, Path | ScipixError]


class RecentResults:
    """The last ``size`` results, by request id (thread-safe)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, models.ResultRecord] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, record: models.ResultRecord) -> None:
        with self._lock:
            self._items[record.request_id] = record
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, request_id: str) -> models.ResultRecord | None:
        with self._lock:
            return self._items.get(request_id)

    def ids(self) -> list[str]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._items))


def recognize_options(formats: Sequence[models.Format]) -> RecognizeOptions:
    """Options that produce LaTeX as ``scipix ocr`` prints it, and the other ``formats``."""
    data = DataOptions(
        include_latex=True,
        include_mathml="mathml" in formats,
        include_asciimath="asciimath" in formats,
    )
    wanted = ("text", "latex_styled") + (("html",) if "html" in formats else ())
    return RecognizeOptions(formats=wanted, data_options=data, include_line_data=True)


def error_body(error: ScipixError) -> models.ErrorBody:
    return models.ErrorBody(id=error.error_id, message=error.message)


def decode_base64(data: str, max_bytes: int) -> bytes:
    """The bytes of a base64 image (a ``data:`` URL prefix is allowed), refused above the
    decoded size ``max_bytes`` before anything is decoded."""
    if data.startswith("data:"):
        data = data.partition(",")[2]
    limit = 4 * -(-max_bytes // 3)
    if len(data) > limit + 1024:  # room for line breaks
        raise RequestTooLargeError(
            f"the base64 image is {len(data) / 1e6:.1f} MB of text; at most {limit / 1e6:.1f} MB "
            f"({max_bytes / 1e6:.1f} MB decoded, preprocessing.max_bytes) is read",
            limit_name="preprocessing.max_bytes",
            limit_value=max_bytes,
        )
    if not data.strip():
        raise ImageMissingError("the base64 string is empty: send the image's bytes in base64")
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageDecodeError(f"the image is not valid base64 ({exc})") from exc


class Toolbox:
    """The tools' work over one :class:`Scipix`, the allowed roots and the recent results."""

    def __init__(self, service: Scipix, settings: Settings, cwd: Path | None = None) -> None:
        self.service = service
        self.settings = settings
        self.roots = Roots.of(settings.mcp.roots, cwd)
        self.recent = RecentResults(settings.mcp.recent_results)

    # -- recognition ---------------------------------------------------------------------------

    def record(
        self, image: str | None, result: Result, formats: Sequence[models.Format]
    ) -> models.Recognition:
        """The tool's view of a result (kept among the recent results)."""
        self.recent.add(
            models.ResultRecord(
                request_id=result.request_id, image=image, result=result.to_mathpix()
            )
        )
        if result.error_info is not None:
            error = models.ErrorBody(id=result.error_info.id, message=result.error_info.message)
            return models.Recognition(request_id=result.request_id, image=image, error=error)
        others = {f: rendering(result, OutputFormat(f)) for f in formats if f != "latex"}
        warnings = [models.ErrorBody(id=w.id, message=w.message) for w in result.warnings or ()]
        return models.Recognition(
            request_id=result.request_id,
            image=image,
            latex=rendering(result, OutputFormat.latex),
            text=result.text,
            confidence=result.confidence,
            latex_valid=result.latex_valid,
            formats=others,
            warnings=warnings,
        )

    def ocr_image(self, location: str, formats: Sequence[models.Format]) -> models.Recognition:
        path = self.roots.image_file(location)
        result = self.service.recognize(path, recognize_options(formats))
        return self.record(location, result, formats)

    def ocr_base64(self, data: str, formats: Sequence[models.Format]) -> models.Recognition:
        image = decode_base64(data, self.settings.preprocessing.max_bytes)
        result = self.service.recognize(image, recognize_options(formats))
        return self.record(None, result, formats)

    def batch_plan(self, paths: Sequence[str], folder: str | None) -> list[PlanItem]:
        """Each image of a batch with its resolved path, or the error that refuses it."""
        if bool(paths) == (folder is not None):
            raise InputError("give either paths (a list of images) or folder, not both or none")
        if folder is not None:
            found = folder_images(self.roots.folder(folder))
            names = [str(Path(folder) / p.name) for p in found]
        else:
            names = list(paths)
        limit = self.settings.mcp.max_batch_images
        if len(names) > limit:
            raise ValueOutOfRangeError(
                f"{len(names)} images, more than mcp.max_batch_images ({limit}); split the batch",
                name="paths",
                value=len(names),
            )
        plan: list[PlanItem] = []
        for name in names:
            try:
                plan.append((name, self.roots.image_file(name)))
            except ScipixError as exc:
                plan.append((name, exc))
        return plan

    def batch(
        self, plan: list[PlanItem], formats: Sequence[models.Format]
    ) -> Generator[models.Recognition, None, None]:
        """The plan's results in order, read by the pipeline's workers; closing the generator
        stops the pipeline (its threads end after the image they hold)."""
        valid = [item for _, item in plan if isinstance(item, Path)]
        results = self.service.recognize_many(valid, recognize_options(formats))
        try:
            for name, item in plan:
                if isinstance(item, ScipixError):
                    yield models.Recognition(request_id="", image=name, error=error_body(item))
                else:
                    yield self.record(name, next(results), formats)
        finally:
            if isinstance(results, Generator):
                results.close()

    # -- pre-processing ------------------------------------------------------------------------

    def preprocess(self, location: str) -> tuple[bytes, models.Preprocessing]:
        """The cleaned image as PNG bytes and what was done to get it."""
        import cv2

        path = self.roots.image_file(location)
        pre = self.service.preprocess(path)
        ok, png = cv2.imencode(".png", pre.page.gray)
        if not ok:
            raise ScipixError("the cleaned image could not be encoded as PNG")
        report = models.Preprocessing(
            width=pre.page.width,
            height=pre.page.height,
            original_width=pre.original_width,
            original_height=pre.original_height,
            steps=list(pre.timings),
            inverted=pre.inverted,
            rotation=pre.rotation,
            skew=round(pre.skew, 3),
            crop_box=list(pre.crop_box),
            timings_ms={k: round(v, 3) for k, v in pre.timings.items()},
        )
        return png.tobytes(), report

    # -- LaTeX ---------------------------------------------------------------------------------

    @staticmethod
    def latex_convert(source: str, to: models.Target, display: bool) -> models.Conversion:
        if to == "mathml":
            output = latex.to_mathml(source, display=display)
        elif to == "asciimath":
            output = latex.to_asciimath(source)
        elif to == "html":
            output = latex.to_html(source, display=display)
        elif to == "mmd":
            output = latex.to_mmd(source, display=display)
        else:
            output = latex.normalize(source)
        return models.Conversion(latex=source, to=to, output=output)

    @staticmethod
    def latex_check(source: str) -> models.LatexCheck:
        issues = [
            models.LatexIssue(id=i.id, message=i.message, position=i.position)
            for i in latex.validate(source)
        ]
        return models.LatexCheck(valid=not issues, issues=issues)

    @staticmethod
    def latex_equivalent(a: str, b: str) -> models.Equivalence:
        verdict = latex.equivalent(a, b)
        return models.Equivalence(equal=verdict.equal, level=verdict.level, reason=verdict.reason)

    # -- benchmark -----------------------------------------------------------------------------

    @staticmethod
    def samples(names: Sequence[str] = ()) -> list[Path]:
        """The bundled sample images (those named, when ``names`` is given)."""
        found = sorted(SAMPLES.glob("*.png"))
        if not names:
            return found
        unknown = sorted(set(names) - {p.name for p in found})
        if unknown:
            valid = ", ".join(p.name for p in found)
            raise OptionsError(f"no bundled sample {', '.join(unknown)}; samples: {valid}")
        return [p for p in found if p.name in names]

    def read_uncached(self, data: bytes) -> Result:
        """One recognition by the pipeline itself (the result cache would answer a repeat)."""
        return next(iter(self.service.recognize_many([data], recognize_options(["latex"]), 1)))

    def benchmark(
        self, repeat: int, names: Sequence[str] = ()
    ) -> Generator[tuple[str, models.Benchmark | None], None, None]:
        """Time each bundled sample ``repeat`` times, then the pipeline on all of them at once,
        bypassing the result cache; yields progress messages, and the report last."""
        images = [(p.name, p.read_bytes()) for p in self.samples(names)]
        self.service.warm_up()  # loading the models is not what is measured
        timings: list[models.SampleTiming] = []
        for name, data in images:
            times, result = [], None
            for _ in range(repeat):
                start = time.perf_counter()
                result = self.read_uncached(data)
                times.append((time.perf_counter() - start) * 1000.0)
            text = rendering(result, OutputFormat.latex) if result is not None else None
            timings.append(models.SampleTiming(name=name, latex=text, latency_ms=_median(times)))
            yield f"timed {name}", None
        batch = [data for _, data in images] * repeat
        start = time.perf_counter()
        count = sum(1 for _ in self.service.recognize_many(batch, recognize_options(["latex"])))
        elapsed = time.perf_counter() - start
        yield (
            "throughput measured",
            models.Benchmark(
                samples=timings,
                images=count,
                throughput_per_s=round(count / elapsed, 3) if elapsed > 0 else 0.0,
                workers=self.service.workers,
                threads=self.service.threads,
                model_version=self.service.version,
            ),
        )


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else 0.0
