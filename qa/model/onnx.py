"""ONNX Runtime backend: the sentence-transformers folder exported to ONNX (optionally int8), run without torch.

sentence-transformers' own `backend="onnx"` needs optimum-onnx, whose releases on the registry
require transformers < 4.58 while sentence-transformers 6 requires transformers 5; so the export
(torch.onnx), int8 dynamic quantisation (onnxruntime.quantization) and mean pooling are done here.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .cache import cached, intact

MODEL = "model.onnx"
QUANTIZED = "model_int8.onnx"


def export(folder: Path, dest: Path, quantize: bool) -> Path:
    """Export the folder's transformer to ONNX once (and quantise it); made again when the cached file is damaged."""
    if quantize and intact(dest / QUANTIZED):
        return dest / QUANTIZED  # the fp32 export it came from is not read, nor checked
    fp32 = cached(dest / MODEL, lambda path: _traced(folder, path), f"exporting the model to ONNX in {dest} (once)")
    if not quantize:
        return fp32
    return cached(dest / QUANTIZED, lambda path: quantized(fp32, path),
                  f"quantising the model to int8 in {dest} (once)")


def quantized(fp32: Path, path: Path) -> None:
    """int8 dynamic quantisation, per channel, of an exported model."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet_quantizer():
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True)


def _traced(folder: Path, path: Path) -> None:
    """The fp32 export, quietly."""
    with quiet_exporter():
        _export_fp32(folder, path)


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    """Silence what tracing this model always says and the user can do nothing about: torch's
    TracerWarnings (the mask code's Python branches; the axes are dynamic), the exporter's notes on
    how it lowers operators, the TorchScript exporter's deprecation (the dynamo exporter needs
    onnxscript), transformers' progress bars and load report."""
    import torch
    import transformers

    verbosity, bars = transformers.logging.get_verbosity(), transformers.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
            warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export",
                                    category=DeprecationWarning)
            yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            transformers.logging.enable_progress_bar()


class _NotPreprocessed(logging.Filter):
    """onnxruntime's advice to pre-process a model before static quantisation (ours is dynamic)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextlib.contextmanager
def quiet_quantizer() -> Iterator[None]:
    """onnxruntime's quantiser warns through the root logger (`logging.warning`), which would also
    install a root handler for the rest of the process when none exists: hold one of our own instead."""
    root, quiet, placeholder = logging.getLogger(), _NotPreprocessed(), logging.NullHandler()
    own_handler = not root.handlers
    if own_handler:
        root.addHandler(placeholder)
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)
        if own_handler:
            root.removeHandler(placeholder)


def _export_fp32(folder: Path, path: Path) -> None:
    """Trace the transformer with dynamic batch and sequence axes; output: token embeddings."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = AutoTokenizer.from_pretrained(folder)(["query: xin chào", "passage: một hai ba bốn năm"], padding=True,
                                                  return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(Encoder(), (sample["input_ids"], sample["attention_mask"]), str(path),
                          input_names=["input_ids", "attention_mask"], output_names=["token_embeddings"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_embeddings": axes},
                          opset_version=17, dynamo=False)


class OnnxRunner:
    """Tokenise, run the exported model, mean-pool.

    One single-threaded session per thread asked for, each taking a share of a batch: on small CPUs
    this outruns one session with several threads. Sessions start on first use (after any fork).
    """

    def __init__(self, model_file: Path, tokenizer, max_tokens: int, dim: int, threads: int | None):
        self.model_file, self.tokenizer, self.max_tokens, self.dim = model_file, tokenizer, max_tokens, dim
        self.threads = threads or os.cpu_count() or 1
        self._sessions: list = []
        self._lock = threading.Lock()
        self._pool = None

    @property
    def sessions(self) -> list:
        """The sessions, created on first use: thread pools do not survive fork."""
        with self._lock:
            if not self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                self._sessions = [ort.InferenceSession(str(self.model_file), options,
                                                       providers=["CPUExecutionProvider"])
                                  for _ in range(self.threads)]
                self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        return self._sessions

    def run(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(mean-pooled vector, token embeddings) for each already-prompted text."""
        sessions = self.sessions
        share = -(-len(texts) // len(sessions))
        chunks = [texts[i:i + share] for i in range(0, len(texts), share)]
        if len(chunks) == 1 or self._pool is None:
            return [r for chunk in chunks for r in self._run(sessions[0], chunk)]
        results = self._pool.map(self._run, sessions, chunks)
        return [r for chunk in results for r in chunk]

    def _run(self, session, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """One session on one chunk, a text per call: its activations stay in the core's cache, which
        beats bigger matrix products (int8: 37 passages/s per core one at a time, 28 sixteen at a
        time), and no padding means a text's vector never depends on its neighbours."""
        return [self._call(session, text) for text in texts]

    def _call(self, session, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Tokenise, run, mean-pool one text."""
        ids = self.tokenizer(text, truncation=True, max_length=self.max_tokens, return_tensors="np")["input_ids"]
        ids = ids.astype(np.int64)
        tokens = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        return tokens.mean(axis=0), tokens
