#!/usr/bin/env python3
"""Check closed-form SCALE-Sim v3.0.0 formulas against scalesim_v3.json.

Every number below is computed from the layer dims and the array dims alone
(plus the SRAM size for the prefetch-inclusive total, see below) and compared
with what SCALE-Sim reported. Plain Python 3, no dependencies:

    python3 check_closed_forms.py [path/to/scalesim_v3.json]

Closed forms (R = array rows, C = array cols, ceil = ceiling division)
----------------------------------------------------------------------
Layer -> (P, N, W):
  conv: OH = ceil((H - FH + s) / s), OW = ceil((W - FW + s) / s)   # ceil, not floor!
        P = OH * OW (ofmap pixels per filter), N = num_filters, W = FH * FW * C
  gemm (M, N, K): SCALE-Sim turns it into conv H=M, W=K, FH=1, FW=K, C=1,
        N filters, stride 1  ->  P = M, N = N, W = K
  MACs = P * N * W

Dataflow -> (Sr, Sc, T) (spatial rows, spatial cols, temporal):
  os: Sr = P, Sc = N, T = W
  ws: Sr = W, Sc = N, T = P          (T = streaming dimension = ofmap pixels)
  is: Sr = W, Sc = P, T = N          (T = streaming dimension = filters)

Folds: row_fold = ceil(Sr/R), col_fold = ceil(Sc/C), F = row_fold * col_fold
Cycles per fold (demand-matrix lines per fold):
  os: L = T + R + C - 2
  ws, is: L = T + 2R + C - 2
total_cycles ("Total Cycles") = F * L - 1
overall_util_pct = 100 * MACs / (total_cycles * R * C)
mapping_efficiency_pct = 100 * mean over folds (used_rows*used_cols)/(R*C)
                       = 100 * Sr * Sc / (F * R * C)
compute_util_pct = 100 * mean over folds used_rows*used_cols*T/(R*C*Lc)
                 = 100 * Sr * Sc * T / (F * R * C * Lc)
  with Lc = L (os) and Lc = L + C - 1 = T + 2R + 2C - 3 (ws, is)
SRAM access counts (DETAILED_ACCESS_REPORT):
  os: ifmap = col_fold*Sr*T, filter = row_fold*Sc*T, ofmap = Sr*Sc + F*(R+C)
  ws: ifmap = col_fold*Sr*T, filter = Sr*Sc,         ofmap = row_fold*Sc*T
  is: ifmap = Sr*Sc,         filter = col_fold*Sr*T, ofmap = row_fold*Sc*T
"Total Cycles (incl. prefetch)" (artifact of CALC mode and the SRAM size; valid
while each operand's distinct addresses < floor(sram_bytes/100) and the OFMAP
writes < sram_bytes/2):
  total_cycles + ceil(ofmap_dram_writes / C) - 1 + ceil(floor(sram_bytes/100) / 10)
  with ofmap_dram_writes = P*N (os) or row_fold*P*N (ws, is)
"""

import json
import math
import os
import sys

REL_TOL = 1e-9


def cdiv(a, b):
    return -(-a // b)


def layer_pnw(layer):
    if layer["type"] == "gemm":
        return layer["m"], layer["n"], layer["k"]
    s = layer["stride"]
    oh = cdiv(layer["ifmap_h"] - layer["filter_h"] + s, s)
    ow = cdiv(layer["ifmap_w"] - layer["filter_w"] + s, s)
    window = layer["filter_h"] * layer["filter_w"] * layer["channels"]
    return oh * ow, layer["num_filters"], window


def closed_form(case, sram_kb):
    R, C, df = case["rows"], case["cols"], case["dataflow"]
    P, N, W = layer_pnw(case["layer"])
    Sr, Sc, T = {"os": (P, N, W), "ws": (W, N, P), "is": (W, P, N)}[df]
    row_fold, col_fold = cdiv(Sr, R), cdiv(Sc, C)
    F = row_fold * col_fold
    if df == "os":
        L = T + R + C - 2
        Lc = L
    else:
        L = T + 2 * R + C - 2
        Lc = L + C - 1
    total = F * L - 1
    macs = P * N * W
    out = {
        "total_cycles": total,
        "stall_cycles": 0,
        "overall_util_pct": 100.0 * macs / (total * R * C),
        "mapping_efficiency_pct": 100.0 * Sr * Sc / (F * R * C),
        "compute_util_pct": 100.0 * Sr * Sc * T / (F * R * C * Lc),
    }
    if df == "os":
        out["ifmap_sram_reads"] = col_fold * Sr * T
        out["filter_sram_reads"] = row_fold * Sc * T
        out["ofmap_sram_writes"] = Sr * Sc + F * (R + C)
        ofmap_dram_writes = P * N
    elif df == "ws":
        out["ifmap_sram_reads"] = col_fold * Sr * T
        out["filter_sram_reads"] = Sr * Sc
        out["ofmap_sram_writes"] = row_fold * Sc * T
        ofmap_dram_writes = row_fold * P * N
    else:
        out["ifmap_sram_reads"] = Sr * Sc
        out["filter_sram_reads"] = col_fold * Sr * T
        out["ofmap_sram_writes"] = row_fold * Sc * T
        ofmap_dram_writes = row_fold * P * N
    items_per_set = (sram_kb * 1024) // 100
    out["total_cycles_incl_prefetch"] = (
        total + cdiv(ofmap_dram_writes, C) - 1 + cdiv(items_per_set, 10))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "scalesim_v3.json")
    with open(path) as f:
        doc = json.load(f)
    settings = doc["settings"]
    assert settings["ifmap_sram_kb"] == settings["filter_sram_kb"]
    sram_kb = settings["ifmap_sram_kb"]
    failures = 0
    for case in doc["cases"]:
        want = case["results"]
        got = closed_form(case, sram_kb)
        for key, value in got.items():
            if key not in want:
                continue
            ref = want[key]
            if isinstance(value, int):
                ok = value == ref
            else:
                ok = math.isclose(value, ref, rel_tol=REL_TOL, abs_tol=0.0)
            if not ok:
                failures += 1
                print("MISMATCH %s %s: closed form %r, SCALE-Sim %r"
                      % (case["id"], key, value, ref))
    n = len(doc["cases"])
    if failures:
        print("FAILED: %d mismatches over %d cases" % (failures, n))
        sys.exit(1)
    print("OK: closed forms match SCALE-Sim %s on all %d cases"
          % (doc["scalesim_version"], n))


if __name__ == "__main__":
    main()
