#!/usr/bin/env bash
# Rebuild every file in gesture_audit/models/ from the package index, in a throwaway venv (~1.7 GB, deleted after).
# Usage: bash models/reproduce.sh            then: git diff --stat gesture_audit/models/  (sha256s are in manifest.json)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2
"$work/venv/bin/pip" download -q --no-deps mediapipe==0.10.21 -d "$work/wheels"
"$work/venv/bin/python" "$here/convert.py" "$work"/wheels/mediapipe-0.10.21-*.whl
