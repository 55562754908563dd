#!/usr/bin/env python3
"""Writes the hostile-file corpus: crafted files of every class in issue "hostile files" (nesting,
undefined behaviour, memory bombs, decompression bombs, hangs, trust). Test-only, standard
library only; TransferLab itself never runs Python.

Usage: make_corpus.py OUT_DIR
Writes OUT_DIR/<case>... and OUT_DIR/cases.tsv: name, CLI arguments (with {F} for the file),
expected outcome ("refuse": exit 2 or 3 naming the file; "read": exit 0).
"""
import json
import os
import struct
import sys
import zlib

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
CASES = []


def case(name, args, expect):
    CASES.append((name, args, expect))


def write(name, data):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---------- pickles (legacy and zip .pth) ----------
def p_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def legacy_pth(root_pickle, keys_pickle=b"\x80\x02]q\x00.", storages=b""):
    magic = b"\x80\x02\x8a\x0a" + bytes.fromhex("6cfc9c46f9206aa85019") + b"."
    version = b"\x80\x02M\xe9\x03."
    sysinfo = b"\x80\x02}q\x00."
    return magic + version + sysinfo + root_pickle + keys_pickle + storages


# ~300k nested tuples: destroying or walking the value used to recurse off the stack.
write("pickle-deep-tuples.pth", legacy_pth(b"\x80\x02N" + b"\x85" * 300000 + b"."))
case("pickle-deep-tuples.pth", "inspect --as weights {F}", "refuse")

# A list that contains itself through the memo, inside the root dict.
self_list = b"\x80\x02}q\x00(" + p_str("a") + b"]q\x01h\x01au."
write("pickle-self-list.pth", legacy_pth(self_list))
case("pickle-self-list.pth", "inspect --as weights {F}", "refuse")


def zip_archive(entries, zip64_offset=None, method_for=None):
    """entries: list of (name, bytes, method, declared_size or None)."""
    body = b""
    central = b""
    for name, data, method, declared in entries:
        raw = data
        if method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            raw = c.compress(data) + c.flush()
        size = len(data) if declared is None else declared
        offset = len(body)
        nb = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(raw),
                            min(size, 0xFFFFFFFF), len(nb), 0)
        body += local + nb + raw
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc,
                               len(raw), min(size, 0xFFFFFFFF), len(nb), 0, 0, 0, 0, 0, offset) + nb
    cd_offset = len(body)
    out = body + central
    if zip64_offset is not None:
        z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries),
                          len(central), cd_offset)
        loc = struct.pack("<IIQI", 0x07064B50, 0, zip64_offset, 1)
        out += z64 + loc
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                           cd_offset, 0)
    return out


def rebuild_tensor(storage_key, numel, sizes, strides):
    """Pickle fragment: torch._utils._rebuild_tensor_v2(storage, 0, sizes, strides, False, {})."""
    def tup(vals):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) if v < 2**31 else
                               b"\x8a\x08" + struct.pack("<q", v) for v in vals) + b"t"
    pid = (b"(" + p_str("storage") + b"ctorch\nFloatStorage\n" + p_str(storage_key) + p_str("cpu") +
           b"J" + struct.pack("<i", numel) + b"tQ")
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"K\x00" + tup(sizes) + tup(strides) +
            b"\x89}tR")


# Stride 0: one float expanded to 2^33 elements (32 GiB) by a 500-byte file.
pkl = b"\x80\x02}(" + p_str("w") + rebuild_tensor("0", 1, [2**33], [0]) + b"u."
write("zip-stride0.pth", zip_archive([("archive/data.pkl", pkl, 0, None),
                                      ("archive/data/0", b"\0\0\0\0", 0, None)]))
case("zip-stride0.pth", "inspect --as weights {F}", "refuse")

# Memo aliasing: one 1 MiB storage referenced by 4,000 keys (16 GiB once cloned per key).
body = b"\x80\x02}(" + p_str("k0") + rebuild_tensor("0", 262144, [262144], [1]) + b"q\x01"
for i in range(1, 4000):
    body += p_str("k%d" % i) + b"h\x01"
body += b"u."
write("zip-memo-alias.pth", zip_archive([("archive/data.pkl", body, 0, None),
                                         ("archive/data/0", b"\0" * (1 << 20), 0, None)]))
case("zip-memo-alias.pth", "inspect --as weights {F}", "refuse")

# Strides whose product wraps around 2^64.
pkl = b"\x80\x02}(" + p_str("w") + rebuild_tensor("0", 16, [5], [2**62]) + b"u."
write("zip-stride-wrap.pth", zip_archive([("archive/data.pkl", pkl, 0, None),
                                          ("archive/data/0", b"\0" * 64, 0, None)]))
case("zip-stride-wrap.pth", "inspect --as weights {F}", "refuse")

# Deep nesting inside a zip checkpoint.
write("zip-deep.pth", zip_archive([("archive/data.pkl", b"\x80\x02N" + b"\x85" * 300000 + b".", 8, None)]))
case("zip-deep.pth", "inspect --as weights {F}", "refuse")

# An entry declaring 4 GiB that inflates from a few bytes (was zero-filled before inflating).
write("zip-declared-4g.pth", zip_archive([("archive/data.pkl", b"\0" * 1000, 8, 0xFFFFFFF0)]))
case("zip-declared-4g.pth", "inspect --as weights {F}", "refuse")

# A real deflate bomb: 1 GiB of zeros in ~1 MiB.
c = zlib.compressobj(9, zlib.DEFLATED, -15)
bomb = b"".join(c.compress(b"\0" * (1 << 24)) for _ in range(64)) + c.flush()
pkl = b"\x80\x02}(" + p_str("w") + rebuild_tensor("0", 2**28, [2**28], [1]) + b"u."
z = zip_archive([("archive/data.pkl", pkl, 0, None), ("archive/data/0", b"", 0, None)])
# splice: replace storage entry by a hand-made deflated one declaring 1 GiB
def zip_with_raw(entries):
    body, central = b"", b""
    for name, raw, method, size in entries:
        nb = name.encode()
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, 0, len(raw), size, len(nb), 0) + nb + raw
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, 0, len(raw), size,
                               len(nb), 0, 0, 0, 0, 0, offset) + nb
    return body + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                                         len(central), len(body), 0)
write("zip-deflate-bomb.pth", zip_with_raw([("archive/data.pkl", pkl, 0, len(pkl)),
                                            ("archive/data/0", bomb, 8, 1 << 30)]))
case("zip-deflate-bomb.pth", "inspect --as weights {F}", "refuse")

# ZIP64 end record pointing near 2^64 (the bounds check used to wrap).
write("zip64-offset-wrap.pth", zip_archive([("archive/data.pkl", b"\x80\x02}.", 0, None)],
                                           zip64_offset=2**64 - 20))
case("zip64-offset-wrap.pth", "inspect --as weights {F}", "refuse")


# ---------- safetensors ----------
def safetensors(header_text, data=b""):
    h = header_text.encode() if isinstance(header_text, str) else header_text
    return struct.pack("<Q", len(h)) + h + data


depth = 1_000_000
write("st-deep-dtype.safetensors",
      safetensors('{"w":{"dtype":' + "[" * depth + "]" * depth + ',"shape":[1],"data_offsets":[0,4]}}', b"\0" * 4))
case("st-deep-dtype.safetensors", "inspect --as weights {F}", "refuse")

# 100,000 one-byte tensors: legal, must be read in bounded time and memory.
n = 100_000
hdr = {"t%06d" % i: {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]} for i in range(n)}
write("st-many-tensors.safetensors", safetensors(json.dumps(hdr), b"\1" * n))
case("st-many-tensors.safetensors", "inspect --as weights {F}", "read")

# Overlapping tensors each claiming the whole (large) data area: validated before allocating.
hdr = {"t%d" % i: {"dtype": "F32", "shape": [1 << 22], "data_offsets": [0, 1 << 24]} for i in range(64)}
write("st-overlap.safetensors", safetensors(json.dumps(hdr), b"\0" * (1 << 24)))
case("st-overlap.safetensors", "inspect --as weights {F}", "refuse")

write("st-header-len-huge.safetensors", struct.pack("<Q", 2**63) + b"{}")
case("st-header-len-huge.safetensors", "inspect --as weights {F}", "refuse")


# ---------- IDX ----------
def idx(dims, data=b"", gz=False):
    raw = b"\0\0\x08" + bytes([len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data
    return zlib.compress(raw, 9, ) if False else (gzip_bytes(raw) if gz else raw)


def gzip_bytes(raw):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(raw) + c.flush()


os.makedirs(os.path.join(OUT, "idx-wrap"), exist_ok=True)
write("idx-wrap/train-images-idx3-ubyte", idx([2**31, 2**31, 4]))
write("idx-wrap/train-labels-idx1-ubyte", idx([2**31]))
case("idx-wrap", "dataset inspect --no-verify {F}", "refuse")

# 2^29 labels from ~0.5 MB of gzip.
c = zlib.compressobj(9, zlib.DEFLATED, 31)
hdr = b"\0\0\x08\x01" + struct.pack(">I", 2**29)
labels = c.compress(hdr) + b"".join(c.compress(b"\0" * (1 << 24)) for _ in range(32)) + c.flush()
write("idx-gzip-bomb/train-labels-idx1-ubyte.gz", labels)
write("idx-gzip-bomb/train-images-idx3-ubyte.gz", gzip_bytes(idx([2**29, 1, 1])))
case("idx-gzip-bomb", "dataset inspect --no-verify {F}", "refuse")


# ---------- images ----------
def be16(v):
    return struct.pack(">H", v)


def jpeg_sof(w, h):
    return b"\xff\xc0" + be16(17) + b"\x08" + be16(h) + be16(w) + b"\x03" + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"


hidden = jpeg_sof(32768, 32768) + b"\xff\xda" + be16(12) + b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00" + b"\x00" * 64
visible = jpeg_sof(8, 8) + b"\xff\xda" + be16(12) + b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00" + b"\x00" * 16
jpeg = b"\xff\xd8" + b"\xff\x00" + be16(len(hidden) + 2) + hidden + visible + b"\xff\xd9"
write("jpeg-hidden-frame.jpg", jpeg)
case("jpeg-hidden-frame.jpg", "inspect --as image {F}", "refuse")


def tiff_dup_tags():
    entries = [(256, 4, 1, 30000), (257, 4, 1, 30000), (256, 4, 1, 8), (257, 4, 1, 8),
               (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 12 * 9 + 4),
               (279, 4, 1, 64)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", t, ty, n, v) for t, ty, n, v in entries) + struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8) + ifd + b"\0" * 64


write("tiff-duplicate-size.tif", tiff_dup_tags())
case("tiff-duplicate-size.tif", "inspect --as image {F}", "refuse")


def png(w, h, colour_type=6, rows_zero=True):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ch = {6: 4, 2: 3, 0: 1}[colour_type]
    ihdr = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    c = zlib.compressobj(9)
    row = b"\0" * (1 + w * ch)
    data = b"".join(c.compress(row) for _ in range(h)) + c.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


write("png-100mp-rgba.png", png(10000, 10000))
case("png-100mp-rgba.png", "inspect --as image {F}", "refuse")
write("png-12mp-rgba.png", png(4000, 3000))
case("png-12mp-rgba.png", "inspect --as image {F}", "read")

# ---------- folders: FIFO, symlink loop, link outside, /dev/zero manifest ----------
base = os.path.join(OUT, "folder-hostile")
for cls in ("cats", "dogs"):
    os.makedirs(os.path.join(base, cls), exist_ok=True)
    write("folder-hostile/%s/ok.png" % cls, png(8, 8, 2))
fifo = os.path.join(base, "cats", "b.png")
if not os.path.exists(fifo):
    os.mkfifo(fifo)
loop = os.path.join(base, "dogs", "loop")
if not os.path.lexists(loop):
    os.symlink("..", loop)
home = os.path.join(base, "dogs", "outside")
if not os.path.lexists(home):
    os.symlink("/", home)
case("folder-hostile", "dataset inspect {F}", "read")

fifo2 = os.path.join(OUT, "fifo.safetensors")
if not os.path.exists(fifo2):
    os.mkfifo(fifo2)
case("fifo.safetensors", "inspect --as weights {F}", "refuse")

zero = os.path.join(OUT, "zero.csv")
if not os.path.lexists(zero):
    os.symlink("/dev/zero", zero)
case("zero.csv", "dataset inspect {F}", "refuse")

# ---------- JSON documents: project, checkpoint, bundle ----------
deep = "[" * 200000 + "]" * 200000
write("deep.tlproj", ('{"format":"transferlab-project","format_version":1,"name":' + deep + "}").encode())
case("deep.tlproj", "inspect --as project {F}", "refuse")

ck = os.path.join(OUT, "ckpt-no-pattern")
os.makedirs(ck, exist_ok=True)
state = {"epoch": 1, "step": 1, "best_epoch": 1, "best_metric": 0, "epochs_without_improvement": 0,
         "history": [], "extra_freeze_rules": [{"frozen": True}], "lr_override": 0, "config": {}}
write("ckpt-no-pattern/state.json", json.dumps(state).encode())
case("ckpt-no-pattern", "inspect --as checkpoint {F}", "refuse")
write("ckpt-deep/state.json", ('{"epoch":1,"history":' + deep + "}").encode())
case("ckpt-deep", "inspect --as checkpoint {F}", "refuse")


def bundle(name, meta):
    write(name + "/model.json", json.dumps(meta).encode())
    write(name + "/model.safetensors", safetensors('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4))
    case(name, "inspect --as bundle {F}", "refuse")


good_meta = {"architecture": "small_cnn", "head": {"kind": "mlp", "num_classes": 2, "hidden": 10**9,
                                                   "dropout": 0}, "class_names": ["a", "b"],
             "preprocess": {"input_size": 28, "channels": 1, "mean": [0.5], "std": [0.5],
                            "crop_fraction": 1}}
bundle("bundle-huge-hidden", good_meta)
m = json.loads(json.dumps(good_meta)); m["head"]["hidden"] = 0; m["preprocess"]["input_size"] = 2**30
bundle("bundle-huge-input", m)
m = json.loads(json.dumps(good_meta)); m["head"]["hidden"] = 0; m["preprocess"]["channels"] = 100000
bundle("bundle-huge-channels", m)
m = json.loads(json.dumps(good_meta)); m["head"]["hidden"] = 0; m["architecture"] = "bert_l99_h9984_a12"
bundle("bundle-huge-bert", m)
m = json.loads(json.dumps(good_meta)); m["head"]["hidden"] = 0; m["architecture"] = "torchscript"
write("bundle-torchscript/backbone.pt", b"PK\3\4 not really")
bundle("bundle-torchscript", m)

# ---------- what fuzzing found (tests/fuzz/crashes/TARGET/): each finding, through the CLI ----------

FINDINGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "crashes")
for target in sorted(os.listdir(FINDINGS)):
    for finding in sorted(os.listdir(os.path.join(FINDINGS, target))):
        with open(os.path.join(FINDINGS, target, finding), "rb") as src:
            data = src.read()
        name = "fuzz-" + target + "-" + finding
        if target == "hdf5":
            write(name, data)
            case(name, "dataset inspect {F}", "refuse")
        elif target == "documents":  # the harness's first byte picks the document (FuzzDocuments.cpp)
            kind = data[0] % 3 if data else 0
            if kind == 0:
                write(name, data[1:])
                case(name, "inspect --as project {F}", "refuse")
            elif kind == 1:
                write(name + "/state.json", data[1:])
                case(name, "inspect --as checkpoint {F}", "refuse")
            else:
                write(name + "/model.json", data[1:])
                write(name + "/model.safetensors", safetensors('{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', b"\0" * 16))
                case(name, "inspect --as bundle {F}", "refuse")
        elif target == "weights":  # FuzzWeights.cpp reads the bytes as a weights file
            write(name, data)
            case(name, "inspect --as weights {F}", "refuse")
        else:
            raise SystemExit("make_corpus: no CLI command for fuzz findings of " + target)

with open(os.path.join(OUT, "cases.tsv"), "w") as f:
    for name, args, expect in CASES:
        f.write("%s\t%s\t%s\n" % (name, args, expect))
print("make_corpus: %d cases in %s" % (len(CASES), OUT))
