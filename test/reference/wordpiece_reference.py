#!/usr/bin/python3
"""Independent reference for BERT's uncased WordPiece tokenization (pure Python 3, no third-party packages).

Written from the published semantics of Hugging Face's BertTokenizer, not from its code:
  * special tokens ([CLS] [SEP] [PAD] [MASK] [UNK]) written literally in the text are split out first,
    case-sensitively, and map to their own ids;
  * clean: drop U+0000, U+FFFD and control characters (Unicode category C*, except tab, newline and carriage
    return); tab, newline, carriage return and category Zs become a space;
  * every CJK ideograph (the CJK Unified Ideographs blocks and extensions, compatibility ideographs) becomes a
    word of its own;
  * split on whitespace; per word: lowercase (Python's str.lower), NFD, drop non-spacing marks (Mn), then split
    before and after every punctuation character (ASCII 33-47, 58-64, 91-96, 123-126, or category P*);
  * WordPiece: a word longer than 100 characters is [UNK]; otherwise greedy longest-match-first from the left,
    pieces after the first prefixed with "##"; a word with a piece that matches nothing is one [UNK];
  * [CLS] A [SEP] with types 0, or [CLS] A [SEP] B [SEP] with types 0 for A's part and 1 for B [SEP];
  * truncation to max_length ids (specials included), for pairs "longest first": one token at a time from the
    end of the longer side, from the second text when both are as long.

Request (JSON on stdin): {"vocab": path, "do_lower_case": true, "cases": [{"text": str, "pair": str|null,
"max_length": int|null}]}. Reply (stdout): {"results": [{"ids": [...], "type_ids": [...], "tokens": [...]}]}.
"""
import json
import sys
import unicodedata

SPECIALS = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"]
MAX_WORD_CHARS = 100
CJK_RANGES = [
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
]


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(ch):
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def clean(text):
    out = []
    for ch in text:
        if ord(ch) in (0, 0xFFFD) or is_control(ch):
            continue
        out.append(" " if is_whitespace(ch) else ch)
    return "".join(out)


def basic_tokenize(text, lower):
    text = clean(text)
    text = "".join(f" {ch} " if is_cjk(ch) else ch for ch in text)
    words = []
    for word in text.split():
        if lower:
            word = word.lower()
            word = "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")
        current = ""
        for ch in word:
            if is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


def wordpiece(word, vocab):
    if len(word) > MAX_WORD_CHARS:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def split_specials(text):
    """Yields (chunk, is_special): the leftmost special-token literal at each point is split out."""
    chunk, i = "", 0
    while i < len(text):
        special = next((s for s in SPECIALS if text.startswith(s, i)), None)
        if special:
            if chunk:
                yield chunk, False
            yield special, True
            chunk, i = "", i + len(special)
        else:
            chunk += text[i]
            i += 1
    if chunk:
        yield chunk, False


def tokenize(text, vocab, lower):
    tokens = []
    for chunk, special in split_specials(text):
        if special:
            tokens.append(chunk)
        else:
            for word in basic_tokenize(chunk, lower):
                tokens.extend(wordpiece(word, vocab))
    return tokens


def encode(case, vocab, lower):
    a = tokenize(case["text"], vocab, lower)
    b = tokenize(case["pair"], vocab, lower) if case.get("pair") is not None else None
    max_length = case.get("max_length")
    if max_length is not None:
        budget = max_length - (3 if b is not None else 2)
        if b is None:
            a = a[:max(budget, 0)]
        else:
            while len(a) + len(b) > budget:
                if len(a) > len(b):
                    a = a[:-1]
                else:
                    b = b[:-1]
    tokens = ["[CLS]"] + a + ["[SEP]"]
    types = [0] * len(tokens)
    if b is not None:
        tokens += b + ["[SEP]"]
        types += [1] * (len(b) + 1)
    return {"ids": [vocab[t] for t in tokens], "type_ids": types, "tokens": tokens}


def main():
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    with open(request["vocab"], encoding="utf-8") as f:
        lines = [line.rstrip("\r\n") for line in f.read().split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    vocab = {}
    for i, token in enumerate(lines):
        vocab[token] = i  # a repeated line: the last one wins, as Hugging Face reads vocab.txt
    lower = request.get("do_lower_case", True)
    json.dump({"results": [encode(c, vocab, lower) for c in request["cases"]]}, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
