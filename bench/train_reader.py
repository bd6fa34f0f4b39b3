"""Fine-tune the bundled e5 encoder as the extractive reader (qa/model/reader.py); report it held out.

Training data: XQuAD (Vietnamese and English questions over the same Vietnamese paragraphs, CC BY-SA
4.0) and MLQA dev (Vietnamese, CC BY-SA 3.0). Each question is paired with the passage, split as the
index splits its paragraph, that holds its gold answer; the reader learns the answer's first and last
token (a start/end head on the encoder, every layer but the word embeddings trained, 4 epochs: at 2 the
training loss was still falling fast; set so before any 4-epoch figure was seen).

Held out: 3-fold cross-validation grouped by article (title), over every set at once: an article's
questions, in any language, are read by a reader fine-tuned without that article. The fold readers are
written to bench/data/reader_folds/ for bench/answers_heldout.py, and their figures (EM and F1 of the
int8 ONNX reader the service runs, given the gold passage) are the ones reported. Nothing is tuned on
them: the settings below were set before the folds were scored.

The shipped reader is fine-tuned on every question; what changed in each encoder matrix is kept as its
rank-64 SVD (the changes are nearly low-rank: rank 64 lost nothing measurable on a held-out fold,
rank 16 about 0.02 F1). Run: python bench/train_reader.py [--folds-only [--reuse-folds] | --shipped-only]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from train_spans import fold_of  # noqa: E402

from qa.config import Config  # noqa: E402
from qa.eval import exact_match, load_benchmark, token_f1  # noqa: E402
from qa.ingest.passages import split  # noqa: E402
from qa.model import reader  # noqa: E402
from qa.model.embedder import _tokenizer, bundled_model_dir  # noqa: E402

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
TRAIN = ("xquad_vi", "xquad_en_vi", "mlqa_vi_dev")
FOLDS = 3
FOLD_DIR = ROOT / "bench" / "data" / "reader_folds"  # reader k was fine-tuned without the articles of fold k
EPOCHS, BATCH, LEARNING_RATE, WARMUP, RANK, SEED = 4, 16, 1e-4, 0.1, 64, 0


def examples(name: str, config: Config) -> list[dict]:
    """One record per question whose gold answer lies whole inside one passage of its paragraph."""
    articles, questions = load_benchmark(BENCHMARKS / name)
    by_id = {a.id: a for a in articles}
    out = []
    for q in questions:
        article = by_id[q.paragraph_id]
        for answer in q.answers:
            at = article.text.find(answer)
            passage = next((p for p in split(article.id, article.text, config.target_chars, config.max_chars)
                            if at >= 0 and p.start <= at and at + len(answer) <= p.end), None)
            if passage is not None:
                out.append({"set": name, "group": article.title, "question": q.text, "text": passage.text,
                            "start": at - passage.start, "end": at - passage.start + len(answer),
                            "answers": q.answers})
                break
    return out


def _batch(tokenizer, records: list[dict]):
    """Tokenised question-passage pairs and the answer's first and last token (0 when cut off)."""
    import torch

    enc = tokenizer([r["question"] for r in records], [r["text"] for r in records], truncation="only_second",
                    max_length=reader.MAX_TOKENS, padding=True, return_offsets_mapping=True, return_tensors="pt")
    firsts, lasts = [], []
    for k, r in enumerate(records):
        inside = [j for j, (seq, (a, b)) in enumerate(zip(enc.sequence_ids(k), enc["offset_mapping"][k].tolist()))
                  if seq == 1 and b > a and a < r["end"] and b > r["start"]]
        firsts.append(inside[0] if inside else 0)
        lasts.append(inside[-1] if inside else 0)
    return enc, torch.tensor(firsts), torch.tensor(lasts)


def fine_tune(records: list[dict], base: Path, tokenizer, log_every: int = 25):
    """The encoder with a start/end head, fine-tuned on the records (AdamW, linear warm-up and decay; matrix
    products in bfloat16, weights kept in float32)."""
    import torch
    import transformers
    from transformers import BertForQuestionAnswering

    transformers.logging.set_verbosity_error()
    torch.manual_seed(SEED)
    order = random.Random(SEED)
    model = BertForQuestionAnswering.from_pretrained(base, attn_implementation="eager")
    model.bert.embeddings.word_embeddings.weight.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)
    steps = len(records) * EPOCHS // BATCH
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda t: min(1.0, (t + 1) / (WARMUP * steps)) * max(0.0, 1 - t / steps))
    model.train()
    started, step, records = time.time(), 0, list(records)
    while step < steps:
        order.shuffle(records)
        for k in range(0, len(records) - BATCH + 1, BATCH):
            if step == steps:
                break
            enc, firsts, lasts = _batch(tokenizer, records[k:k + BATCH])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                             start_positions=firsts, end_positions=lasts).loss
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % log_every == 0:
                print(f"  step {step}/{steps}: loss {loss.item():.3f} ({time.time() - started:.0f} s)", flush=True)
    return model.eval()


def changes(model, base: Path) -> dict:
    """What fine-tuning changed: each encoder matrix's change as its rank-RANK SVD factors (fp16), every
    other changed tensor whole; the frozen word embeddings are left out."""
    import torch
    from transformers import BertForQuestionAnswering

    before = BertForQuestionAnswering.from_pretrained(base).state_dict()
    out = {}
    for name, value in model.state_dict().items():
        if name.endswith("word_embeddings.weight"):
            continue
        if value.ndim == 2 and ".encoder." in name and min(value.shape) > RANK:
            u, s, vh = torch.linalg.svd(value - before[name], full_matrices=False)
            out[f"{name}::u"] = (u[:, :RANK] * s[:RANK]).half().contiguous()
            out[f"{name}::v"] = vh[:RANK].half().contiguous()
        elif name.startswith("qa_outputs") or not torch.equal(value, before[name]):
            out[name] = value.contiguous()
    return out


def save(model, base: Path, path: Path) -> None:
    """Write the reader's changes (atomically)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(changes(model, base), str(path.with_suffix(".tmp")), metadata={"rank": str(RANK)})
    os.replace(path.with_suffix(".tmp"), path)


def answers(read: reader.Reader, records: list[dict]) -> list[str | None]:
    """The reader's span of each record's gold passage."""
    found = [read.read(r["question"], r["text"]) for r in records]
    return [r["text"][f.start:f.end] if f else None for f, r in zip(found, records)]


def figures(said: list[str | None], records: list[dict]) -> dict:
    """EM and F1 of the spans against the records' gold answers."""
    return {"questions": len(records),
            "EM": round(float(np.mean([exact_match(s, r["answers"]) for s, r in zip(said, records)])), 3),
            "F1": round(float(np.mean([token_f1(s, r["answers"]) for s, r in zip(said, records)])), 3)}


def runtime(changes_file: Path, config: Config) -> reader.Reader:
    """The reader exactly as the service runs it (ONNX, int8 unless QA_READER_PRECISION says fp32) for these changes."""
    base = bundled_model_dir(config.model_cache)
    model_file = reader.export(base, changes_file, config.model_cache, config.reader_precision)
    return reader.Reader(model_file, _tokenizer(base))


def main() -> int:
    """Fine-tune the fold readers and the shipped one; print their held-out figures."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds-only", action="store_true", help="only the fold readers and their figures")
    parser.add_argument("--shipped-only", action="store_true", help="only the shipped reader")
    parser.add_argument("--reuse-folds", action="store_true",
                        help="score the fold readers already in bench/data/reader_folds instead of fine-tuning them")
    parser.add_argument("--out", type=Path, default=reader.WEIGHTS)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    config = Config.from_env()
    base = bundled_model_dir(config.model_cache)
    tokenizer = _tokenizer(base)
    train = [r for name in TRAIN for r in examples(name, config)]
    print(f"examples: {len(train)} questions of {', '.join(TRAIN)}", flush=True)
    if not args.shipped_only:
        pooled: dict[str, tuple[list, list]] = {name: ([], []) for name in TRAIN}
        for k in range(FOLDS):
            started = time.time()
            if not (args.reuse_folds and (FOLD_DIR / f"fold{k}.safetensors").exists()):
                print(f"fold {k}: fine-tuning without its articles", flush=True)
                model = fine_tune([r for r in train if fold_of(r["group"], FOLDS) != k], base, tokenizer)
                save(model, base, FOLD_DIR / f"fold{k}.safetensors")
            read = runtime(FOLD_DIR / f"fold{k}.safetensors", config)
            for name in TRAIN:
                part = [r for r in train if r["set"] == name and fold_of(r["group"], FOLDS) == k]
                said = answers(read, part)
                pooled[name][0].extend(said)
                pooled[name][1].extend(part)
                print(f"fold {k} {name}: {figures(said, part)} ({time.time() - started:.0f} s)", flush=True)
        print(f"{FOLDS}-fold by article: { {name: figures(*pair) for name, pair in pooled.items()} }", flush=True)
    if not args.folds_only:
        print("shipped reader: fine-tuning on every question", flush=True)
        save(fine_tune(train, base, tokenizer), base, args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
