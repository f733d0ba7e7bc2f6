#!/usr/bin/env python3
"""Generates the demo data set (reviews.tsv): short product and service reviews, positive or negative.

Written for this project (no external text). Sentences are built from templates with negation,
contrast ("but") and intensifiers, so the label depends on word order and negation, not on a single
word; 5 % of labels are flipped as noise. Deterministic: `python3 generate_reviews.py > reviews.tsv`.
Licence: the project's own (same as the repository).
"""
import random

rng = random.Random(2026)
subjects = ["the battery", "the screen", "the service", "the food", "the delivery", "the staff", "the hotel room",
            "the app", "the camera", "the sound", "the price", "the support team", "the checkout", "the coffee",
            "this laptop", "this phone", "the headphones", "the installation", "the manual", "the packaging"]
good = ["great", "excellent", "reliable", "fast", "friendly", "comfortable", "clean", "helpful", "sharp", "quiet",
        "worth it", "easy to use", "well made", "delicious", "impressive"]
bad = ["terrible", "slow", "broken", "rude", "dirty", "noisy", "confusing", "overpriced", "flimsy", "disappointing",
       "useless", "late", "buggy", "cold", "awful"]
intens = ["", "", "really ", "very ", "quite ", "extremely ", "surprisingly "]
openers = ["", "", "honestly, ", "overall ", "after a week, ", "to be fair, ", "well, "]
closers = ["", "", " .", " !", " and i would buy it again", " and i will not come back", " overall", " to be honest"]


def clause(positive):
    s = rng.choice(subjects)
    negate = rng.random() < 0.3
    word = rng.choice(bad if positive == negate else good)
    verb = "was" if rng.random() < 0.5 else "is"
    return f"{s} {verb} {'not ' if negate else ''}{rng.choice(intens)}{word}"


def review(positive):
    if rng.random() < 0.35:
        # "A but B": the clause after "but" decides.
        return f"{clause(not positive)} but {clause(positive)}"
    text = clause(positive)
    if rng.random() < 0.3:
        text += f" and {clause(positive)}"
    return text


print("label\ttext")
for i in range(2400):
    positive = rng.random() < 0.5
    text = (rng.choice(openers) + review(positive) + rng.choice(closers)).strip()
    label = positive if rng.random() >= 0.05 else not positive
    print(f"{'positive' if label else 'negative'}\t{text}")
