"""Writes tiny-bert.onnx: a 2-layer BERT encoder (hidden 16, 4 heads, vocabulary 40) with Hugging Face BertModel's
module names, exported by PyTorch's own ONNX exporter the way pretrained BERT packages are (opset 11: anonymous
transposed MatMul weights named by the Add of their bias, decomposed LayerNorm, erf GELU, heads reshaped through a
Concat). It is the seed of the pretrained converter's fuzz target and mutation tests (ReaderSeeds).
Run with Debian's PyTorch: /usr/bin/python3 make-tiny-bert-onnx.py"""
import math

import torch
import torch.nn as nn

HIDDEN, LAYERS, HEADS, INTERMEDIATE, VOCAB, POSITIONS, TYPES = 16, 2, 4, 32, 40, 32, 2


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN)

    def heads(self, x):
        return x.view(x.size()[:-1] + (HEADS, HIDDEN // HEADS)).permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HIDDEN // HEADS) + additive_mask
        context = torch.matmul(scores.softmax(-1), v).permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (HIDDEN,))


class DenseAndNorm(nn.Module):
    def __init__(self, inputs):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(inputs, HIDDEN), nn.LayerNorm(HIDDEN, eps=1e-12)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self, self.output = SelfAttention(), DenseAndNorm(HIDDEN)


class Intermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(HIDDEN, INTERMEDIATE)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention, self.intermediate, self.output = Attention(), Intermediate(), DenseAndNorm(INTERMEDIATE)

    def forward(self, x, additive_mask):
        out = self.attention.output
        a = out.LayerNorm(out.dense(self.attention.self(x, additive_mask)) + x)
        return self.output.LayerNorm(self.output.dense(nn.functional.gelu(self.intermediate.dense(a))) + a)


class Embeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, HIDDEN)
        self.position_embeddings = nn.Embedding(POSITIONS, HIDDEN)
        self.token_type_embeddings = nn.Embedding(TYPES, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.register_buffer("position_ids", torch.arange(POSITIONS).expand((1, -1)))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([Layer() for _ in range(LAYERS)])


class Pooler(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(HIDDEN, HIDDEN)


class BertModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings, self.encoder, self.pooler = Embeddings(), Encoder(), Pooler()

    def forward(self, input_ids, attention_mask, token_type_ids):
        e = self.embeddings
        x = e.word_embeddings(input_ids) + e.position_embeddings(e.position_ids[:, :input_ids.size(1)]) + e.token_type_embeddings(token_type_ids)
        x = e.LayerNorm(x)
        additive_mask = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.encoder.layer:
            x = layer(x, additive_mask)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


torch.manual_seed(0)
model = BertModel().eval()
# Every tensor distinct, as trained weights are: the exporter would fold equal initializers (fresh LayerNorms) into one.
with torch.no_grad():
    for name, parameter in model.named_parameters():
        parameter.normal_(1.0 if name.endswith("LayerNorm.weight") else 0.0, 0.02)
names = ["input_ids", "attention_mask", "token_type_ids"]
ids = torch.ones(1, 8, dtype=torch.long)
torch.onnx.export(model, (ids, ids, ids * 0), "tiny-bert.onnx", input_names=names,
                  output_names=["last_hidden_state", "pooler_output"], opset_version=11,
                  dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names})
