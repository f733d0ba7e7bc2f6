#!/usr/bin/python3
"""Independent float64 reference for BERT sequence classification (Debian's PyTorch 1.13, no transformers).

Written from the published architecture, not from Hugging Face's code: embeddings (word + absolute position
0..T-1 + token type) -> LayerNorm(eps from config) -> N x [self-attention with the additive mask
(1 - mask) * float32.min, output dense + residual + LayerNorm, FFN with exact (erf) GELU + residual + LayerNorm]
-> pooler tanh(dense(h[:, 0])) -> classifier. Every operation is spelled out (LayerNorm, GELU, softmax attention)
with torch tensors only; dropout is off.

Request (JSON on stdin): {"out": folder, "seed": int}. Writes into `out` a small random BERT as a Hugging Face
folder: config.json (model_type "bert"), pytorch_model.bin (torch.save of the state dict) and model.safetensors
(written byte by byte here), both float32; expected.json with the batch (input_ids, attention_mask,
token_type_ids, labels) and, computed in float64 from the float32 weights: logits, loss, embeddings_output,
last_hidden_state, pooled, and the gradient of the loss for every parameter. `out`/bare holds the same encoder as a
bare BertModel (no "bert." prefix, no classifier) with LayerNorm parameters under their early names gamma/beta.
Reply (stdout): {"ok": true, "parameters": n}.
"""
import json
import math
import os
import struct
import sys

import torch

CONFIG = {
    "architectures": ["BertForSequenceClassification"],
    "model_type": "bert",
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 24,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    # Far from BERT's 1e-12 on purpose: a model that ignored config.json's eps would be off by ~1e-3.
    "layer_norm_eps": 1e-3,
    "pad_token_id": 0,
    "id2label": {"0": "neg", "1": "neutral", "2": "pos"},
    "label2id": {"neg": 0, "neutral": 1, "pos": 2},
}
PAD, CLS, SEP = 0, 2, 3


def random_parameters(cfg, generator):
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    labels = len(cfg["id2label"])

    def normal(*shape, std=0.2, mean=0.0):
        return (torch.randn(*shape, generator=generator, dtype=torch.float64) * std + mean).float()

    p = {
        "bert.embeddings.word_embeddings.weight": normal(v, h, std=0.5),
        "bert.embeddings.position_embeddings.weight": normal(cfg["max_position_embeddings"], h, std=0.5),
        "bert.embeddings.token_type_embeddings.weight": normal(cfg["type_vocab_size"], h, std=0.5),
        "bert.embeddings.LayerNorm.weight": normal(h, std=0.1, mean=1.0),
        "bert.embeddings.LayerNorm.bias": normal(h, std=0.1),
    }
    for layer in range(cfg["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{layer}"
        for name, (rows, cols) in {
            "attention.self.query": (h, h), "attention.self.key": (h, h), "attention.self.value": (h, h),
            "attention.output.dense": (h, h), "intermediate.dense": (i, h), "output.dense": (h, i),
        }.items():
            p[f"{pre}.{name}.weight"] = normal(rows, cols, std=1.0 / math.sqrt(cols))
            p[f"{pre}.{name}.bias"] = normal(rows, std=0.1)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            p[f"{pre}.{norm}.weight"] = normal(h, std=0.1, mean=1.0)
            p[f"{pre}.{norm}.bias"] = normal(h, std=0.1)
    p["bert.pooler.dense.weight"] = normal(h, h, std=1.0 / math.sqrt(h))
    p["bert.pooler.dense.bias"] = normal(h, std=0.1)
    p["classifier.weight"] = normal(labels, h, std=1.0 / math.sqrt(h))
    p["classifier.bias"] = normal(labels, std=0.1)
    return p


def batch(cfg):
    """Four rows: single texts and pairs, one filling the whole length, one padded heavily."""
    rows = [
        ([CLS, 10, 11, 12, SEP, 20, 21, SEP], [0, 0, 0, 0, 0, 1, 1, 1]),
        ([CLS, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, SEP], [0] * 12),
        ([CLS, 40, 41, SEP, 50, 51, 52, 53, 54, 55, 56, SEP], [0, 0, 0, 0] + [1] * 8),
        ([CLS, 98, SEP], [0, 0, 0]),
    ]
    length = max(len(r) for r, _ in rows)
    ids = [r + [PAD] * (length - len(r)) for r, _ in rows]
    types = [t + [0] * (length - len(t)) for _, t in rows]
    mask = [[1] * len(r) + [0] * (length - len(r)) for r, _ in rows]
    return ids, mask, types, [2, 0, 1, 2]


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def linear(x, p, name):
    return x @ p[name + ".weight"].t() + p[name + ".bias"]


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def forward(p, cfg, ids, mask, types):
    eps, heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    b, t = ids.shape
    h = cfg["hidden_size"]
    d = h // heads
    positions = torch.arange(t).unsqueeze(0).expand(b, t)
    x = (torch.nn.functional.embedding(ids, p["bert.embeddings.word_embeddings.weight"], padding_idx=cfg["pad_token_id"])
         + p["bert.embeddings.position_embeddings.weight"][positions]
         + p["bert.embeddings.token_type_embeddings.weight"][types])
    x = layer_norm(x, p["bert.embeddings.LayerNorm.weight"], p["bert.embeddings.LayerNorm.bias"], eps)
    embeddings = x
    additive = (1.0 - mask.double())[:, None, None, :] * torch.finfo(torch.float32).min
    for layer in range(cfg["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{layer}"

        def split(name):
            return linear(x, p, f"{pre}.attention.self.{name}").view(b, t, heads, d).transpose(1, 2)

        q, k, v = split("query"), split("key"), split("value")
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive
        weights = torch.exp(scores - scores.max(-1, keepdim=True).values)
        weights = weights / weights.sum(-1, keepdim=True)
        context = (weights @ v).transpose(1, 2).reshape(b, t, h)
        attended = layer_norm(linear(context, p, f"{pre}.attention.output.dense") + x,
                              p[f"{pre}.attention.output.LayerNorm.weight"], p[f"{pre}.attention.output.LayerNorm.bias"], eps)
        inner = gelu(linear(attended, p, f"{pre}.intermediate.dense"))
        x = layer_norm(linear(inner, p, f"{pre}.output.dense") + attended,
                       p[f"{pre}.output.LayerNorm.weight"], p[f"{pre}.output.LayerNorm.bias"], eps)
    pooled = torch.tanh(linear(x[:, 0], p, "bert.pooler.dense"))
    logits = linear(pooled, p, "classifier")
    return embeddings, x, pooled, logits


def cross_entropy(logits, labels):
    log_probs = logits - torch.logsumexp(logits, -1, keepdim=True)
    return -log_probs[torch.arange(len(labels)), labels].mean()


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def nested(t):
    return t.detach().tolist()


def main():
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = request["out"]
    generator = torch.Generator().manual_seed(int(request.get("seed", 0)))
    cfg = CONFIG
    weights = random_parameters(cfg, generator)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    torch.save(weights, os.path.join(out, "pytorch_model.bin"))
    write_safetensors(os.path.join(out, "model.safetensors"), weights)

    bare = os.path.join(out, "bare")
    os.makedirs(bare, exist_ok=True)
    bare_cfg = {k: v for k, v in cfg.items() if k not in ("id2label", "label2id")}
    bare_cfg["architectures"] = ["BertModel"]
    with open(os.path.join(bare, "config.json"), "w") as f:
        json.dump(bare_cfg, f, indent=2)

    def early_name(key):
        key = key[len("bert."):]
        return key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")

    torch.save({early_name(k): v for k, v in weights.items() if k.startswith("bert.")}, os.path.join(bare, "pytorch_model.bin"))

    params = {k: v.double().requires_grad_(True) for k, v in weights.items()}
    ids, mask, types, labels = batch(cfg)
    ids_t, mask_t, types_t, labels_t = (torch.tensor(x) for x in (ids, mask, types, labels))
    embeddings, hidden, pooled, logits = forward(params, cfg, ids_t, mask_t, types_t)
    loss = cross_entropy(logits, labels_t)
    loss.backward()
    expected = {
        "input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels,
        "logits": nested(logits), "loss": loss.item(), "embeddings_output": nested(embeddings),
        "last_hidden_state": nested(hidden), "pooled": nested(pooled),
        "grads": {k: nested(v.grad) for k, v in params.items()},
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    json.dump({"ok": True, "parameters": len(params)}, sys.stdout)


if __name__ == "__main__":
    main()
