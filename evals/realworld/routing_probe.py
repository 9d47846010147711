#!/usr/bin/env python3
"""Compare market-routing signals on the real-world development pages (issue 14, item 2).

For every dev case with a rebuilt page: is the top buyer market (vertical) one the rubric accepts
(its label or name contains an ``icp_industries_any`` phrase), and is the top seller category's kind the
case's ``seller_kind``? Signals compared: the cue scores alone, the WordLlama embedding alone, a TF-IDF
(sklearn-free, numpy) cosine over the same market texts, and the blend the engine uses. Also prints the
time each signal takes per page. Dev only: never run it on ``blind/``.

    python evals/realworld/routing_probe.py            # after rebuild.py
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from graph.engine.analysis import site_zones  # noqa: E402
from graph.engine.cues import score_cues  # noqa: E402
from graph.engine.semantic import (  # noqa: E402
    SemanticIndex,
    combine,
    load_embedder,
    market_text,
    query_zones,
    semantic_index,
    site_similarity,
)
from graph.knowledge.base import load_knowledge  # noqa: E402
from tools.extract import extract_page  # noqa: E402
from tools.site import SiteSnapshot  # noqa: E402

KINDS = {"lender": {"lending", "payments"}, "services": {"it_services", "facility_services", "professional_services",
                                                        "logistics", "software"},
         "manufacturer": {"manufacturing"}, "agency": {"agency"}, "marketplace": {"marketplace", "software"},
         "staffing": {"staffing"}, "fulfilment": {"logistics"}, "distributor": {"distribution"},
         "software": {"software"}}
BLEND_WEIGHTS = (0.2, 0.35, 0.5)
_WORD = re.compile(r"[a-z][a-z0-9+&-]+")


class TfIdf:
    def __init__(self, docs: list[str]) -> None:
        toks = [Counter(_WORD.findall(d.lower())) for d in docs]
        df = Counter(w for t in toks for w in t)
        self.idf = {w: math.log((1 + len(docs)) / (1 + n)) + 1 for w, n in df.items()}
        self.vocab = {w: i for i, w in enumerate(self.idf)}
        self.matrix = np.stack([self.vec(t) for t in toks])

    def vec(self, counts: Counter[str]) -> np.ndarray:
        v = np.zeros(len(self.vocab), dtype=np.float32)
        for w, n in counts.items():
            if w in self.vocab:
                v[self.vocab[w]] = (1 + math.log(n)) * self.idf[w]
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def sims(self, text: str) -> np.ndarray:
        return self.matrix @ self.vec(Counter(_WORD.findall(text.lower())))


def main() -> int:
    kb = load_knowledge()
    cases = json.loads((HERE / "dev" / "cases.json").read_text())
    embedder = load_embedder()
    assert embedder is not None
    index = semantic_index(kb, embedder)
    verts, cats = list(kb.verticals.values()), list(kb.categories.values())
    tfv, tfc = TfIdf([market_text(v) for v in verts]), TfIdf([market_text(c) for c in cats])
    # the embedding over other market texts: name and description only (no labels, no cues)
    short = SemanticIndex(vertical_ids=tuple(v.id for v in verts),
                          verticals=embedder.embed([f"{v.name}. {v.description}" for v in verts]),
                          category_ids=tuple(c.id for c in cats),
                          categories=embedder.embed([f"{c.name}. {c.description}" for c in cats]))
    tally: Counter[str] = Counter()
    cost: Counter[str] = Counter()
    for case in cases:
        page_file = HERE / ".pages" / Path(case["site"]).name
        if not page_file.exists():
            continue
        page = extract_page(page_file.read_text(), "http://127.0.0.1/", kind="home")
        site = SiteSnapshot(url="http://127.0.0.1/", final_url="http://127.0.0.1/", domain="127.0.0.1", pages=[page])
        zones = site_zones(site)
        want = [p.strip() for p in case["expect"]["icp_industries_any"]]

        def ok_v(vid: str, want: list[str] = want) -> bool:
            v = kb.verticals[vid]
            text = " ".join([v.name, *v.industry_labels]).lower()
            return any(w.lower() in text for w in want)

        def ok_k(cid: str, kind: str = case["seller_kind"]) -> bool:
            return kb.categories[cid].kind in KINDS.get(kind, {kind})

        t0 = time.perf_counter()
        cue_v = score_cues(kb.verticals.values(), zones)
        cue_c = score_cues(kb.categories.values(), zones)
        cost["cues"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        sem_v, sem_c = site_similarity(index, embedder, zones)
        cost["embedding"] += time.perf_counter() - t0
        short_v, short_c = site_similarity(short, embedder, zones)
        t0 = time.perf_counter()
        text = " ".join(z.text[:1500] for z in query_zones(zones))
        tf_v, tf_c = tfv.sims(text), tfc.sims(text)
        cost["tfidf"] += time.perf_counter() - t0
        tally["cases"] += 1
        tally["cue_v"] += bool(cue_v) and ok_v(cue_v[0].id)
        tally["cue_k"] += bool(cue_c) and ok_k(cue_c[0].id)
        tally["emb_v"] += ok_v(max(sem_v, key=sem_v.__getitem__))
        tally["emb_k"] += ok_k(max(sem_c, key=sem_c.__getitem__))
        tally["emb_desc_v"] += ok_v(max(short_v, key=short_v.__getitem__))
        tally["emb_desc_k"] += ok_k(max(short_c, key=short_c.__getitem__))
        tally["tfidf_v"] += ok_v(verts[int(tf_v.argmax())].id)
        tally["tfidf_k"] += ok_k(cats[int(tf_c.argmax())].id)
        for w in BLEND_WEIGHTS:
            bv, bc = combine(cue_v, sem_v, w), combine(cue_c, sem_c, w)
            tally[f"blend{w}_v"] += bool(bv) and ok_v(bv[0].id)
            tally[f"blend{w}_k"] += bool(bc) and ok_k(bc[0].id)
            tv = combine(cue_v, {v.id: float(x) for v, x in zip(verts, tf_v, strict=True)}, w)
            tc = combine(cue_c, {c.id: float(x) for c, x in zip(cats, tf_c, strict=True)}, w)
            tally[f"tfblend{w}_v"] += bool(tv) and ok_v(tv[0].id)
            tally[f"tfblend{w}_k"] += bool(tc) and ok_k(tc[0].id)
    n = tally["cases"]
    print(f"{n} dev pages; top-1 buyer market accepted by the rubric / top-1 seller kind right")
    for name in ("cue", "emb", "emb_desc", "tfidf", *(f"blend{w}" for w in BLEND_WEIGHTS),
                 *(f"tfblend{w}" for w in BLEND_WEIGHTS)):
        print(f"  {name:12s} vertical {tally[name + '_v']:2d}/{n}   kind {tally[name + '_k']:2d}/{n}")
    print("cost per page (ms): " + ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in cost.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
