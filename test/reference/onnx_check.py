#!/usr/bin/env python3
"""Runs onnx.checker.check_model(full_check=True) (Debian's python3-onnx) on the model path in the request.

Request: {"model": path}. Reply: {"ok": true, "onnx": version} or {"ok": false, "error": text}.
"""
import json
import sys

import onnx


def main():
    request = json.load(sys.stdin)
    try:
        model = onnx.load(request["model"])
        onnx.checker.check_model(model, full_check=True)
        json.dump({"ok": True, "onnx": onnx.__version__, "opset": model.opset_import[0].version}, sys.stdout)
    except Exception as e:  # noqa: BLE001 - the test reports whatever the checker says
        json.dump({"ok": False, "error": str(e)}, sys.stdout)


if __name__ == "__main__":
    main()
