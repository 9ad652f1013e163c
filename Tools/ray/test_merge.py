#!/usr/bin/env python3
"""Unit tests of the ingress's merge and of the Python XXH64 (no Ray, no server): run by Tools/test.sh."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "python"))
from scan_ray import merge  # noqa: E402
from scan_ray.xxh64 import shard_of, xxh64  # noqa: E402


def answer(results, **kw):
    base = {"query": "a dog", "mode": "exact", "top": 3, "candidates": 100, "unknown_words": [], "skipped": [],
            "image_count": 10, "timings_ms": {"encode": 1.0, "first_stage": 0.0, "rerank": 2.0, "total": 3.0}}
    base.update(kw)
    base["results"] = [{"rank": i + 1, "id": r[0], "score": r[1], "captions": []} for i, r in enumerate(results)]
    return base


class MergeTests(unittest.TestCase):
    def test_top_k_by_score_over_shards_with_ranks_renumbered(self):
        a = answer([("a", 0.9), ("b", 0.5), ("c", 0.1)])
        b = answer([("d", 0.8), ("e", 0.7), ("f", 0.6)], image_count=7)
        m = merge.merge_search({0: a, 1: b}, 2)
        self.assertEqual([(r["rank"], r["id"]) for r in m["results"]], [(1, "a"), (2, "d"), (3, "e")])
        self.assertEqual(m["image_count"], 17)
        self.assertEqual(m["shards"], {"answered": 2, "total": 2, "missing": []})

    def test_ties_are_ordered_by_id(self):
        m = merge.merge_search({0: answer([("z", 0.5)]), 1: answer([("y", 0.5)])}, 2)
        self.assertEqual([r["id"] for r in m["results"]], ["y", "z"])

    def test_missing_shards_are_named(self):
        m = merge.merge_search({0: answer([("a", 0.9)]), 2: answer([("c", 0.3)])}, 4)
        self.assertEqual(m["shards"], {"answered": 2, "total": 4, "missing": [1, 3]})
        none = merge.merge_search({}, 2)
        self.assertEqual(none["error"]["status"], 503)
        self.assertEqual(none["shards"]["missing"], [0, 1])

    def test_batch_merges_query_by_query(self):
        a = {"responses": [answer([("a", 0.9)]), answer([("b", 0.2)])], "image_count": 5, "total_ms": 1}
        b = {"responses": [answer([("c", 0.95)]), answer([("d", 0.1)])], "image_count": 6, "total_ms": 1}
        m = merge.merge_batch({0: a, 1: b}, 2)
        self.assertEqual([r["id"] for r in m["responses"][0]["results"]], ["c", "a"])
        self.assertEqual([r["id"] for r in m["responses"][1]["results"]], ["b", "d"])
        self.assertEqual(m["image_count"], 11)


class XXH64Tests(unittest.TestCase):
    # Published values of the reference implementation (seed 0).
    def test_reference_values(self):
        self.assertEqual(xxh64(b""), 0xEF46DB3751D8E999)
        self.assertEqual(xxh64(b"a"), 0xD24EC4F1A98C6E5B)

    def test_long_inputs_take_the_32_byte_path_deterministically(self):
        data = bytes(range(256)) * 3
        self.assertEqual(xxh64(data), xxh64(bytes(data)))
        self.assertNotEqual(xxh64(data), xxh64(data[:-1]))
        self.assertEqual(shard_of("a", 7), 0xD24EC4F1A98C6E5B % 7)


if __name__ == "__main__":
    unittest.main()
