"""The extractive reader: the bundled e5 encoder fine-tuned to mark where a passage answers a question.

`bench/train_reader.py` fine-tunes the encoder with a start/end head on XQuAD and MLQA and ships what
it learned as `reader.safetensors`: low-rank (SVD) changes to each of the encoder's weight matrices and
the new values of the small tensors, about 11 MB instead of the 470 MB model. The first start adds
them to the bundled weights, exports the result to ONNX and quantises it to int8 (once, cached
beside the embedder's export); afterwards questions are read without torch.
"""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cache import cached

WEIGHTS = Path(__file__).with_name("reader.safetensors")
MAX_TOKENS = 256  # question and passage together; a longer passage is read up to here
MAX_ANSWER_TOKENS = 30
PRECISIONS = ("int8", "fp32")
_WORD = re.compile(r"[^\W_]+(?:[.,/:\-][^\W_]+)*%?")
_EDGES = re.compile(r"[\W_]*(.*?)[^\w%]*", re.S)
_WORDY = re.compile(r"[^\W_]")  # a token the answer may begin or end on: not punctuation alone


@dataclass(frozen=True)
class Found:
    """Where the passage answers: character offsets into its text, and the reader's score (start + end logit)."""

    start: int
    end: int
    score: float


def changed_weights(base: Path, changes: Path):
    """The fine-tuned reader as a transformers model: the base encoder plus the shipped changes."""
    import torch
    import transformers
    from safetensors.torch import load_file
    from transformers import BertForQuestionAnswering

    transformers.logging.set_verbosity_error()
    model = BertForQuestionAnswering.from_pretrained(base, attn_implementation="eager")
    state, delta = model.state_dict(), load_file(changes)
    for name in state:
        if f"{name}::u" in delta:
            state[name] += (delta[f"{name}::u"].float() @ delta[f"{name}::v"].float()).to(state[name].dtype)
        elif name in delta:
            state[name] = delta[name].to(state[name].dtype)
    missing = [n for n in ("qa_outputs.weight", "qa_outputs.bias") if n not in delta]
    if missing:
        raise ValueError(f"{changes} is not a reader's weights: it lacks {', '.join(missing)}")
    model.load_state_dict(state)
    return model.eval().to(torch.float32)


def export(base: Path, changes: Path, cache_dir: Path, precision: str = "int8") -> Path:
    """The ONNX reader for these changes, exported once into the cache (made again when damaged): int8, or fp32
    (about 0.02 F1 more, but more than twice the time a question)."""
    _checked(precision)
    digest = hashlib.sha256(changes.read_bytes()).hexdigest()[:16]
    folder = Path(cache_dir) / "reader" / f"{base.name}-{digest}"
    if precision == "fp32":
        return cached(folder / "reader.onnx", lambda path: _traced(base, changes, path),
                      f"exporting the reader to ONNX (fp32) in {folder} (once)")
    return cached(folder / "reader_int8.onnx", lambda path: _quantised(base, changes, path),
                  f"exporting the reader to ONNX (int8) in {folder} (once)")


def _checked(precision: str) -> None:
    """Refuse a precision the reader is not made in, naming the setting and the choices."""
    if precision not in PRECISIONS:
        raise ValueError(f"QA_READER_PRECISION must be one of {', '.join(PRECISIONS)}, not {precision!r}")


def _traced(base: Path, changes: Path, path: Path) -> None:
    """Trace the changed encoder in fp32 into `path`."""
    from .onnx import quiet_exporter

    with quiet_exporter():
        _export_fp32(changed_weights(base, changes), base, path)


def _quantised(base: Path, changes: Path, path: Path) -> None:
    """Trace the changed encoder in fp32 beside `path`, then quantise it into `path`."""
    from .onnx import quantized

    fp32 = path.with_name("reader.onnx")
    _traced(base, changes, fp32)
    quantized(fp32, path)


def _export_fp32(model, base: Path, path: Path) -> None:
    """Trace the reader with dynamic batch and sequence axes; outputs: start and end logits."""
    import torch
    from transformers import AutoTokenizer

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask)
            return out.start_logits, out.end_logits

    sample = AutoTokenizer.from_pretrained(base)(["ai?"], ["một hai ba"], return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(Logits(), (sample["input_ids"], sample["attention_mask"]), str(path),
                          input_names=["input_ids", "attention_mask"], output_names=["start", "end"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "start": axes, "end": axes},
                          opset_version=17, dynamo=False)


def best_span(start: np.ndarray, end: np.ndarray, allowed: np.ndarray, longest: int = MAX_ANSWER_TOKENS
              ) -> tuple[int, int, float]:
    """The (first, last) token pair with the highest start + end logit, first ≤ last < first + longest,
    both among the allowed (passage) tokens."""
    s = np.where(allowed, start, -np.inf)
    e = np.where(allowed, end, -np.inf)
    pairs = s[:, None] + e[None, :]
    n = len(s)
    band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), longest)
    pairs = np.where(band, pairs, -np.inf)
    i, j = np.unravel_index(int(np.argmax(pairs)), pairs.shape)
    return int(i), int(j), float(pairs[i, j])


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to the words (and numbers: "10.300", "22-10", "5%") it touches, without the
    punctuation at its edges (a closing "%" stays); empty when nothing but punctuation is left."""
    for word in _WORD.finditer(text):
        if word.start() < start < word.end():
            start = word.start()
        if word.start() < end < word.end():
            end = word.end()
    inner = _EDGES.fullmatch(text, start, end)
    return inner.start(1), inner.end(1)


class Reader:
    """Marks the answer to a question in a passage. One single-threaded ONNX session per process, opened on
    first use (a session does not survive fork, so gunicorn workers each open their own)."""

    def __init__(self, model_file: Path, tokenizer):
        self.model_file, self.tokenizer = model_file, tokenizer
        self._session = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config, embedder=None) -> Reader | None:
        """The shipped reader over the bundled encoder, or None when the configuration turns it off. It shares
        the embedder's tokenizer when that is the bundled model's (a copy holds about 290 MB)."""
        _checked(config.reader_precision)  # a wrong setting is said even while the reader is off
        if not config.reader:
            return None
        from .embedder import _tokenizer, bundled_model_dir

        base = bundled_model_dir(config.model_cache)
        shared = embedder is not None and embedder.folder == base and getattr(embedder.tokenizer, "is_fast", False)
        model_file = export(base, WEIGHTS, config.model_cache, config.reader_precision)
        return cls(model_file, embedder.tokenizer if shared else _tokenizer(base))

    @property
    def session(self):
        """The ONNX session, opened once per process on first use."""
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                self._session = ort.InferenceSession(str(self.model_file), options,
                                                     providers=["CPUExecutionProvider"])
        return self._session

    def _encoded(self, question: str, text: str) -> tuple[list[int], list[tuple[int, int]], list[int | None]]:
        """Token ids, offsets and sequence numbers of the pair, the passage cut to MAX_TOKENS in all. It calls the
        Rust tokenizer, whose settings it leaves alone: the tokenizer may be the embedder's, in use by other threads."""
        enc = self.tokenizer.backend_tokenizer.encode(question, text)
        ids, offsets, sequences = enc.ids, enc.offsets, enc.sequence_ids
        if len(ids) > MAX_TOKENS:
            ids, offsets, sequences = (x[:MAX_TOKENS - 1] + x[-1:] for x in (ids, offsets, sequences))
        return ids, offsets, sequences

    def logits(self, question: str, text: str) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]], list]:
        """Start and end logits of each token of the pair, with the tokens' offsets and sequence numbers."""
        ids, offsets, sequences = self._encoded(question, text)
        ids = np.array([ids], dtype=np.int64)
        start, end = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        return start[0], end[0], offsets, sequences

    def read(self, question: str, text: str) -> Found | None:
        """The best span of `text` answering `question`, from a word to a word and widened to whole words;
        None when the passage has no words."""
        if not question.strip() or not text.strip():
            return None
        start, end, offsets, sequences = self.logits(question, text)
        allowed = np.array([seq == 1 and _WORDY.search(text, a, b) is not None
                            for seq, (a, b) in zip(sequences, offsets)])
        if not allowed.any():
            return None
        i, j, score = best_span(start, end, allowed)
        a, b = whole_words(text, offsets[i][0], offsets[j][1])
        return Found(a, b, score) if b > a else None
