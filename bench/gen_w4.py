#!/usr/bin/env python3
"""W4 workload: N responses to travel-planning prompts with precomputed judge verdicts, for the
20-criterion rubrics bench/w4_healthbench.reward and bench/w4_rar.reward. Deterministic.

Usage: gen_w4.py [N] > rollouts.jsonl      (default 100000, the design's size)

Each line: {"prompt_id", "completion", "judge": {10 bools}}.
- completion: 40–520 words (uniform) of filler travel prose in paragraphs, with each feature the
  rule-checked criteria look at switched on at random, near misses included so that the checks
  must be exact: a <<title>> (60 %; 5 % a <single> one), 0–5 bullets ("* " / "- ", some
  indented, some "*no space"), 0–3 *highlights*, the keywords budget / itinerary (70 % each, in
  any case; sometimes only "budgets"), a forbidden word (15 %: cheap / guaranteed, any case; 10 %
  the harmless "cheaply"), each of the topics transport / food / lodging / safety (60 %, any
  case), a "P.S." postscript (30 %; 5 % a lower-case "p.s."), and the closing question "Is there
  anything else I can help with?" (50 %, sometimes followed by blank lines; 5 % without the "?").
- judge: the 10 judged criteria's verdicts, true with per-criterion rates (the positive ones
  60–85 %, the pitfalls 8–20 %), as a grader model would have returned them.
- prompt_id: 16 responses per prompt.
All text is ASCII (where Python's `re` and the `regex` crate agree on \\b, \\s and case).
"""
import json
import random
import sys

SEED = 20261204
FILLER = ("the old town is best explored on foot and the view from the hill at sunset is worth the "
          "climb plan a slow morning then a museum and a long lunch by the river a day trip to the "
          "coast is easy by train in the evening try the local market and book ahead in high season "
          "walk along the harbour the tram is scenic but crowded").split()
TOPICS = ["transport", "food", "lodging", "safety"]
JUDGE = {"accurate_facts": 0.75, "answers_question": 0.85, "actionable_steps": 0.7, "tailored": 0.6,
         "clear_structure": 0.7, "appropriate_tone": 0.8, "cites_official_sources": 0.4,
         "invents_details": 0.2, "unsafe_advice": 0.08, "ignores_constraint": 0.15}
CITIES = ["Lisbon", "Kyoto", "Oaxaca", "Tallinn", "Hanoi", "Porto", "Cusco", "Ljubljana"]


def case(rng: random.Random, w: str) -> str:
    r = rng.random()
    return w.upper() if r < 0.1 else w.capitalize() if r < 0.3 else w


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rng = random.Random(SEED)
    for i in range(n):
        words = [rng.choice(FILLER) for _ in range(rng.randint(40, 520))]
        # features inserted as words at random places
        extra = []
        if rng.random() < 0.7:
            extra.append(case(rng, "budget"))
        elif rng.random() < 0.3:
            extra.append("budgets")
        if rng.random() < 0.7:
            extra.append(case(rng, "itinerary"))
        r = rng.random()
        if r < 0.15:
            extra.append(case(rng, rng.choice(["cheap", "guaranteed"])))
        elif r < 0.25:
            extra.append("cheaply")
        for t in TOPICS:
            if rng.random() < 0.6:
                extra.append(case(rng, t))
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            extra.append("*" + " ".join(rng.choice(FILLER) for _ in range(rng.randint(1, 3))) + "*")
        for e in extra:
            words.insert(rng.randint(0, len(words)), e)
        # paragraphs
        paras, k = [], 0
        while k < len(words):
            m = rng.randint(20, 80)
            paras.append(" ".join(words[k:k + m]) + ".")
            k += m
        body = "\n\n".join(paras)
        parts = []
        r = rng.random()
        if r < 0.6:
            parts.append(f"<<A Week in {rng.choice(CITIES)}>>")
        elif r < 0.65:
            parts.append(f"<A Week in {rng.choice(CITIES)}>")
        parts.append(body)
        nb = rng.choice([0, 0, 1, 2, 3, 3, 4, 5])
        if nb:
            items = []
            for _ in range(nb):
                mark = rng.choice(["* ", "- ", "  * ", "\t- ", "*"])
                items.append(mark + " ".join(rng.choice(FILLER) for _ in range(rng.randint(2, 8))))
            parts.append("\n".join(items))
        r = rng.random()
        if r < 0.3:
            parts.append("P.S. " + " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 12))))
        elif r < 0.35:
            parts.append("p.s. " + " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 12))))
        text = "\n\n".join(parts)
        r = rng.random()
        if r < 0.5:
            text += "\n\nIs there anything else I can help with?" + rng.choice(["", "", "\n", "\n\n  "])
        elif r < 0.55:
            text += "\n\nIs there anything else I can help with"
        judge = {k: rng.random() < p for k, p in JUDGE.items()}
        print(json.dumps({"prompt_id": f"w4-{i // 16:05d}", "completion": text, "judge": judge}))


if __name__ == "__main__":
    main()
