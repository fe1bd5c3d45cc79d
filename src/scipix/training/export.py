"""Export a trained checkpoint to the two ONNX files the recognizer runs, with their metadata.

``encoder.onnx``: ``image`` (B, 1, H, W) -> ``embedding`` (B, d), ``cross_k``/``cross_v``
(L, B, heads, S, dh). ``decoder.onnx``: ``tokens`` (N, 1), ``position`` (), ``cross_k``,
``cross_v``, ``past_k``/``past_v`` (L, N, heads, T, dh) -> ``logp`` (N, vocab), ``new_k``/``new_v``.
Both carry the metadata key ``scipix`` (JSON: vocabulary, special ids, input spec, model config,
version, data summary, scores), so weights and code cannot drift apart. ``formula.state.pt``
keeps the fp16 EMA weights and vocabulary from which training resumes on a new machine.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import onnx
import torch
from onnx import numpy_helper

from scipix.training.dataset import BOS, EOS, PAD
from scipix.training.model import DecoderExport, EncoderExport, FormulaModel, ModelConfig

METADATA_KEY = "scipix"
STATE_FILE = "formula.state.pt"
OPSET = 17


def load_weights(path: Path, use_ema: bool = True) -> tuple[FormulaModel, dict[str, Any]]:
    """A model in eval mode from a training checkpoint or a shipped fp16 state file."""
    payload = torch.load(path, map_location="cpu", weights_only=False)
    model = FormulaModel(ModelConfig.from_dict(payload["model_config"]))
    weights = payload["ema"] if use_ema and "ema" in payload else payload["model"]
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    return model.eval(), payload


def export_encoder(model: FormulaModel, path: Path) -> None:
    image = torch.zeros(2, 1, 64, 256)
    torch.onnx.export(
        EncoderExport(model),
        (image,),
        str(path),
        input_names=["image"],
        output_names=["embedding", "cross_k", "cross_v"],
        dynamic_axes={
            "image": {0: "batch", 2: "height", 3: "width"},
            "embedding": {0: "batch"},
            "cross_k": {1: "batch", 3: "positions"},
            "cross_v": {1: "batch", 3: "positions"},
        },
        opset_version=OPSET,
        dynamo=False,
    )


def export_decoder(model: FormulaModel, path: Path) -> None:
    cfg = model.cfg
    dh = cfg.d_model // cfg.heads
    n, s, t = 3, 20, 5
    args = (
        torch.full((n, 1), BOS, dtype=torch.long),
        torch.tensor(t, dtype=torch.long),
        torch.zeros(cfg.dec_layers, n, cfg.heads, s, dh),
        torch.zeros(cfg.dec_layers, n, cfg.heads, s, dh),
        torch.zeros(cfg.dec_layers, n, cfg.heads, t, dh),
        torch.zeros(cfg.dec_layers, n, cfg.heads, t, dh),
    )
    torch.onnx.export(
        DecoderExport(model),
        args,
        str(path),
        input_names=["tokens", "position", "cross_k", "cross_v", "past_k", "past_v"],
        output_names=["logp", "new_k", "new_v"],
        dynamic_axes={
            "tokens": {0: "n"},
            "cross_k": {1: "n", 3: "positions"},
            "cross_v": {1: "n", 3: "positions"},
            "past_k": {1: "n", 3: "steps"},
            "past_v": {1: "n", 3: "steps"},
            "logp": {0: "n"},
            "new_k": {1: "n", 3: "steps_out"},
            "new_v": {1: "n", 3: "steps_out"},
        },
        opset_version=OPSET,
        dynamo=False,
    )


def store_fp16(model_proto: onnx.ModelProto) -> onnx.ModelProto:
    """Store large float initializers as float16 followed by a Cast to float.

    Halves the file; ONNX Runtime folds the casts at load, so inference runs in float32 on
    weights rounded once to float16 (a negligible change, checked by the export test).
    """
    graph = model_proto.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or numpy_helper.to_array(init).size < 1024:
            continue
        array = numpy_helper.to_array(init).astype("float16")
        original = init.name
        half_name = original + "__fp16"
        init.CopyFrom(numpy_helper.from_array(array, half_name))
        casts.append(
            onnx.helper.make_node("Cast", [half_name], [original], to=onnx.TensorProto.FLOAT)
        )
    for node in reversed(casts):
        graph.node.insert(0, node)
    return model_proto


def attach_metadata(path: Path, metadata: dict[str, Any], fp16: bool) -> None:
    proto = onnx.load(str(path))
    if fp16:
        proto = store_fp16(proto)
    entry = proto.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps(metadata, ensure_ascii=False)
    onnx.save(proto, str(path))


def build_metadata(payload: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    tokens = list(payload["tokens"])
    return {
        "format": 1,
        "version": extra.get("version") or time.strftime("formula-%Y%m%d-%H%M"),
        "vocab": tokens,
        "special": {"pad": PAD, "bos": BOS, "eos": EOS, "unk": tokens.index("<unk>")},
        "input_spec": payload["input_spec"],
        "model_config": payload["model_config"],
        "step": payload.get("step"),
        **{k: v for k, v in extra.items() if k != "version"},
    }


def quantize_int8(path: Path) -> None:
    """Dynamic int8 quantization of the MatMul/Gemm weights (activations stay float)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = path.with_suffix(".int8.onnx")
    quantize_dynamic(
        str(path), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"]
    )
    tmp.replace(path)


def export_model(
    checkpoint: Path,
    out_dir: Path,
    extra: dict[str, Any] | None = None,
    fp16: bool = True,
    int8: bool = False,
) -> dict[str, Any]:
    """Write ``encoder.onnx``, ``decoder.onnx`` and ``formula.state.pt`` into ``out_dir``.

    Weights are stored as float16 (``fp16``). With ``int8`` the decoder's matrix weights are
    quantized to int8 instead (dynamic quantization; the rest of the decoder stays float32):
    the decoder runs once per token and beam, so that is where int8 pays (beam 3: 116 -> 90 ms
    per formula for 0.1 BLEU point); the convolutional encoder gains nothing from it and keeps
    its float16 storage."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model, payload = load_weights(checkpoint)
    storage = "fp16" if fp16 else "fp32"
    weights = {"encoder": storage, "decoder": "int8" if int8 else storage}
    metadata = build_metadata(payload, {**(extra or {}), "weights": weights})
    export_encoder(model, out_dir / "encoder.onnx")
    export_decoder(model, out_dir / "decoder.onnx")
    attach_metadata(out_dir / "encoder.onnx", metadata, fp16)
    if int8:
        quantize_int8(out_dir / "decoder.onnx")
    attach_metadata(out_dir / "decoder.onnx", metadata, fp16 and not int8)
    state = {
        "ema": {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()},
        "model_config": payload["model_config"],
        "tokens": payload["tokens"],
        "input_spec": payload["input_spec"],
        "step": payload.get("step", 0),
    }
    torch.save(state, out_dir / STATE_FILE)
    return metadata
