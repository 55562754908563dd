#!/usr/bin/python3
"""Regenerates tests/data/explain/gradcam_small_cnn.pth: a reference Grad-CAM computed by
PyTorch itself (forward hooks + autograd), independently of TransferLab's code.

Development tool only (TransferLab never runs Python): needs Debian's python3-torch.
Run:  /usr/bin/python3 tests/data/make_gradcam_fixture.py

The file is one flat state dict: the small CNN's weights under TransferLab's key names
(block1.0.weight, block1.1.running_mean, ..., fc.bias) plus the fixture's tensors under
"fixture.*": the input image, the class explained, and the Grad-CAM / Grad-CAM++ maps at two
layers (bilinear upsampling to the input size, align_corners=False; each map divided by its max).
"""
import collections
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(20261202)


def block(cin, cout, pool):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class SmallCnn(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.block1 = block(3, 32, True)
        self.block2 = block(32, 64, True)
        self.block3 = block(64, 128, False)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


net = SmallCnn(4)
with torch.no_grad():  # non-trivial BatchNorm statistics, so eval-mode BN matters
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
net.eval()
image = torch.randn(1, 3, 40, 40)
target = int(net(image).argmax())  # the predicted class (a random net's other maps can be all 0)


def cam(layer, plusplus):
    kept = {}
    handle = getattr(net, layer).register_forward_hook(lambda m, i, o: kept.update(a=o))
    logits = net(image)
    handle.remove()
    a = kept["a"]
    (g,) = torch.autograd.grad(logits[0, target], a)
    if plusplus:
        g2, g3 = g.pow(2), g.pow(3)
        alpha = g2 / (2 * g2 + a.sum((2, 3), keepdim=True) * g3 + 1e-7)
        alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
        w = (alpha * g.clamp(min=0)).sum((2, 3))
    else:
        w = g.mean((2, 3))
    m = (w[:, :, None, None] * a).sum(1, keepdim=True).clamp(min=0)
    m = F.interpolate(m, size=image.shape[2:], mode="bilinear", align_corners=False)[0, 0]
    assert m.max() > 0, "degenerate map: pick another seed"
    return (m / m.max()).detach()


sd = collections.OrderedDict((k, v.detach().clone()) for k, v in net.state_dict().items())
sd["fixture.input"] = image
sd["fixture.class"] = torch.tensor([target], dtype=torch.int64)
sd["fixture.probabilities"] = torch.softmax(net(image), 1).detach()[0]
for layer in ("block2", "block3"):
    sd["fixture.gradcam." + layer] = cam(layer, False)
    sd["fixture.gradcampp." + layer] = cam(layer, True)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explain")
os.makedirs(out, exist_ok=True)
torch.save(sd, os.path.join(out, "gradcam_small_cnn.pth"))
print("wrote", os.path.join(out, "gradcam_small_cnn.pth"))
