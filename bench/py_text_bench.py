#!/usr/bin/env python3
"""Reference for tlab_bench_text: the same MiniLM-L6 (BERT L6/H384/A12) in PyTorch Python via
Hugging Face transformers' BertModel, mean pooling + linear head, AdamW, random token ids.
Needs transformers (a dev-only venv: see tests/data/text/make_text_fixtures.py); never used by
TransferLab itself.
  py_text_bench.py [--seq 128] [--batch 32] [--train top2|all] [--steps 5] [--warmup 2] [--threads 2]"""
import argparse
import json
import statistics
import time

import torch
from transformers import BertConfig, BertModel

ap = argparse.ArgumentParser()
ap.add_argument("--seq", type=int, default=128)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--train", default="all")
ap.add_argument("--steps", type=int, default=5)
ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (as the engine)")
ap.add_argument("--bf16", action="store_true", help="torch.autocast('cpu', bfloat16) around the forward")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
cfg = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                 intermediate_size=1536)
bert = BertModel(cfg, add_pooling_layer=False)
head = torch.nn.Linear(384, 4)
ids = torch.randint(1000, 30000, (a.batch, a.seq))
mask = torch.ones(a.batch, a.seq, dtype=torch.long)
labels = torch.randint(0, 4, (a.batch,))


def embed():
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        h = bert(input_ids=ids, attention_mask=mask).last_hidden_state.float()
    m = mask.unsqueeze(-1).float()
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def timed(step):
    for _ in range(a.warmup):
        step()
    s = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        s.append(time.perf_counter() - t0)
    return a.batch / statistics.median(s)


def report(phase, rate):
    print(json.dumps({"impl": "python", "model": "minilm_l6", "phase": phase, "seq": a.seq,
                      "precision": "bf16" if a.bf16 else "fp32",
                      "batch": a.batch, "train": a.train, "threads": torch.get_num_threads(),
                      "sentences_per_s_median": rate}), flush=True)


bert.eval()
with torch.no_grad():
    report("embed", timed(embed))
if a.train == "top2":
    for p in bert.parameters():
        p.requires_grad_(False)
    for layer in bert.encoder.layer[-2:]:
        for p in layer.parameters():
            p.requires_grad_(True)
bert.train()
params = [p for p in list(bert.parameters()) + list(head.parameters()) if p.requires_grad]
opt = torch.optim.AdamW(params, lr=2e-5)


def train_step():
    opt.zero_grad()
    torch.nn.functional.cross_entropy(head(embed()), labels).backward()
    opt.step()


report("train", timed(train_step))
