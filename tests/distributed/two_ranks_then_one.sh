#!/bin/sh
# two_ranks_then_one.sh FASHION_MLP MPIRUN [MPIRUN FLAGS...]: fashion_mlp trains epoch 1 of 2 on
# two ranks (per-rank batch 32), then resumes from that checkpoint on one process (batch 64, the
# same global batch). Rank 0 alone prints and writes; the resumed run finishes the second epoch.
program=$1
shift
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then echo "skipped: no Fashion-MNIST in $data"; exit 77; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="--epochs 2 --limit 2048 --threads 1 --quiet --out $out"

first=$(timeout 120 "$@" -np 2 "$program" --distributed --stop-after 1 --batch-size 32 $flags 2>&1)
status=$?
printf '%s\n' "$first"
[ "$status" -eq 0 ] || { echo "FAIL: the two-rank run exited $status"; exit 1; }
printed=$(printf '%s\n' "$first" | grep -c "^fashion_mlp: .* parameters")
[ "$printed" -eq 1 ] || { echo "FAIL: $printed ranks printed the header, not rank 0 alone"; exit 1; }
printf '%s\n' "$first" | grep -q "^epoch 1: train loss" || { echo "FAIL: no epoch 1 line"; exit 1; }

second=$(timeout 120 "$program" --resume "$out/model.tg" --batch-size 64 $flags 2>&1)
status=$?
printf '%s\n' "$second"
[ "$status" -eq 0 ] || { echo "FAIL: the resumed run exited $status"; exit 1; }
printf '%s\n' "$second" | grep -q "^resumed from $out/model.tg after epoch 1" ||
  { echo "FAIL: did not resume after epoch 1"; exit 1; }
printf '%s\n' "$second" | grep -q "^test accuracy .* after 2 epochs" ||
  { echo "FAIL: did not finish epoch 2"; exit 1; }
echo "PASS"
