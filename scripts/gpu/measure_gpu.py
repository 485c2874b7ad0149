#!/usr/bin/env python3
"""Measures what Tessera's GPU presets claim, on the card this runs on.

Writes one JSON file (to $OUT or the path given) with: the card, driver and library versions,
the date; dense GEMM time and achieved TFLOP/s across shapes and precisions; HBM bandwidth
(device-to-device copy and a read-only reduction); and the 2:4 semi-structured sparse GEMM
speedup over dense (PyTorch's to_sparse_semi_structured, cuSPARSELt backend when available).

Method: CUDA events around N back-to-back launches after warm-up; the figure is the median of
R repetitions. FLOPs of an m×n×k GEMM are 2·m·n·k. Run: python3 measure_gpu.py [out.json]
"""
import datetime
import json
import os
import statistics
import sys

import torch

REPS = 7


def timed(fn, iters):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(REPS):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / 1e3 / iters)
    return statistics.median(samples), min(samples)


def iters_for(flops):
    return max(3, min(200, int(2e13 / max(flops, 1))))


def gemm_section():
    out = []
    shapes = [
        (1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192),
        (16384, 16384, 16384), (8192, 8192, 1024), (1024, 8192, 8192), (16, 8192, 8192),
        (128, 8192, 8192), (4096, 11008, 4096), (3000, 3000, 3000), (4095, 4095, 4095),
    ]
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "tf32": torch.float32}
    for name, dt in dtypes.items():
        torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
        for (m, n, k) in shapes:
            if name == "tf32" and m * n * k > 8192 ** 3:
                continue
            a = torch.randn(m, k, device="cuda", dtype=dt)
            b = torch.randn(k, n, device="cuda", dtype=dt)
            flops = 2 * m * n * k
            med, best = timed(lambda: torch.matmul(a, b), iters_for(flops))
            out.append({"precision": name, "m": m, "n": n, "k": k, "seconds_median": med, "seconds_min": best,
                        "tflops_median": flops / med / 1e12})
            del a, b
    # int8 through torch._int_mm (m must be > 16, dims multiples of 8)
    for (m, n, k) in [(4096, 4096, 4096), (8192, 8192, 8192), (16384, 16384, 16384)]:
        try:
            a = torch.randint(-8, 8, (m, k), device="cuda", dtype=torch.int8)
            b = torch.randint(-8, 8, (k, n), device="cuda", dtype=torch.int8)
            flops = 2 * m * n * k
            med, best = timed(lambda: torch._int_mm(a, b), iters_for(flops))
            out.append({"precision": "int8", "m": m, "n": n, "k": k, "seconds_median": med, "seconds_min": best,
                        "tflops_median": flops / med / 1e12})
        except Exception as e:  # report, don't lose the rest
            out.append({"precision": "int8", "m": m, "n": n, "k": k, "error": repr(e)[:300]})
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def bandwidth_section():
    out = []
    for gib in (1, 4):
        n = gib * (1 << 30)
        src = torch.empty(n, dtype=torch.uint8, device="cuda")
        dst = torch.empty_like(src)
        med, best = timed(lambda: dst.copy_(src), 10)
        out.append({"test": "device copy (read + write)", "bytes_per_iteration": 2 * n, "seconds_median": med,
                    "gbps_median": 2 * n / med / 1e9, "gbps_best": 2 * n / best / 1e9})
        f = src.view(torch.float32)
        med, best = timed(lambda: f.sum(), 10)
        out.append({"test": "read-only reduction (fp32 sum)", "bytes_per_iteration": n, "seconds_median": med,
                    "gbps_median": n / med / 1e9, "gbps_best": n / best / 1e9})
        del src, dst, f
    return out


def sparse_section():
    out = []
    try:
        from torch.sparse import to_sparse_semi_structured, SparseSemiStructuredTensor
    except Exception as e:
        return [{"error": "no semi-structured sparsity in this PyTorch: " + repr(e)[:200]}]
    backends = []
    try:
        SparseSemiStructuredTensor._FORCE_CUTLASS = False
        backends.append("cusparselt")
    except Exception:
        pass
    backends.append("cutlass")
    for backend in backends:
        try:
            SparseSemiStructuredTensor._FORCE_CUTLASS = backend == "cutlass"
        except Exception:
            pass
        for (m, n, k) in [(2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192), (16384, 16384, 16384), (4096, 11008, 4096)]:
            for name, dt in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
                try:
                    mask = torch.tensor([1, 1, 0, 0], device="cuda", dtype=dt).tile((m, k // 4))
                    w = torch.randn(m, k, device="cuda", dtype=dt) * mask
                    x = torch.randn(k, n, device="cuda", dtype=dt)
                    flops = 2 * m * n * k
                    dense_med, _ = timed(lambda: torch.mm(w, x), iters_for(flops))
                    ws = to_sparse_semi_structured(w)
                    sparse_med, _ = timed(lambda: torch.mm(ws, x), iters_for(flops))
                    err = (torch.mm(ws, x) - torch.mm(w, x)).abs().max().item()
                    out.append({"backend": backend, "precision": name, "m": m, "n": n, "k": k,
                                "dense_seconds": dense_med, "sparse_seconds": sparse_med,
                                "speedup": dense_med / sparse_med, "dense_tflops": flops / dense_med / 1e12,
                                "max_abs_error": err, "backend_class": type(ws).__name__})
                    del w, x, ws
                except Exception as e:
                    out.append({"backend": backend, "precision": name, "m": m, "n": n, "k": k, "error": repr(e)[:300]})
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("OUT", "."), "gpu.json")
    p = torch.cuda.get_device_properties(0)
    result = {
        "date": datetime.date.today().isoformat(),
        "card": torch.cuda.get_device_name(0),
        "sm_count": p.multi_processor_count,
        "memory_bytes": p.total_memory,
        "compute_capability": f"{p.major}.{p.minor}",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cusparselt": getattr(torch.backends, "cusparselt", None) and torch.backends.cusparselt.version(),
        "method": __doc__.strip().splitlines()[-2].strip(),
    }
    for key, fn in (("bandwidth", bandwidth_section), ("gemm", gemm_section), ("sparse_2_4", sparse_section)):
        try:
            result[key] = fn()
        except Exception as e:
            result[key] = [{"error": repr(e)[:500]}]
        with open(path, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
        print(key, "done", flush=True)
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}, indent=1))


if __name__ == "__main__":
    main()
