"""ONNX Runtime arms for bench_predict.py: the checkpoint exported to ONNX, run by an InferenceSession behind the
project's own batching, windowing and span code (so the arms differ only in what computes the logits).

onnxruntime and onnx are not project dependencies; install them beside the environment to run these arms:

    pip install --target /tmp/ort onnxruntime onnx && rm -rf /tmp/ort/numpy*   # keep the venv's numpy
    PYTHONPATH=/tmp/ort python benchmarks/bench_predict.py ... --arms fp32,ort,ort_int8

`ort` is the fp32 graph; `ort_int8` is it after `onnxruntime.quantization.quantize_dynamic` (int8 weights,
per-channel, as the project's `--quantize int8` does in PyTorch).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from bioner.tagging.tagger import Tagger
from bioner.training.modeling import load_checkpoint


class OrtModel(torch.nn.Module):
    """What `tag_words` needs of a model (config, a device, `(input_ids, attention_mask) -> .logits`), from ORT."""

    def __init__(self, session: Any, config: Any) -> None:
        super().__init__()
        self.session, self.config = session, config
        self._anchor = torch.nn.Parameter(torch.zeros(1), requires_grad=False)  # device for tag_words

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        out = self.session.run(["logits"], {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})
        return SimpleNamespace(logits=torch.from_numpy(out[0]))


def export(model: torch.nn.Module, path: Path) -> None:
    """A token classifier as an ONNX graph with dynamic batch and length axes."""
    model.eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    torch.onnx.export(model, (ids, torch.ones_like(ids)), str(path), input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                                             "attention_mask": {0: "batch", 1: "length"},
                                                             "logits": {0: "batch", 1: "length"}},
                      opset_version=17, dynamo=False)


def ort_tagger(checkpoint: str, threads: int, int8: bool) -> Tagger:
    """A Tagger whose logits come from ONNX Runtime (CPU, `threads` intra-op threads)."""
    import onnxruntime as ort
    from common import scratch_dir

    tok, model = load_checkpoint(checkpoint)
    work = scratch_dir("bench_onnx.")  # removed when the child exits
    graph = work / "model.onnx"
    export(model, graph)
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(graph), str(work / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        graph = work / "int8.onnx"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
    return Tagger(tok, OrtModel(session, model.config), source=checkpoint, device="cpu")
