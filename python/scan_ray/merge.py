"""Merging the shards' answers into one answer of scan-serve's shape.

Every shard runs one model, so SCAN scores of different shards are comparable: the merged top-k is
the k best of the shards' top-k lists by score (ties by id, so that the order is deterministic).
Exact mode over shards is exactly exact mode over the whole index; two-stage mode re-ranks K
candidates per shard, i.e. N x K in all, so it keeps at least what one index keeps at K.
"""
from typing import Dict, List, Optional


def shards_field(total: int, missing: List[int]) -> Dict:
    return {"answered": total - len(missing), "total": total, "missing": sorted(missing)}


def merge_results(lists: List[List[Dict]], top: int) -> List[Dict]:
    merged = [dict(r) for lst in lists for r in lst]
    merged.sort(key=lambda r: (-float(r["score"]), str(r["id"])))
    out = merged[:top]
    for rank, r in enumerate(out, 1):
        r["rank"] = rank
    return out


def _none_answered(total: int) -> Dict:
    """The 503 body when no shard answered (every shard missing)."""
    return {"error": {"status": 503, "parameter": None, "message": f"no shard answered (0 of {total})"},
            "shards": shards_field(total, list(range(total)))}


def merge_search(answers: Dict[int, Dict], total: int, ingress_ms: Optional[float] = None) -> Dict:
    """One ``GET /search`` answer from the shards that answered (``answers``: shard number -> answer)."""
    missing = [i for i in range(total) if i not in answers]
    if not answers:
        return _none_answered(total)
    first = answers[min(answers)]
    top = int(first.get("top", 10))
    out = {k: first[k] for k in ("query", "mode", "top", "candidates", "unknown_words", "warning") if k in first}
    out["results"] = merge_results([a.get("results", []) for a in answers.values()], top)
    out["skipped"] = [s for i in sorted(answers) for s in answers[i].get("skipped", [])]
    out["image_count"] = sum(int(a.get("image_count", 0)) for a in answers.values())
    t = [a.get("timings_ms", {}) for a in answers.values()]
    timings = {k: max(float(x.get(k, 0)) for x in t) for k in ("encode", "first_stage", "rerank")}
    timings["shard_total_max"] = max(float(x.get("total", 0)) for x in t)
    if ingress_ms is not None:
        timings["total"] = ingress_ms
    out["timings_ms"] = timings
    out["shards"] = shards_field(total, missing)
    return out


def merge_batch(answers: Dict[int, Dict], total: int, ingress_ms: Optional[float] = None) -> Dict:
    """One ``POST /search`` answer: the shards' ``responses`` merged query by query."""
    missing = [i for i in range(total) if i not in answers]
    if not answers:
        return _none_answered(total)
    n = min(len(a.get("responses", [])) for a in answers.values())
    responses = []
    for q in range(n):
        one = merge_search({i: a["responses"][q] for i, a in answers.items()}, total)
        one.pop("shards", None)
        responses.append(one)
    out = {"responses": responses, "image_count": sum(int(a.get("image_count", 0)) for a in answers.values()),
           "shards": shards_field(total, missing)}
    out["total_ms"] = ingress_ms if ingress_ms is not None else max(float(a.get("total_ms", 0)) for a in answers.values())
    return out


def merge_info(answers: Dict[int, Dict], total: int) -> Dict:
    """``GET /info``: the first shard's answer (limits, picture settings, manifest fields shared by the set)
    with the image count of all answering shards and each shard's index path and count."""
    missing = [i for i in range(total) if i not in answers]
    if not answers:
        return _none_answered(total)
    out = dict(answers[min(answers)])
    out["image_count"] = sum(int(a.get("image_count", 0)) for a in answers.values())
    out["index"] = "shard set of %d" % total
    out["shard_indexes"] = {str(i): {"index": a.get("index"), "image_count": a.get("image_count")} for i, a in sorted(answers.items())}
    out["shards"] = shards_field(total, missing)
    return out
