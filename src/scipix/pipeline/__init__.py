"""The five agents (Preprocess → Detect → Recognize → Generate → Validate), the messages they
exchange (``Owned``, ``Shared``, ``Mutable``, ``Tag``) and the runtimes that run them."""

from __future__ import annotations

from scipix.pipeline.job import Envelope, Job, Layout, Reading, Region
from scipix.pipeline.message import MovedError, Mutable, Owned, Shared, Tag
from scipix.pipeline.runtime import Agent, LocalRuntime, Runtime, run_inline

__all__ = [
    "Agent",
    "Envelope",
    "Job",
    "Layout",
    "LocalRuntime",
    "MovedError",
    "Mutable",
    "Owned",
    "Reading",
    "Region",
    "Runtime",
    "Shared",
    "Tag",
    "run_inline",
]
