"""Zeroes the word-embedding rows of a BERT-family safetensors file that the given texts never use, so the file
compresses to what a device call can carry (the GPU run of `bench noisy-labels`). The model computes exactly the same
on those texts: a row that no token id of theirs selects is never read.

usage: zero_unused_rows.py MODEL.safetensors VOCAB.txt OUT.safetensors TEXTS.tsv...   (first column of each file, header skipped)
Token ids come from BERT's uncased tokenization (basic tokenizer + WordPiece), as BertTokenizer does it.
"""
import json
import struct
import sys
import unicodedata

import numpy as np

model, vocab_path, target, *text_files = sys.argv[1:]
vocab = {line.rstrip("\n"): i for i, line in enumerate(open(vocab_path, encoding="utf-8"))}


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return any(a <= cp <= b for a, b in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                          (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def words(text):
    cleaned = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r"):
            continue
        cleaned.append(" " if ch.isspace() else (f" {ch} " if is_cjk(cp) else ch))
    for token in "".join(cleaned).split():
        token = "".join(c for c in unicodedata.normalize("NFD", token.lower()) if unicodedata.category(c) != "Mn")
        current = ""
        for ch in token:
            if is_punctuation(ch):
                if current:
                    yield current
                yield ch
                current = ""
            else:
                current += ch
        if current:
            yield current


def wordpiece(word):
    if len(word) > 100:
        return [vocab["[UNK]"]]
    ids, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = ("##" if start > 0 else "") + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [vocab["[UNK]"]]
        ids.append(found)
        start = end
    return ids


used = {i for token, i in vocab.items() if token.startswith("[") and token.endswith("]")}  # [PAD], [CLS], [SEP], [UNK], [MASK], [unusedN]
for path in text_files:
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            for word in words(line.split("\t")[0]):
                used.update(wordpiece(word))

with open(model, "rb") as f:
    data = bytearray(f.read())
(header_length,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + header_length])
name = next(n for n in header if n.endswith("embeddings.word_embeddings.weight"))
entry = header[name]
rows, columns = entry["shape"]
dtype = {"F16": "<f2", "F32": "<f4"}[entry["dtype"]]
begin = 8 + header_length + entry["data_offsets"][0]
table = np.frombuffer(data, dtype=dtype, count=rows * columns, offset=begin).reshape(rows, columns).copy()
keep = np.zeros(rows, dtype=bool)
keep[sorted(used)] = True
table[~keep] = 0
data[begin:begin + table.nbytes] = table.tobytes()
with open(target, "wb") as f:
    f.write(data)
print(f"{name}: kept {keep.sum()} of {rows} rows (the tokens of {len(text_files)} file(s)), the rest zeroed")
