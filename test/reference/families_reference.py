#!/usr/bin/python3
"""Independent float64 references for DistilBERT, XLM-RoBERTa and ELECTRA sequence classification (Debian's PyTorch 1.13,
no transformers), written from each published architecture as bert_reference.py is for BERT (its LayerNorm, GELU,
safetensors writer are reused; every operation spelled out with torch tensors; dropout off):

  distilbert   word + absolute position embeddings (no token types), LayerNorm eps 1e-12; per block: q = q_lin(x)/sqrt(d),
               scores = q k^T with masked keys filled with the dtype's minimum, softmax, out_lin, sa_layer_norm(. + x),
               ffn lin2(gelu(lin1(.))), output_layer_norm(. + h); head relu(pre_classifier(h[:, 0])) -> classifier.
               The position table is sinusoidal (sinusoidal_pos_embds: row p, column j = sin/cos(p / 10000^(2 floor(j/2)/dim)))
               and gets no gradient.
  xlm-roberta  RoBERTa: positions cumsum(ids != pad) * (ids != pad) + pad, one token type, BERT's blocks with the additive
               mask (1 - mask) * float32.min; head tanh(dense(h[:, 0])) -> out_proj. config eps 1e-3.
  electra      BERT's embeddings at embedding_size 16, LayerNorm (eps 1e-3), embeddings_project to hidden 32, BERT's blocks;
               head out_proj(gelu(dense(h[:, 0]))).

Request (JSON on stdin): {"family": "distilbert"|"xlm-roberta"|"electra", "out": folder, "seed": int}. Writes config.json
(Hugging Face's keys for the family), model.safetensors and pytorch_model.bin (float32), and expected.json: the batch
(input_ids, attention_mask, token_type_ids, labels) and, in float64 from the float32 weights, logits, loss,
embeddings_output (what enters the first block), last_hidden_state and every trained parameter's gradient.
Reply: {"ok": true, "parameters": n}.
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import cross_entropy, gelu, layer_norm, linear, nested, write_safetensors  # noqa: E402

LABELS = {"id2label": {"0": "neg", "1": "neutral", "2": "pos"}, "label2id": {"neg": 0, "neutral": 1, "pos": 2}}

CONFIGS = {
    "distilbert": {
        "architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert", "vocab_size": 99,
        "dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 37, "activation": "gelu", "dropout": 0.1,
        "attention_dropout": 0.1, "seq_classif_dropout": 0.2, "qa_dropout": 0.1, "max_position_embeddings": 24,
        "sinusoidal_pos_embds": True, "initializer_range": 0.02, "pad_token_id": 0, "tie_weights_": True, **LABELS,
    },
    "xlm-roberta": {
        "architectures": ["XLMRobertaForSequenceClassification"], "model_type": "xlm-roberta", "vocab_size": 99,
        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 26,
        "type_vocab_size": 1, "initializer_range": 0.02, "layer_norm_eps": 1e-3, "pad_token_id": 1, "bos_token_id": 0,
        "eos_token_id": 2, **LABELS,
    },
    "electra": {
        "architectures": ["ElectraForSequenceClassification"], "model_type": "electra", "vocab_size": 99,
        "embedding_size": 16, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 24,
        "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-3, "pad_token_id": 0,
        "summary_type": "first", "summary_use_proj": True, "summary_activation": "gelu", **LABELS,
    },
}


def sinusoidal(positions, dim):
    table = torch.zeros(positions, dim, dtype=torch.float64)
    for p in range(positions):
        for j in range(dim):
            angle = p / math.pow(10000, 2 * (j // 2) / dim)
            table[p, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return table.float()


def random_parameters(family, cfg, generator):
    def normal(*shape, std=0.2, mean=0.0):
        return (torch.randn(*shape, generator=generator, dtype=torch.float64) * std + mean).float()

    labels = len(cfg["id2label"])
    p = {}
    if family == "distilbert":
        h, i, v = cfg["dim"], cfg["hidden_dim"], cfg["vocab_size"]
        p["distilbert.embeddings.word_embeddings.weight"] = normal(v, h, std=0.5)
        p["distilbert.embeddings.position_embeddings.weight"] = sinusoidal(cfg["max_position_embeddings"], h)
        p["distilbert.embeddings.LayerNorm.weight"] = normal(h, std=0.1, mean=1.0)
        p["distilbert.embeddings.LayerNorm.bias"] = normal(h, std=0.1)
        for layer in range(cfg["n_layers"]):
            pre = f"distilbert.transformer.layer.{layer}"
            for name, (rows, cols) in {"attention.q_lin": (h, h), "attention.k_lin": (h, h), "attention.v_lin": (h, h),
                                       "attention.out_lin": (h, h), "ffn.lin1": (i, h), "ffn.lin2": (h, i)}.items():
                p[f"{pre}.{name}.weight"] = normal(rows, cols, std=1.0 / math.sqrt(cols))
                p[f"{pre}.{name}.bias"] = normal(rows, std=0.1)
            for norm in ("sa_layer_norm", "output_layer_norm"):
                p[f"{pre}.{norm}.weight"] = normal(h, std=0.1, mean=1.0)
                p[f"{pre}.{norm}.bias"] = normal(h, std=0.1)
        p["pre_classifier.weight"] = normal(h, h, std=1.0 / math.sqrt(h))
        p["pre_classifier.bias"] = normal(h, std=0.1)
        p["classifier.weight"] = normal(labels, h, std=1.0 / math.sqrt(h))
        p["classifier.bias"] = normal(labels, std=0.1)
        return p
    base = "roberta" if family == "xlm-roberta" else "electra"
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    e = cfg.get("embedding_size", h)
    p[f"{base}.embeddings.word_embeddings.weight"] = normal(v, e, std=0.5)
    p[f"{base}.embeddings.position_embeddings.weight"] = normal(cfg["max_position_embeddings"], e, std=0.5)
    p[f"{base}.embeddings.token_type_embeddings.weight"] = normal(cfg["type_vocab_size"], e, std=0.5)
    p[f"{base}.embeddings.LayerNorm.weight"] = normal(e, std=0.1, mean=1.0)
    p[f"{base}.embeddings.LayerNorm.bias"] = normal(e, std=0.1)
    if e != h:
        p[f"{base}.embeddings_project.weight"] = normal(h, e, std=1.0 / math.sqrt(e))
        p[f"{base}.embeddings_project.bias"] = normal(h, std=0.1)
    for layer in range(cfg["num_hidden_layers"]):
        pre = f"{base}.encoder.layer.{layer}"
        for name, (rows, cols) in {
            "attention.self.query": (h, h), "attention.self.key": (h, h), "attention.self.value": (h, h),
            "attention.output.dense": (h, h), "intermediate.dense": (i, h), "output.dense": (h, i),
        }.items():
            p[f"{pre}.{name}.weight"] = normal(rows, cols, std=1.0 / math.sqrt(cols))
            p[f"{pre}.{name}.bias"] = normal(rows, std=0.1)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            p[f"{pre}.{norm}.weight"] = normal(h, std=0.1, mean=1.0)
            p[f"{pre}.{norm}.bias"] = normal(h, std=0.1)
    p["classifier.dense.weight"] = normal(h, h, std=1.0 / math.sqrt(h))
    p["classifier.dense.bias"] = normal(h, std=0.1)
    p["classifier.out_proj.weight"] = normal(labels, h, std=1.0 / math.sqrt(h))
    p["classifier.out_proj.bias"] = normal(labels, std=0.1)
    return p


def batch(family):
    """Four rows, right-padded: single texts and pairs (token types 1 on the second segment where the family has them)."""
    bos, eos, pad = (0, 2, 1) if family == "xlm-roberta" else (2, 3, 0)
    typed = family == "electra"
    rows = [
        ([bos, 10, 11, 12, eos, 20, 21, eos], [0, 0, 0, 0, 0, 1, 1, 1]),
        ([bos] + list(range(30, 40)) + [eos], [0] * 12),
        ([bos, 40, 41, eos, 50, 51, 52, 53, 54, 55, 56, eos], [0, 0, 0, 0] + [1] * 8),
        ([bos, 98, eos], [0, 0, 0]),
    ]
    length = max(len(r) for r, _ in rows)
    ids = [r + [pad] * (length - len(r)) for r, _ in rows]
    types = [(t if typed else [0] * len(t)) + [0] * (length - len(t)) for _, t in rows]
    mask = [[1] * len(r) + [0] * (length - len(r)) for r, _ in rows]
    return ids, mask, types, [2, 0, 1, 2]


def attention(x, p, names, heads, additive=None, key_mask=None, distil=False):
    b, t, h = x.shape
    d = h // heads

    def split(name):
        return linear(x, p, name).view(b, t, heads, d).transpose(1, 2)

    q, k, v = split(names[0]), split(names[1]), split(names[2])
    if distil:
        scores = (q / math.sqrt(d)) @ k.transpose(-1, -2)
        scores = scores.masked_fill((key_mask == 0)[:, None, None, :], torch.finfo(scores.dtype).min)
    else:
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive
    weights = torch.exp(scores - scores.max(-1, keepdim=True).values)
    weights = weights / weights.sum(-1, keepdim=True)
    return linear((weights @ v).transpose(1, 2).reshape(b, t, h), p, names[3])


def forward(family, p, cfg, ids, mask, types):
    b, t = ids.shape
    if family == "distilbert":
        x = p["distilbert.embeddings.word_embeddings.weight"][ids] + p["distilbert.embeddings.position_embeddings.weight"][torch.arange(t)][None]
        x = layer_norm(x, p["distilbert.embeddings.LayerNorm.weight"], p["distilbert.embeddings.LayerNorm.bias"], 1e-12)
        embeddings = x
        for layer in range(cfg["n_layers"]):
            pre = f"distilbert.transformer.layer.{layer}"
            names = [f"{pre}.attention.{n}" for n in ("q_lin", "k_lin", "v_lin", "out_lin")]
            sa = layer_norm(attention(x, p, names, cfg["n_heads"], key_mask=mask, distil=True) + x,
                            p[f"{pre}.sa_layer_norm.weight"], p[f"{pre}.sa_layer_norm.bias"], 1e-12)
            ffn = linear(gelu(linear(sa, p, f"{pre}.ffn.lin1")), p, f"{pre}.ffn.lin2")
            x = layer_norm(ffn + sa, p[f"{pre}.output_layer_norm.weight"], p[f"{pre}.output_layer_norm.bias"], 1e-12)
        logits = linear(torch.relu(linear(x[:, 0], p, "pre_classifier")), p, "classifier")
        return embeddings, x, logits
    base = "roberta" if family == "xlm-roberta" else "electra"
    eps = cfg["layer_norm_eps"]
    if family == "xlm-roberta":
        pad = cfg["pad_token_id"]
        not_pad = (ids != pad).long()
        positions = torch.cumsum(not_pad, 1) * not_pad + pad
    else:
        positions = torch.arange(t)[None].expand(b, t)
    x = (p[f"{base}.embeddings.word_embeddings.weight"][ids] + p[f"{base}.embeddings.position_embeddings.weight"][positions]
         + p[f"{base}.embeddings.token_type_embeddings.weight"][types])
    x = layer_norm(x, p[f"{base}.embeddings.LayerNorm.weight"], p[f"{base}.embeddings.LayerNorm.bias"], eps)
    if f"{base}.embeddings_project.weight" in p:
        x = linear(x, p, f"{base}.embeddings_project")
    embeddings = x
    additive = (1.0 - mask.double())[:, None, None, :] * torch.finfo(torch.float32).min
    for layer in range(cfg["num_hidden_layers"]):
        pre = f"{base}.encoder.layer.{layer}"
        names = [f"{pre}.attention.self.{n}" for n in ("query", "key", "value")] + [f"{pre}.attention.output.dense"]
        attended = layer_norm(attention(x, p, names, cfg["num_attention_heads"], additive=additive) + x,
                              p[f"{pre}.attention.output.LayerNorm.weight"], p[f"{pre}.attention.output.LayerNorm.bias"], eps)
        inner = gelu(linear(attended, p, f"{pre}.intermediate.dense"))
        x = layer_norm(linear(inner, p, f"{pre}.output.dense") + attended,
                       p[f"{pre}.output.LayerNorm.weight"], p[f"{pre}.output.LayerNorm.bias"], eps)
    dense = linear(x[:, 0], p, "classifier.dense")
    logits = linear(torch.tanh(dense) if family == "xlm-roberta" else gelu(dense), p, "classifier.out_proj")
    return embeddings, x, logits


def main():
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    family, out = request["family"], request["out"]
    cfg = CONFIGS[family]
    generator = torch.Generator().manual_seed(int(request.get("seed", 0)))
    weights = random_parameters(family, cfg, generator)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    torch.save(weights, os.path.join(out, "pytorch_model.bin"))
    write_safetensors(os.path.join(out, "model.safetensors"), weights)

    frozen = {"distilbert.embeddings.position_embeddings.weight"} if family == "distilbert" else set()
    params = {k: v.double().requires_grad_(k not in frozen) for k, v in weights.items()}
    ids, mask, types, labels = batch(family)
    ids_t, mask_t, types_t, labels_t = (torch.tensor(x) for x in (ids, mask, types, labels))
    embeddings, hidden, logits = forward(family, params, cfg, ids_t, mask_t, types_t)
    loss = cross_entropy(logits, labels_t)
    loss.backward()
    expected = {
        "input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels,
        "logits": nested(logits), "loss": loss.item(), "embeddings_output": nested(embeddings),
        "last_hidden_state": nested(hidden),
        "grads": {k: nested(v.grad) for k, v in params.items() if v.requires_grad},
        "frozen": sorted(frozen),
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    json.dump({"ok": True, "parameters": len(params)}, sys.stdout)


if __name__ == "__main__":
    main()
