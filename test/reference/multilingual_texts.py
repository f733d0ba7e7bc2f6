"""Multilingual texts for the SentencePiece fixtures and tokenizer checks (pure Python 3, deterministic).

`corpus()` is what the tiny Unigram model is trained on; `check_texts()` returns (script, text) pairs, at least 70 per
script, that the tokenizer tests compare implementations on: Latin with accents, Cyrillic, Arabic, CJK, Devanagari,
emoji, whitespace runs, mixed scripts, and special-token literals. They include what the training corpus lacks
(characters outside its coverage become <unk>), compatibility forms that NFKC rewrites (full-width letters, ligatures,
Arabic presentation forms, circled digits), decomposed accents, zero-width characters and control characters.
"""
import random

WORDS = {
    "latin": (
        "café naïve résumé déjà où garçon élève français forêt hôpital crème brûlée über schön Straße "
        "Mädchen Größe fünf Äpfel Übung señor niño año mañana corazón canción pingüino São João "
        "coração ação não Łódź żółć zażółć gęślą jaźń příliš žluťoučký kůň úpěl ďábelské Việt Nam "
        "tiếng người đẹp ngôn ngữ smörgåsbord ÆØÅ æble øl Ísland þorn ðæt İstanbul ışık çok güzel "
        "the film was good great bad awful story actors music"
    ).split(),
    "cyrillic": (
        "привет мир фильм хороший плохой отличный ужасный история актёры музыка ёжик съешь "
        "ещё этих мягких французских булок да выпей чаю Москва Київ ґанок їжак Україна "
        "Беларусь ўсё Србија ђак љубав њива џем Македонија ѓавол ќерка"
    ).split(),
    "arabic": (
        "مرحبا بالعالم الفيلم جيد سيئ رائع قصة الممثلين الموسيقى كتاب مدرسة السلام عليكم "
        "شكرا جزيلا اللغة العربية جميلة فارسی زبان خوب اردو"
    ).split(),
    "cjk": (
        "你好 世界 电影 很好 很差 故事 演员 音乐 中文 汉字 學習 語言 日本語 こんにちは ありがとう "
        "カタカナ ひらがな 映画 東京 한국어 안녕하세요 영화 좋아요 나빠요 漢字"
    ).split(),
    "devanagari": (
        "नमस्ते दुनिया फ़िल्म अच्छी बुरी कहानी अभिनेता संगीत हिन्दी भाषा भारत मराठी नेपाली "
        "क्षत्रिय ज्ञान श्री धन्यवाद"
    ).split(),
    "emoji": "😀 😂 👍 👎 ❤️ 🎬 🍿 🌍 🇫🇷 🇯🇵 👩‍💻 👨‍👩‍👧 ✨ 🔥 🙂 🙁".split(),
}

# Characters the corpus never shows, for the check texts (they reach <unk> or other pieces).
RARE = {
    "latin": "ŉ ǅ ȸ ẞ ǂ ꝏ ɮ",
    "cyrillic": "ꙮ Ѣ ѣ Ѳ ѳ Ѵ",
    "arabic": "ﷺ ﻻ ﺍﻟ ٱ ڤ ۝",
    "cjk": "𠀋 𪚥 龘 靐 齉 ㍿ ㊙",
    "devanagari": "ॐ ॠ ऌ ॡ ꣲ",
    "emoji": "🦩 🫠 🧌 🪿 🏳️‍🌈 🧑🏽‍🚀 👋🏿",
}

# Compatibility forms (NFKC changes them) and other normalization cases.
COMPAT = [
    "ＦＵＬＬ ｗｉｄｔｈ １２３", "ﬁne ﬂour ﬀ", "① ② ⑩", "㎏ ㎞ ℃ №", "ｶﾀｶﾅ ﾊﾟ", "ﾞ",
    "e\u0301te\u0301", "A\u030a", "n\u0303o", "\u2126 \u212b", "x\u00b2 y\u2083", "\u00bd \u2153",
    "ﺍﻟﺴﻼﻡ", "ﭼ ﭽ", "\u3000全角スペース\u3000", "…", "\u2028line\u2029para",
]

WHITESPACE = [" ", "  ", "   ", "\t", "\n", "\r\n", "\u00a0", "\u3000", " \t ", "\u2002", "\u200b", "\u202f", "\u205f"]
CONTROL = ["\u0000", "\u0001", "\u0007", "\u001b", "\u007f", "\u0085", "\ufeff", "\u200d", "\u200e", "\ufffd"]


def corpus(lines=4000, seed=1):
    """The training corpus: sentences of 3 to 12 words, mostly one script, some mixed."""
    rng = random.Random(seed)
    scripts = list(WORDS)
    out = []
    for i in range(lines):
        main = scripts[i % len(scripts)]
        words = []
        for _ in range(rng.randint(3, 12)):
            script = main if rng.random() < 0.85 else rng.choice(scripts)
            words.append(rng.choice(WORDS[script]))
        sentence = " ".join(words)
        if rng.random() < 0.3:
            sentence += rng.choice([".", "!", "?", ",", "。", "؟", "।"])
        out.append(sentence)
    return out


def _words(rng, script, n):
    return [rng.choice(WORDS[script]) for _ in range(n)]


def check_texts(per_script=72, seed=2):
    """(script, text) pairs; deterministic."""
    rng = random.Random(seed)
    texts = []
    for script in WORDS:
        rare = RARE[script].split()
        for k in range(per_script):
            words = _words(rng, script, rng.randint(1, 9))
            if k % 4 == 1:
                words.insert(rng.randrange(len(words) + 1), rng.choice(rare))
            if k % 6 == 2:
                words.insert(rng.randrange(len(words) + 1), rng.choice(rare) + rng.choice(WORDS[script]))
            separator = " " if k % 5 else rng.choice(["", " ", "  "])
            text = separator.join(words)
            if k % 7 == 3:
                text = text.upper()
            if k % 9 == 4:
                text = rng.choice(COMPAT) + " " + text
            if k % 11 == 5:
                text = text + rng.choice([".", "!?", ", ", " …", "  "])
            texts.append((script, text))
    scripts = list(WORDS)
    for k in range(per_script):
        # Whitespace runs and control characters between words of any script, at the ends too.
        words = [rng.choice(WORDS[rng.choice(scripts)]) for _ in range(rng.randint(1, 6))]
        pieces = [rng.choice(WHITESPACE) if k % 3 else rng.choice(WHITESPACE + CONTROL)]
        for w in words:
            pieces.append(w)
            pieces.append("".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 3))))
        if k % 4 == 0:
            pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(CONTROL))
        texts.append(("whitespace", "".join(pieces)))
    for k in range(per_script):
        words = [rng.choice(WORDS[rng.choice(scripts)]) for _ in range(rng.randint(2, 10))]
        if k % 3 == 0:
            words.insert(rng.randrange(len(words) + 1), rng.choice(COMPAT))
        if k % 5 == 1:
            words.append(str(rng.randint(0, 99999)))
        texts.append(("mixed", " ".join(words)))
    specials = ["<mask>", "<s>", "</s>", "<unk>", "<pad>"]
    for k in range(per_script // 2):
        words = _words(rng, rng.choice(scripts), rng.randint(1, 5))
        special = specials[k % len(specials)]
        spaces = rng.choice(["", " ", "  ", "\t"])
        words.insert(rng.randrange(len(words) + 1), spaces + special + rng.choice(["", " "]))
        texts.append(("specials", " ".join(words)))
    texts += [("edge", t) for t in ["", " ", "   ", "\t\n", "a", "▁", "▁▁x", "x▁y", "<mask>", " <mask> ", "<s></s>", "<<mask>>"]]
    return texts
