#!/usr/bin/env bash
# A full disk during training: the run folder and the cache folder on a small tmpfs. The run
# must stop with a clear error naming the file, and the previous checkpoint, the feature cache
# and the project file must stay intact and loadable. Needs root (mount); exits 77 (skipped)
# where tmpfs cannot be mounted.
# Usage: full_disk.sh TRANSFERLAB_CLI DATASET WORK_DIR
set -uo pipefail
cli=$1
data=$2
work=$3
mnt="$work/tmpfs"
[ -s "$data" ] || { echo "full_disk: $data missing (scripts/prepare-demo-data): skipped"; exit 77; }
mkdir -p "$mnt"
mountpoint -q "$mnt" && umount "$mnt"
if ! mount -t tmpfs -o size=8m tmpfs "$mnt" 2>/dev/null; then
  echo "full_disk: cannot mount a tmpfs here (not root?): skipped"
  exit 77
fi
trap 'umount "$mnt"' EXIT
fail() { echo "full_disk: FAIL: $*"; exit 1; }
export TLAB_CACHE_DIR="$mnt/cache"
train=("$cli" train --dataset "$data" --backbone small_cnn --strategy scratch --batch-size 64 --seed 3)

# 1. One epoch fits: a checkpoint exists.
"${train[@]}" --epochs 1 --out "$mnt/run" >"$work/first.log" 2>&1 || { cat "$work/first.log"; fail "first epoch"; }
"$cli" inspect --as checkpoint "$mnt/run" >/dev/null || fail "first checkpoint unreadable"
before=$(cat "$mnt/run/checkpoints/latest")

# A project file next to it, as the GUI would keep it.
printf '{"format":"transferlab-project","format_version":1,"name":"p","dataset":{"path":"x"},"config":{},"runs":[]}\n' >"$mnt/p.tlproj"
cp "$mnt/p.tlproj" "$work/p.tlproj.orig"

# 2. Fill the disk but for 256 KiB (enough for the run's small files, not for a checkpoint),
#    then ask for more epochs: the next checkpoint cannot be written.
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
truncate -s -256K "$mnt/filler"
"${train[@]}" --epochs 3 --resume --out "$mnt/run" >"$work/full.log" 2>&1
rc=$?
echo "full_disk: resume on a full disk exited $rc: $(grep -m1 -i "error" "$work/full.log")"
[ $rc -eq 3 ] || fail "expected exit 3 on a full disk, got $rc"
grep -qi "no space left" "$work/full.log" || fail "the error does not say the disk is full"
[ "$(cat "$mnt/run/checkpoints/latest")" = "$before" ] || fail "the latest pointer changed"
"$cli" inspect --as checkpoint "$mnt/run" >/dev/null || fail "previous checkpoint no longer loads"
cmp -s "$mnt/p.tlproj" "$work/p.tlproj.orig" || fail "project file changed"
"$cli" inspect --as project "$mnt/p.tlproj" >/dev/null || fail "project file no longer loads"
grep -q "checkpoints" "$work/full.log" || fail "the error is not about writing the checkpoint"
ls "$mnt/run/checkpoints" | grep -q "tmp" && fail "a temp checkpoint folder was left behind"

# 3. The feature cache on a full disk: the run still finishes (the cache only saves time), the
#    cache file already there stays intact and no temp file is left.
rm -f "$mnt/filler"
probe=("$cli" train --dataset "$data" --backbone small_cnn_fmnist --strategy linear-probe --epochs 1)
"${probe[@]}" --seed 3 --out "$mnt/probe1" >"$work/probe1.log" 2>&1 || { tail "$work/probe1.log"; fail "linear probe"; }
cached=$(ls "$mnt"/features/*.h5 2>/dev/null | head -1)  # features live beside TLAB_CACHE_DIR
[ -n "$cached" ] || fail "the linear probe wrote no feature cache"
sum=$(sha256sum "$cached" | cut -d' ' -f1)
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
rm -rf "$mnt/probe1"
# Another split seed gives another cache key, so the run has to write a new cache file.
"${probe[@]}" --seed 4 --out "$work/probe2" >"$work/probe2.log" 2>&1 || { tail "$work/probe2.log"; fail "linear probe with a full cache disk"; }
[ "$(sha256sum "$cached" | cut -d' ' -f1)" = "$sum" ] || fail "cache file changed"
ls "$mnt/features" | grep -q "tmp" && fail "a temp cache file was left behind"
grep -q "feature cache not written" "$work/probe2.log" || fail "the run did not say the cache could not be written"

# 4. With space again, the run resumes from the intact checkpoint and finishes.
rm -f "$mnt/filler"
"${train[@]}" --epochs 3 --resume --out "$mnt/run" >"$work/resume.log" 2>&1 || { tail "$work/resume.log"; fail "resume after freeing space"; }
echo "full_disk: 1 passed, 0 failed"
