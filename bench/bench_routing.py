"""Routing benchmark: Table.decide over 200 realistic rules vs a naive json-logic-qubit loop.

Run: .venv/bin/python bench/bench_routing.py [documents] — prints numbers, asserts nothing.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json_logic

import rules
from rules.routing import Route, Table

CATEGORIES = [
    "违章搭建",
    "停车秩序",
    "消防通道",
    "噪音扰民",
    "垃圾分类",
    "电梯故障",
    "屋顶漏水",
    "绿化破坏",
    "占道经营",
    "管道堵塞",
    "外墙脱落",
    "高空抛物",
    "群租",
    "装修扰民",
    "路灯损坏",
    "井盖缺失",
    "宠物扰民",
    "油烟污染",
    "非机动车乱停",
    "楼道堆物",
]
DISTRICTS = [
    "chaohui",
    "mishixiang",
    "xiaohe",
    "hushu",
    "daguan",
    "gongchenqiao",
    "banshan",
    "kangqiao",
]
URGENCY = ["一般", "较急", "紧急"]


def build_rules(r: random.Random, count: int = 200) -> list[Route]:
    """Realistic routing rows: mostly category/district tests, some age/priority/urgency."""
    routes = []
    for i in range(count):
        shape = r.random()
        cat = {"var": "data.category"}
        if shape < 0.30:
            when: Any = {"==": [cat, r.choice(CATEGORIES)]}
        elif shape < 0.50:
            when = {
                "and": [
                    {"in": [cat, r.sample(CATEGORIES, 3)]},
                    {"in": [r.choice(DISTRICTS), {"var": "node.path"}]},
                ]
            }
        elif shape < 0.65:
            when = {
                "and": [
                    {"==": [cat, r.choice(CATEGORIES)]},
                    {">=": [{"var": "item.priority"}, r.randint(1, 3)]},
                    {"==": [{"var": "data.urgency"}, r.choice(URGENCY)]},
                ]
            }
        elif shape < 0.75:  # not indexable: age and priority first
            when = {
                "and": [
                    {">": [{"var": "item.age_hours"}, r.choice([24, 48, 72])]},
                    {"<=": [1, {"var": "item.priority"}, 3]},
                ]
            }
        elif shape < 0.85:
            when = {
                "or": [
                    {"==": [{"var": "data.urgency"}, "紧急"]},
                    {">": [{"var": "data.households"}, r.randint(50, 200)]},
                ]
            }
        elif shape < 0.93:
            when = {
                "and": [
                    {"in": [r.choice(DISTRICTS), {"var": "node.path"}]},
                    {"<": [{"var": "data.households"}, r.randint(5, 40)]},
                ]
            }
        else:
            when = {
                "if": [
                    {"==": [{"var": "data.urgency"}, "紧急"]},
                    {">": [{"var": "item.age_hours"}, 2]},
                    {">": [{"var": "item.age_hours"}, 24]},
                ]
            }
        routes.append(Route(f"r{i:03d}", when, {"summon": [f"unit-{i % 17}"]}))
    return routes


def build_doc(r: random.Random) -> dict[str, Any]:
    """One new item's document."""
    district = r.choice(DISTRICTS)
    return {
        "data": {
            "category": r.choice(CATEGORIES),
            "urgency": r.choice(URGENCY),
            "households": r.randint(1, 300),
        },
        "item": {"priority": r.randint(0, 3), "age_hours": r.random() * 96},
        "node": {"key": "n", "path": ["gongshu", district, "compound-n"]},
        "now": "2026-11-27T13:00:00+08:00",
    }


def timed(fn: Any, docs: list[Any]) -> list[float]:
    """Microseconds per call, one sample per document."""
    samples = []
    clock = time.perf_counter_ns
    for doc in docs:
        start = clock()
        fn(doc)
        samples.append((clock() - start) / 1000)
    return samples


def report(name: str, samples: list[float]) -> float:
    """Print p50/p99 and return p50."""
    cuts = statistics.quantiles(samples, n=100)
    p50, p99 = statistics.median(samples), cuts[98]
    print(f"{name:<38} n={len(samples):>6}  p50={p50:9.1f} µs  p99={p99:9.1f} µs")
    return p50


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    r = random.Random(20261127)
    routes = build_rules(r)
    docs = [build_doc(r) for _ in range(count)]
    table = Table(routes, "collect")
    plain = Table(routes, "collect", index=False)
    indexed = sum(1 for route in routes if rules.routing.index_clause(route.when) is not None)
    print(f"{len(routes)} routing rules ({indexed} indexable), {count} documents, collect")

    for doc in docs[:200]:  # warm up; also check the three agree
        decision = table.decide(doc)
        naive = [
            route.key for route in routes if rules.truthy(json_logic.jsonLogic(route.when, doc))
        ]
        assert [route.key for route in decision.fired] == naive
    fast = report("Table.decide (indexed, compiled)", timed(table.decide, docs))
    report("Table.decide (no index, compiled)", timed(plain.decide, docs[: count // 4]))

    def qubit_loop(doc: Any) -> list[Route]:
        return [route for route in routes if json_logic.jsonLogic(route.when, doc)]

    sample = docs[: max(count // 10, 100)]  # the naive loop is slow: a tenth of the docs
    slow = report("naive loop, json-logic-qubit", timed(qubit_loop, sample))
    fired = statistics.mean(len(table.decide(doc).fired) for doc in docs[:1000])
    print(f"ratio naive/indexed p50: {slow / fast:.1f}x; routes fired per item: {fired:.1f}")


if __name__ == "__main__":
    main()
