#!/usr/bin/env python3
"""Test-only reference client for TransferLab's ONNX exports (never used by the product).

Loads BUNDLE/model.onnx with onnxruntime, rebuilds the preprocessing from the model's own
metadata_props (images: OpenCV resize + centre crop + normalisation; text: BERT WordPiece from
the embedded vocabulary), and compares its probabilities with the output of
`transferlab-cli predict --model BUNDLE --json --topk N` given in --expected.

Exit 0 when every input agrees (top-1 identical, probabilities within --tolerance); prints one
JSON line with the largest difference and onnxruntime's batch-1 latency.
"""
import argparse
import json
import statistics
import sys
import time
import unicodedata

import numpy as np
import onnxruntime as ort


def metadata(session):
    return dict(session.get_modelmeta().custom_metadata_map)


# --- images -------------------------------------------------------------------------------


def load_image(path, channels):
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit(f"{path}: cannot decode")
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if channels == 1 and img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if channels == 3 and img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    return img


def preprocess_image(img, pre):
    """The evaluation view exactly as metadata 'preprocess' describes it."""
    import cv2

    size = int(pre["input_size"])
    fraction = min(max(float(pre["crop_fraction"]), 0.05), 1.0)
    shorter = max(size, int(round_half_away(size / fraction)))
    h0, w0 = img.shape[:2]
    scale = shorter / min(w0, h0)
    w = max(size, int(round_half_away(w0 * scale)))
    h = max(size, int(round_half_away(h0 * scale)))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(img, (w, h), interpolation=interp)
    top, left = (h - size) // 2, (w - size) // 2
    crop = resized[top : top + size, left : left + size]
    if crop.ndim == 2:
        crop = crop[:, :, None]
    x = crop.astype(np.float32) / 255.0
    mean = np.array(pre["mean"], dtype=np.float32)
    std = np.array(pre["std"], dtype=np.float32)
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None].astype(np.float32))


def round_half_away(v):
    """C's lround: halves away from zero (Python's round() goes to even)."""
    return int(np.floor(v + 0.5)) if v >= 0 else -int(np.floor(-v + 0.5))


# --- text: BERT's basic tokenizer + WordPiece, from the published algorithm ----------------


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def basic_tokens(text, lower):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        cat = unicodedata.category(ch)
        if ch in "\t\n\r" or ch == " " or cat == "Zs":
            out.append(" ")
        elif cat.startswith("C"):
            continue
        elif is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    cleaned = unicodedata.normalize("NFC", "".join(out))
    tokens = []
    for word in cleaned.split():
        if lower:
            word = "".join(c.lower() for c in word)
            word = "".join(
                c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn"
            )
        piece = ""
        for c in word:
            if is_punctuation(c):
                if piece:
                    tokens.append(piece)
                piece = ""
                tokens.append(c)
            else:
                piece += c
        if piece:
            tokens.append(piece)
    return tokens


def wordpiece(word, vocab, max_chars):
    if len(word) > max_chars:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def encode_text(text, tok, vocab):
    pieces = []
    for w in basic_tokens(text, tok["lower_case"]):
        pieces += wordpiece(w, vocab, int(tok["max_chars_per_word"]))
    ids = [vocab["[CLS]"]] + [vocab[p] for p in pieces][: int(tok["max_tokens"]) - 2]
    ids.append(vocab["[SEP]"])
    ids = np.array([ids], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


# --- comparison ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--expected", required=True, help="transferlab-cli predict --json output")
    ap.add_argument("--texts", help="the text file given to predict --text-file")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--temperature", type=float, default=1.0,
                    help="the bundle's calibration temperature: TransferLab reports "
                    "softmax(logits / T); the ONNX graph ends in softmax(logits)")
    ap.add_argument("--latency-runs", type=int, default=30)
    a = ap.parse_args()

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    session = ort.InferenceSession(a.onnx, opts, providers=["CPUExecutionProvider"])
    meta = metadata(session)
    names = json.loads(meta["class_names"])
    expected = json.load(open(a.expected))
    text = meta["modality"] == "text"
    if text:
        tok = json.loads(meta["tokenizer"])
        tokens = [t.rstrip("\r") for t in meta["vocab"].split("\n")]
        vocab = {}
        for i, t in enumerate(tokens):
            if t:
                vocab.setdefault(t, i)
        lines = [l for l in open(a.texts, encoding="utf-8").read().split("\n") if l.strip()]
        if len(lines) != len(expected):
            raise SystemExit(f"{len(lines)} texts but {len(expected)} predictions")
        feeds = [encode_text(l, tok, vocab) for l in lines]
    else:
        pre = json.loads(meta["preprocess"])
        feeds = [
            {"input": preprocess_image(load_image(r["path"], int(pre["channels"])), pre)}
            for r in expected
        ]

    worst, mismatches, confidences = 0.0, [], []
    for feed, r in zip(feeds, expected):
        if "error" in r:
            raise SystemExit(f"TransferLab failed on an input: {r['error']}")
        probs = session.run(None, feed)[0][0].astype(np.float64)
        if a.temperature != 1.0:  # softmax(log p / T) = softmax(logits / T)
            z = np.log(np.clip(probs, 1e-38, None)) / a.temperature
            z -= z.max()
            probs = np.exp(z) / np.exp(z).sum()
        theirs = np.zeros(len(names), dtype=np.float64)
        for t in r["top"]:
            theirs[t["index"]] = t["prob"]
        if len(r["top"]) != len(names):
            raise SystemExit("predict must list every class (--topk >= classes)")
        worst = max(worst, float(np.abs(probs - theirs).max()))
        confidences.append(round(float(theirs.max()), 4))
        if int(np.argmax(probs)) != int(np.argmax(theirs)):
            mismatches.append(r.get("path", r.get("text", "?")))

    # Batch-1 latency of onnxruntime on the first input (2 threads, as TransferLab uses here).
    session.run(None, feeds[0])
    times = []
    for _ in range(a.latency_runs):
        t0 = time.perf_counter()
        session.run(None, feeds[0])
        times.append(time.perf_counter() - t0)
    report = {
        "onnx": a.onnx,
        "inputs": len(feeds),
        "max_probability_difference": worst,
        "top1_mismatches": mismatches,
        "top1_probabilities": confidences,
        "ort_latency_ms_batch1": 1000 * statistics.median(times),
        "onnxruntime": ort.__version__,
    }
    print(json.dumps(report))
    ok = not mismatches and worst <= a.tolerance
    if not ok:
        print(f"DISAGREES: {a.onnx}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
