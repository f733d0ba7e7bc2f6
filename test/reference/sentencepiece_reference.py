#!/usr/bin/python3
"""SentencePiece Unigram reference for XLM-RoBERTa's tokenizer (Debian's python3-sentencepiece, no transformers).

Actions (JSON request on stdin, JSON reply on stdout):
  {"action": "train", "out": folder}
      trains the tiny Unigram model the fixtures use (multilingual_texts.corpus(), vocabulary 400, nmt_nfkc, the
      default <unk>=0 <s>=1 </s>=2, one thread: deterministic) and writes folder/sentencepiece.bpe.model.
  {"action": "encode", "model": path, "texts": [..] | null, "pairs": [..] | null}
      encodes each text (multilingual_texts.check_texts() when "texts" is null) as XLM-RoBERTa's slow tokenizer does,
      written from its published semantics: the special tokens <s> <pad> </s> <unk> <mask> written in the text are
      split out first (<mask> also takes the whitespace before it: lstrip), every other chunk goes through
      SentencePiece (encode, out_type=str), and each piece maps to Hugging Face's id: <s>=0, <pad>=1, </s>=2,
      <unk>=3, any other piece its SentencePiece id + 1 (SentencePiece's unknown, id 0, becomes 3), <mask> = pieces + 1.
      A text becomes <s> A </s>, a pair <s> A </s></s> B </s>. Replies {"results": [{"script", "text", "ids",
      "pieces", "spm_ids"}], "vocab_size": n}.
  {"action": "tokenizer_json", "model": path, "out": path}
      writes the fast-tokenizer file Hugging Face's converter makes for XLM-RoBERTa (as on the Hub: a Precompiled
      normalizer with the model's charsmap, then spaces collapsed; Metaspace; Unigram with <s> <pad> </s> <unk>
      first, the model's pieces from id 3 on, <mask> last; TemplateProcessing; the five special added tokens).
"""
import base64
import json
import os
import sys

try:
    import sentencepiece as spm
except ImportError:  # the tests report Inconclusive
    spm = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import multilingual_texts  # noqa: E402

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
FAIRSEQ = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}


def train(out):
    os.makedirs(out, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(multilingual_texts.corpus()),
        model_prefix=os.path.join(out, "sentencepiece.bpe"),
        model_type="unigram",
        vocab_size=400,
        character_coverage=0.9995,
        normalization_rule_name="nmt_nfkc",
        num_threads=1,
        seed_sentencepiece_size=100000,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    os.remove(os.path.join(out, "sentencepiece.bpe.vocab"))
    return {"ok": True}


def split_specials(text):
    """Hugging Face's added-token split: longest special literal first at each position; <mask> strips left."""
    chunks, pending, i = [], "", 0
    while i < len(text):
        match = next((s for s in sorted(SPECIALS, key=len, reverse=True) if text.startswith(s, i)), None)
        if match is None:
            pending += text[i]
            i += 1
            continue
        if match == "<mask>":
            pending = pending.rstrip()
        if pending:
            chunks.append((pending, False))
        chunks.append((match, True))
        pending = ""
        i += len(match)
    if pending:
        chunks.append((pending, False))
    return chunks


def encode_body(sp, text):
    ids, pieces, spm_ids = [], [], []
    mask_id = sp.get_piece_size() + 1
    for chunk, special in split_specials(text):
        if special:
            ids.append(mask_id if chunk == "<mask>" else FAIRSEQ[chunk])
            pieces.append(chunk)
            continue
        for piece in sp.encode(chunk, out_type=str):
            spm_id = sp.piece_to_id(piece)
            ids.append(spm_id + 1 if spm_id else FAIRSEQ["<unk>"])
            pieces.append(piece)
        spm_ids.append(sp.encode(chunk, out_type=int))
    return ids, pieces, spm_ids


def encode(model, texts, pairs):
    sp = spm.SentencePieceProcessor(model_file=model)
    labelled = [(None, t) for t in texts] if texts is not None else multilingual_texts.check_texts()
    results = []
    for k, (script, text) in enumerate(labelled):
        body, pieces, spm_ids = encode_body(sp, text)
        pair = pairs[k] if pairs is not None else None
        if pair is None:
            ids = [0] + body + [2]
        else:
            second, more_pieces, more_spm = encode_body(sp, pair)
            ids = [0] + body + [2, 2] + second + [2]
            pieces += ["|"] + more_pieces
            spm_ids += more_spm
        results.append({"script": script, "text": text, "ids": ids, "pieces": pieces, "spm_ids": spm_ids})
    return {"results": results, "vocab_size": sp.get_piece_size() + 2}


def tokenizer_json(model, out):
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    proto = model_pb2.ModelProto()
    with open(model, "rb") as f:
        proto.ParseFromString(f.read())
    vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0]]
    vocab += [[p.piece, p.score] for p in proto.pieces[3:]]
    vocab += [["<mask>", 0.0]]
    mask_id = len(vocab) - 1

    def added(id_, content, lstrip=False):
        return {"id": id_, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
                "normalized": False, "special": True}

    charsmap = base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode("ascii")
    document = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>"),
                         added(mask_id, "<mask>", lstrip=True)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab},
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False)
    return {"ok": True, "vocab_size": len(vocab)}


def main():
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    action = request["action"]
    if spm is None:
        json.dump({"unavailable": "python3-sentencepiece is not installed"}, sys.stdout)
        return
    if action == "train":
        reply = train(request["out"])
    elif action == "encode":
        reply = encode(request["model"], request.get("texts"), request.get("pairs"))
    elif action == "tokenizer_json":
        reply = tokenizer_json(request["model"], request["out"])
    else:
        raise SystemExit(f"unknown action {action}")
    sys.stdout.buffer.write(json.dumps(reply, ensure_ascii=False).encode("utf-8"))


if __name__ == "__main__":
    main()
