#!/usr/bin/env python3
"""Test-only: loads a TransferLab ResNet bundle's model.safetensors into Debian's
python3-torchvision ResNet by its upstream key names (strict: every key must match), predicts
the images of `transferlab-cli predict --json` with the bundle's preprocessing, and compares.
Never used by the product."""
import argparse
import json
import struct
import sys

import numpy as np
import torch
import torchvision

from onnx_client import load_image, preprocess_image


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "I64": np.int64, "F64": np.float64}
    out = {}
    for key, t in header.items():
        if key == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
        out[key] = torch.from_numpy(arr.copy())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()
    meta = json.load(open(f"{a.bundle}/model.json"))
    arch, head = meta["architecture"], meta["head"]
    model = getattr(torchvision.models, arch)(weights=None)
    features = model.fc.in_features
    n = head["num_classes"]
    if head["kind"] == "linear":
        model.fc = torch.nn.Sequential(torch.nn.Dropout(head["dropout"]), torch.nn.Linear(features, n))
    else:
        model.fc = torch.nn.Sequential(
            torch.nn.Linear(features, head["hidden"]),
            torch.nn.ReLU(),
            torch.nn.Dropout(head["dropout"]),
            torch.nn.Linear(head["hidden"], n),
        )
    state = read_safetensors(f"{a.bundle}/model.safetensors")
    model.load_state_dict(state, strict=True)  # raises naming any key that does not match
    model.eval()
    pre = meta["preprocess"]
    expected = json.load(open(a.expected))
    worst, mismatches = 0.0, []
    with torch.no_grad():
        for r in expected:
            x = torch.from_numpy(preprocess_image(load_image(r["path"], pre["channels"]), pre))
            # TransferLab reports calibrated probabilities: softmax(logits / temperature).
            temperature = meta.get("calibration", {}).get("temperature", 1.0)
            probs = torch.softmax(model(x).double() / temperature, 1)[0].numpy()
            theirs = np.zeros(n)
            for t in r["top"]:
                theirs[t["index"]] = t["prob"]
            worst = max(worst, float(np.abs(probs - theirs).max()))
            if int(probs.argmax()) != int(theirs.argmax()):
                mismatches.append(r["path"])
    print(json.dumps({"bundle": a.bundle, "architecture": arch, "keys": len(state),
                      "max_probability_difference": worst, "top1_mismatches": mismatches,
                      "torchvision": torchvision.__version__}))
    return 0 if not mismatches and worst <= a.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
