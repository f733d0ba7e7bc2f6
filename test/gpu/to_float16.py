"""Rewrites a safetensors file with every F32 tensor as F16 (the GPU run carries MiniLM at half the size)."""
import json
import struct
import sys

import numpy as np

source, target = sys.argv[1], sys.argv[2]
with open(source, "rb") as f:
    data = f.read()
(header_length,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + header_length])
body = data[8 + header_length:]
out_header, chunks, offset = {}, [], 0
for name, entry in header.items():
    if name == "__metadata__":
        out_header[name] = entry
        continue
    begin, end = entry["data_offsets"]
    raw = body[begin:end]
    if entry["dtype"] == "F32":
        raw = np.frombuffer(raw, dtype="<f4").astype("<f2").tobytes()
        entry = dict(entry, dtype="F16")
    out_header[name] = dict(entry, data_offsets=[offset, offset + len(raw)])
    chunks.append(raw)
    offset += len(raw)
encoded = json.dumps(out_header, separators=(",", ":")).encode()
encoded += b" " * (-len(encoded) % 8)
with open(target, "wb") as f:
    f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))
