#!/usr/bin/env python3
"""Writes sentiment.tsv: short movie-review sentences labelled 1 (positive) or 0 (negative), SST-2 style.

Generated for this project (no third-party text): templates with negation and contrast, so the label
depends on more than one word, and 5 % of labels flipped (annotator noise). Deterministic: `python3 generate_sentiment.py > sentiment.tsv`.
"""
import random

rng = random.Random(2026)
subjects = ["the film", "this movie", "the story", "the acting", "the script", "the soundtrack", "the ending",
            "the director's work", "the cast", "the dialogue", "the plot", "the camera work"]
good = ["moving", "funny", "clever", "beautiful", "gripping", "charming", "sharp", "warm", "brilliant", "fresh"]
bad = ["dull", "clumsy", "boring", "predictable", "flat", "messy", "tedious", "lifeless", "shallow", "forced"]
adverbs = ["", "really ", "quite ", "surprisingly ", "utterly ", "rather ", "genuinely "]
openers = ["", "honestly, ", "in the end, ", "all in all, ", "frankly, ", "for once, "]
closers = ["", " .", " !", " , and i would watch it again", " , a waste of two hours"]


def clause(positive):
    words = good if positive else bad
    if rng.random() < 0.25:  # negated opposite: "not dull" is positive
        words = bad if positive else good
        return f"{rng.choice(subjects)} is not {rng.choice(adverbs)}{rng.choice(words)}"
    return f"{rng.choice(subjects)} is {rng.choice(adverbs)}{rng.choice(words)}"


print("sentence\tlabel")
for i in range(1200):
    positive = i % 2 == 0
    text = rng.choice(openers) + clause(positive)
    if rng.random() < 0.4:  # contrast: the clause after "but" decides
        text = rng.choice(openers) + clause(not positive) + " but " + clause(positive)
    closer = rng.choice(closers)
    if ("again" in closer and not positive) or ("waste" in closer and positive):
        closer = ""
    label = positive if rng.random() >= 0.05 else not positive  # 5 % annotator noise, as real data has
    print(f"{text}{closer}\t{1 if label else 0}")
