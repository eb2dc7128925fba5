#!/usr/bin/env python3
"""W3 workload: long rollouts for the shaping family (cosine-scaled length, n-gram repetition,
soft overlong punishment, a group length reward). Deterministic (fixed seed).

Usage: gen_w3.py [PROMPTS] [PER_PROMPT] > rollouts.jsonl     (default 512 16)

Each line: {"prompt_id", "completion", "completion_ids", "correct"}.
- Tokens: a synthetic vocabulary of 6,000 entries (ids 1000…6999), each a made-up word, a
  Capitalised or UPPER variant of another one (its own id, the same word once lower-cased, as a
  tokenizer has "The" and "the") or a punctuated word ("value.", "then,"). A completion is
  500–10,000 tokens (uniform), drawn from a Zipf law (s = 1.1); `completion` is the tokens joined
  by single spaces, so the words of the text are the tokens one for one (the ids' n-grams and the
  lower-cased words' n-grams differ only where case variants meet).
- Degenerate loops: 30 % of the completions fall, after a random 20–90 % of their length, into a
  repeated segment of 3–40 tokens until the end (the repetition penalty's target); the rest
  repeat only as Zipf text does.
- Lengths are spread over the three zones of the soft overlong punishment with max 8,192 and
  cache 2,048 (≤ 6,144: none; 6,145–8,192: linear; > 8,192: -1) and past the cosine schedule's
  max_len of 8,192 (where TRL clamps).
- `correct`: true for 50 %. The checker is not what W3 measures (W1 does that): TRL's and
  open-r1's rewards get correctness from math-verify, and the peer gets it from this column.
"""
import json
import random
import sys
from itertools import accumulate

SEED = 20261203
VOCAB = 6000
FIRST_ID = 1000


def make_vocab(rng: random.Random) -> list[str]:
    sy = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "qu", "el", "on", "ar", "is", "th"]
    base = []
    seen = set()
    while len(base) < VOCAB // 2:
        w = "".join(rng.choice(sy) for _ in range(rng.randint(1, 4)))
        if w not in seen:
            seen.add(w)
            base.append(w)
    vocab = list(base)
    while len(vocab) < VOCAB:
        w = rng.choice(base)
        r = rng.random()
        v = w.capitalize() if r < 0.5 else w.upper() if r < 0.65 else w + rng.choice([".", ",", ":", ";"])
        if v not in seen:
            seen.add(v)
            vocab.append(v)
    rng.shuffle(vocab)  # case variants spread over the Zipf ranks
    return vocab


def main() -> None:
    prompts = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    rng = random.Random(SEED)
    vocab = make_vocab(rng)
    cum = list(accumulate(1.0 / (r + 1) ** 1.1 for r in range(VOCAB)))
    ranks = range(VOCAB)
    for p in range(prompts):
        for _ in range(per):
            n = rng.randint(500, 10000)
            ids = rng.choices(ranks, cum_weights=cum, k=n)
            if rng.random() < 0.3:
                head = int(n * rng.uniform(0.2, 0.9))
                seg = ids[head:head + rng.randint(3, 40)]
                ids = ids[:head] + (seg * (n // len(seg) + 1))[: n - head]
            completion = " ".join(vocab[i] for i in ids)
            print(json.dumps({"prompt_id": f"w3-{p:04d}", "completion": completion,
                              "completion_ids": [FIRST_ID + i for i in ids], "correct": rng.random() < 0.5},
                             separators=(",", ":")))


if __name__ == "__main__":
    main()
