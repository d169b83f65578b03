#!/usr/bin/env bash
# Re-render the sample photos in samples/ with the project's own renderer (gesture_audit/synth/).
# Each photo and its ground truth (samples/labels.jsonl) is reproducible from the seed below.
set -euo pipefail
cd "$(dirname "$0")"
rm -f ./*.jpg labels.jsonl
synth() { gesture-audit synth --n 1 --out . --size 640x480 "$@" >/dev/null; }
for sign in one v l telepon three three_thumb ok_three metal four five thumb_up fist wave; do
    synth --gesture "$sign" --seed 7
done
gesture-audit synth --group 5 --gesture v --n 1 --out . --seed 7 >/dev/null
gesture-audit synth --gesture none --n 1 --out . --seed 7 >/dev/null
ls ./*.jpg | wc -l
