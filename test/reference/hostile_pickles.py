#!/usr/bin/python3
"""Hostile torch.save files, made by PyTorch itself, and PyTorch's own verdict on files (Debian's PyTorch 1.13).

Request (JSON on stdin):
  {"action": "write", "out": folder, "state_dict": path of a torch.save state dict, "marker": path}
      Writes into `out`, from that state dict: good.bin and good-protocol4.bin (the state dict again, with pickle
      protocols 2 and 4), and hostile copies that hold one more entry whose __reduce__ names a function, called with
      arguments of the file's choosing when the file is unpickled by Python's pickle: system.bin (os.system, "touch
      marker"), eval.bin (builtins.eval), popen.bin (subprocess.Popen), getpid.bin (os.getpid, no arguments),
      system-protocol4.bin (os.system through STACK_GLOBAL), and system-legacy.bin (os.system, torch.save's legacy
      format). Writing them runs none of it: torch.save only asks each object for its __reduce__.
      Reply: {"files": {name: the global as the pickle names it, or null}} (protocol 2 names some by their Python 2
      names, as pickle's fix_imports does: builtins.eval as __builtin__.eval, subprocess.Popen as commands.Popen).
  {"action": "check", "files": [paths], "marker": path, "weights_only": true}
      Loads each file with torch.load(weights_only=True), PyTorch's loader for files it does not trust (with
      "weights_only": false, with the loader that runs what the pickle calls: the proof that a file is hostile).
      Reply: {"results": {path: "loaded" or the first line of its refusal}, "marker_exists": bool}.
  {"action": "storages", "out": path}
      Writes a state dict (not hostile) of a 2x3 tensor of ones of each storage type torch.save writes (float64 …
      complex64), an empty tensor, a scalar, and two keys tied to one storage, as storage bounds must let it through.
      Reply: {"tensors": {key: [dtype, shape]}}.
"""
import _compat_pickle
import json
import os
import subprocess
import sys

import torch


class Calls:
    """An entry whose unpickling calls `function(*arguments)`."""

    def __init__(self, function, *arguments):
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return (self.function, self.arguments)


def pickled_name(function, protocol):
    """module.name as pickle writes the function's GLOBAL (Python 2 names below protocol 3)."""
    module, name = function.__module__, function.__name__
    if protocol < 3:
        if (module, name) in _compat_pickle.REVERSE_NAME_MAPPING:
            module, name = _compat_pickle.REVERSE_NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.REVERSE_IMPORT_MAPPING:
            module = _compat_pickle.REVERSE_IMPORT_MAPPING[module]
    return f"{module}.{name}"


def write(request):
    out, marker = request["out"], request["marker"]
    os.makedirs(out, exist_ok=True)
    state = torch.load(request["state_dict"])
    command = f"touch {marker}"
    hostile = {
        "system.bin": (Calls(os.system, command), {}),
        "eval.bin": (Calls(eval, f"__import__('os').system({command!r})"), {}),
        "popen.bin": (Calls(subprocess.Popen, ["touch", marker]), {}),
        "getpid.bin": (Calls(os.getpid), {}),
        "system-protocol4.bin": (Calls(os.system, command), {"pickle_protocol": 4}),
        "system-legacy.bin": (Calls(os.system, command), {"_use_new_zipfile_serialization": False}),
    }
    files = {}
    torch.save(state, os.path.join(out, "good.bin"))
    torch.save(state, os.path.join(out, "good-protocol4.bin"), pickle_protocol=4)
    files["good.bin"] = files["good-protocol4.bin"] = None
    for name, (entry, options) in hostile.items():
        with_entry = dict(state)
        with_entry["hostile"] = entry
        torch.save(with_entry, os.path.join(out, name), **options)
        files[name] = pickled_name(entry.function, options.get("pickle_protocol", 2))
    return {"files": files}


def check(request):
    results = {}
    for path in request["files"]:
        try:
            torch.load(path, weights_only=request.get("weights_only", True))
            results[path] = "loaded"
        except Exception as e:  # the refusal, whatever its type
            results[path] = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return {"results": results, "marker_exists": os.path.exists(request["marker"])}


def storages(request):
    dtypes = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
              torch.int8, torch.uint8, torch.bool, torch.complex128, torch.complex64]
    state = {str(dtype).removeprefix("torch."): torch.ones(2, 3, dtype=dtype) for dtype in dtypes}
    state["empty"], state["scalar"] = torch.zeros(0), torch.tensor(1.0)
    state["tied.a"] = state["tied.b"] = torch.ones(4, 2)
    torch.save(state, request["out"])
    return {"tensors": {key: [str(t.dtype).removeprefix("torch."), list(t.shape)] for key, t in state.items()}}


if __name__ == "__main__":
    req = json.load(sys.stdin)
    reply = {"write": write, "check": check, "storages": storages}[req["action"]](req)
    json.dump(reply, sys.stdout)
