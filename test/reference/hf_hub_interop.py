#!/usr/bin/python3
"""Python's own Hugging Face Hub client (huggingface_hub, imported from PYTHONPATH) on the cache Microsoft.ML.Lorenza uses.

The HF_* variables (HF_ENDPOINT, HF_HUB_CACHE, HF_HUB_OFFLINE, HF_TOKEN) come from the environment, as for any user of
huggingface_hub; they must be set before it is imported, which is why this runs in a process of its own.

Request (JSON on stdin):
  {"action": "download", "repo_id": str, "revision": str, "files": [str], "absent": [str]}
      hf_hub_download of each file (from HF_ENDPOINT into HF_HUB_CACHE), and of each absent one (which must fail
      with the hub's EntryNotFound, recorded by huggingface_hub in .no_exist)
  {"action": "read", "repo_id": str, "revision": str, "files": [str], "absent": [str]}
      hf_hub_download(..., local_files_only=True) of each file, try_to_load_from_cache of each absent one (which
      must answer "known to be absent", from .no_exist), and scan_cache_dir of the whole cache
  {"action": "hold_lock", "lock": path, "seconds": float}
      takes the lock huggingface_hub takes on a blob (its WeakFileLock), prints "locked" and holds it that long
Reply (stdout): {"version": str, "paths": {file: path}, "sha256": {file: hex}, "absent": {file: bool},
                 "scan": [{"repo_id", "size_on_disk", "revisions": [{"commit_hash", "refs", "files"}]}], "warnings": [str]}
"""
import hashlib
import json
import sys
import time

request = json.load(sys.stdin)
import huggingface_hub  # noqa: E402  (after reading the request: the variables are read at import)
from huggingface_hub import hf_hub_download, scan_cache_dir, try_to_load_from_cache  # noqa: E402
from huggingface_hub.file_download import _CACHED_NO_EXIST  # noqa: E402

reply = {"version": huggingface_hub.__version__}
action = request["action"]

if action == "hold_lock":
    from huggingface_hub.utils import WeakFileLock

    with WeakFileLock(request["lock"]):
        print("locked", flush=True)
        time.sleep(request["seconds"])
    print(json.dumps(reply), flush=True)
    sys.exit(0)

local = action == "read"
paths, digests = {}, {}
for name in request["files"]:
    path = hf_hub_download(request["repo_id"], name, revision=request["revision"], local_files_only=local)
    paths[name] = path
    with open(path, "rb") as f:
        digests[name] = hashlib.sha256(f.read()).hexdigest()
reply["paths"], reply["sha256"] = paths, digests

if not local:
    absent = {}
    for name in request.get("absent", []):
        try:
            hf_hub_download(request["repo_id"], name, revision=request["revision"])
            absent[name] = False
        except Exception as e:  # EntryNotFoundError (its module and name moved between versions)
            absent[name] = "EntryNotFound" in type(e).__name__
    reply["absent"] = absent
else:
    reply["absent"] = {
        name: try_to_load_from_cache(request["repo_id"], name, revision=request["revision"]) is _CACHED_NO_EXIST
        for name in request.get("absent", [])
    }
    info = scan_cache_dir()
    reply["scan"] = [
        {
            "repo_id": repo.repo_id,
            "size_on_disk": repo.size_on_disk,
            "revisions": [
                {"commit_hash": r.commit_hash, "refs": sorted(r.refs), "files": sorted(f.file_name for f in r.files)}
                for r in repo.revisions
            ],
        }
        for repo in info.repos
    ]
    reply["warnings"] = [str(w) for w in info.warnings]

print(json.dumps(reply))
