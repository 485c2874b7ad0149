#!/usr/bin/env python3
"""Regenerate the SCALE-Sim v3 reference fixtures (scalesim_v3.json) for Tessera.

Reference simulator
-------------------
SCALE-Sim version 3.0.0, installed from PyPI as the package `scalesim`
(https://github.com/scalesim-project/scale-sim-v3). SCALE-Sim is *invoked*
through its Python API (`scalesim.scale_sim.scalesim`); none of its code is
copied here.

How to run
----------
    python3 -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install 'numpy<2' scalesim==3.0.0
    /tmp/scalesim-venv/bin/python generate.py            # rewrites scalesim_v3.json
    /tmp/scalesim-venv/bin/python generate.py --timing   # rewrites timing.json only
    /tmp/scalesim-venv/bin/python check_closed_forms.py  # checks the closed forms

Cases run sequentially (one SCALE-Sim run at a time, one layer per run); the
whole fixture takes about a minute on a 2-core machine.

Settings (written into a temporary scale.cfg for every case)
------------------------------------------------------------
* InterfaceBandwidth = CALC (SCALE-Sim's bandwidth-estimation mode): the DRAM
  interface never stalls the array; the generator asserts Stall Cycles == 0
  for every case.
* IFMAP / filter / OFMAP SRAM: 4096 kB each (ample for every case).
* Word size: 1 byte (hard-coded in SCALE-Sim 3.0.0).
* Offsets: IFMAP 0, filter 10000000, OFMAP 20000000 (SCALE-Sim defaults).
* Read/write request buffers: 32 (unused in CALC mode).
* No sparsity (SparsitySupport = false), no custom layouts
  (IfmapCustomLayout = FilterCustomLayout = False; a header-only layout file
  is passed because SCALE-Sim requires one), no Ramulator traces.
* Traces are not written (save_disk_space=True), verbose=False.
* Conv layers are given as-is (no padding); GEMMs use SCALE-Sim's MNK input
  mode (`input_type_gemm=True`, topology rows "name, M, N, K,").

Output
------
scalesim_v3.json: {"generator", "scalesim_version", "settings", "cases"}; each
case holds id, dataflow, rows, cols, layer and results (numbers exactly as
SCALE-Sim wrote them in COMPUTE_REPORT.csv / DETAILED_ACCESS_REPORT.csv).
The case list is fixed plus seeded random picks (seed below), so the output is
deterministic (keys sorted, case order stable).
"""

import argparse
import contextlib
import datetime
import importlib.metadata
import io
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time

from scalesim.scale_sim import scalesim

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "scalesim_v3.json")
TIMING = os.path.join(HERE, "timing.json")

SCALESIM_VERSION = "3.0.0"
SEED = 20240611
SRAM_KB = 4096
OFFSETS = (0, 10000000, 20000000)
REQ_BUF = 32
# Budget cap per case: SCALE-Sim walks its demand matrices line by line
# (~50 us per line here), so keep every case below this many demand lines.
MAX_LINES = 80000

DATAFLOWS = ("os", "ws", "is")
ARRAYS = [(4, 4), (8, 8), (16, 16), (4, 8), (8, 4), (3, 5), (16, 4),
          (1, 8), (8, 1), (1, 1), (2, 3)]

CONFIG_TEMPLATE = """[general]
run_name = case

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = {sram_kb}
FilterSramSzkB = {sram_kb}
OfmapSramSzkB = {sram_kb}
IfmapOffset = {ifmap_off}
FilterOffset = {filter_off}
OfmapOffset = {ofmap_off}
Dataflow = {dataflow}
ReadRequestBuffer = {req_buf}
WriteRequestBuffer = {req_buf}

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False
"""

SETTINGS = {
    "interface_bandwidth": "CALC",
    "ifmap_sram_kb": SRAM_KB,
    "filter_sram_kb": SRAM_KB,
    "ofmap_sram_kb": SRAM_KB,
    "word_size_bytes": 1,
    "ifmap_offset": OFFSETS[0],
    "filter_offset": OFFSETS[1],
    "ofmap_offset": OFFSETS[2],
    "read_request_buffer": REQ_BUF,
    "write_request_buffer": REQ_BUF,
    "sparsity": False,
    "custom_layout": False,
    "ramulator_trace": False,
    "padding": "none (conv ifmap dims used as given)",
    "gemm_input_mode": "SCALE-Sim MNK topology (input_type_gemm=True)",
    "random_seed": SEED,
}


# --------------------------------------------------------------------------
# Case list
# --------------------------------------------------------------------------
def gemm(m, n, k):
    return {"type": "gemm", "m": m, "n": n, "k": k}


def conv(h, w, fh, fw, c, nf, s):
    return {"type": "conv", "ifmap_h": h, "ifmap_w": w, "filter_h": fh,
            "filter_w": fw, "channels": c, "num_filters": nf, "stride": s}


def layer_dims(layer):
    """(ofmap pixels, filters, window) as SCALE-Sim sees them (budget only)."""
    if layer["type"] == "gemm":
        return layer["m"], layer["n"], layer["k"]
    s = layer["stride"]
    oh = -(-(layer["ifmap_h"] - layer["filter_h"] + s) // s)
    ow = -(-(layer["ifmap_w"] - layer["filter_w"] + s) // s)
    return (oh * ow, layer["num_filters"],
            layer["filter_h"] * layer["filter_w"] * layer["channels"])


def demand_lines(layer, rows, cols, df):
    """Rough number of demand-matrix lines SCALE-Sim walks (run-time budget)."""
    px, nf, win = layer_dims(layer)
    sr, sc, t = {"os": (px, nf, win), "ws": (win, nf, px),
                 "is": (win, px, nf)}[df]
    folds = math.ceil(sr / rows) * math.ceil(sc / cols)
    per_fold = t + rows + cols if df == "os" else t + 2 * rows + cols
    return folds * per_fold


def affordable(layer, rows, cols):
    return max(demand_lines(layer, rows, cols, df) for df in DATAFLOWS) <= MAX_LINES


def random_gemm(rng, rows, cols):
    while True:
        layer = gemm(rng.randint(1, 70), rng.randint(1, 70), rng.randint(1, 70))
        if affordable(layer, rows, cols):
            return layer


def random_conv(rng, rows, cols):
    while True:
        h, w = rng.randint(3, 16), rng.randint(3, 16)
        f = rng.choice([k for k in (1, 3, 5) if k <= min(h, w)])
        layer = conv(h, w, f, f, rng.randint(1, 16), rng.randint(1, 24),
                     rng.choice((1, 2)))
        if affordable(layer, rows, cols):
            return layer


# Hand-picked extra layers for particular arrays (edge cases).
SPECIALS = {
    (4, 4): [gemm(1, 1, 1), gemm(1, 70, 1)],      # K = 1: one-cycle stream
    (8, 8): [conv(8, 8, 3, 3, 2, 3, 2)],          # (H-R) odd, stride 2: ceil ofmap
    (16, 16): [conv(15, 16, 3, 3, 8, 17, 2)],     # ceil ofmap along W only
    (1, 1): [gemm(3, 2, 1)],  # (gemm(1,1,1) OS on 1x1 would divide by 0 cycles)
}

def build_cases():
    rng = random.Random(SEED)
    cases = []
    seen = set()
    for rows, cols in ARRAYS:
        layers = [
            # smaller than the array in both spatial dims (or 1 for 1-wide)
            gemm(max(1, (rows + 1) // 2), max(1, (cols + 1) // 2), 3),
            # exact multiples of the array dims
            gemm(2 * rows, 3 * cols, 8) if rows * cols > 1 else gemm(2, 3, 8),
            random_gemm(rng, rows, cols),
            random_conv(rng, rows, cols),
            random_conv(rng, rows, cols),
        ] + SPECIALS.get((rows, cols), [])
        for layer in layers:
            for df in DATAFLOWS:
                cid = case_id(df, rows, cols, layer)
                if cid in seen:
                    continue
                seen.add(cid)
                cases.append({"id": cid, "dataflow": df, "rows": rows,
                              "cols": cols, "layer": layer})
    return cases


def case_id(df, rows, cols, layer):
    if layer["type"] == "gemm":
        ld = "gemm_m{m}_n{n}_k{k}".format(**layer)
    else:
        ld = ("conv_{ifmap_h}x{ifmap_w}_f{filter_h}x{filter_w}_c{channels}"
              "_n{num_filters}_s{stride}").format(**layer)
    return "{}_{}x{}_{}".format(df, rows, cols, ld)


# --------------------------------------------------------------------------
# Running SCALE-Sim
# --------------------------------------------------------------------------
def parse_number(text):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def read_report(path):
    with open(path) as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    header = [h.strip() for h in lines[0].split(",") if h.strip()]
    rows = []
    for ln in lines[1:]:
        vals = [v for v in ln.split(",") if v.strip()]
        rows.append({h: parse_number(v) for h, v in zip(header, vals)})
    return rows


def run_scalesim(workdir, df, rows, cols, layer):
    cfg = os.path.join(workdir, "scale.cfg")
    topo = os.path.join(workdir, "topology.csv")
    layout = os.path.join(workdir, "layout.csv")
    with open(cfg, "w") as f:
        f.write(CONFIG_TEMPLATE.format(
            rows=rows, cols=cols, sram_kb=SRAM_KB, ifmap_off=OFFSETS[0],
            filter_off=OFFSETS[1], ofmap_off=OFFSETS[2], dataflow=df,
            req_buf=REQ_BUF))
    with open(layout, "w") as f:
        f.write("Layer name, unused,\n")  # header only: custom layouts are off
    with open(topo, "w") as f:
        if layer["type"] == "gemm":
            f.write("Layer, M, N, K,\n")
            f.write("layer0, {m}, {n}, {k},\n".format(**layer))
        else:
            f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, "
                    "Filter Width, Channels, Num Filter, Strides,\n")
            f.write("layer0, {ifmap_h}, {ifmap_w}, {filter_h}, {filter_w}, "
                    "{channels}, {num_filters}, {stride},\n".format(**layer))
    out = os.path.join(workdir, "out")
    sim = scalesim(save_disk_space=True, verbose=False, config=cfg,
                   topology=topo, layout=layout,
                   input_type_gemm=(layer["type"] == "gemm"))
    # SCALE-Sim prints a few lines even with verbose=False; keep stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        sim.run_scale(top_path=out)
        elapsed = time.perf_counter() - t0
    report_dir = os.path.join(out, "case")
    compute = read_report(os.path.join(report_dir, "COMPUTE_REPORT.csv"))
    detail = read_report(os.path.join(report_dir, "DETAILED_ACCESS_REPORT.csv"))
    assert len(compute) == 1 and len(detail) == 1
    return compute[0], detail[0], elapsed


def results_from_reports(compute, detail):
    res = {
        "total_cycles_incl_prefetch": compute["Total Cycles (incl. prefetch)"],
        "total_cycles": compute["Total Cycles"],
        "stall_cycles": compute["Stall Cycles"],
        "overall_util_pct": compute["Overall Util %"],
        "mapping_efficiency_pct": compute["Mapping Efficiency %"],
        "compute_util_pct": compute["Compute Util %"],
        "ifmap_sram_reads": detail["SRAM IFMAP Reads"],
        "filter_sram_reads": detail["SRAM Filter Reads"],
        "ofmap_sram_writes": detail["SRAM OFMAP Writes"],
    }
    for key in ("total_cycles_incl_prefetch", "total_cycles", "stall_cycles",
                "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes"):
        assert isinstance(res[key], int), (key, res[key])
    return res


def generate():
    version = importlib.metadata.version("scalesim")
    assert version == SCALESIM_VERSION, "need scalesim==%s, found %s" % (
        SCALESIM_VERSION, version)
    cases = build_cases()
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scalesim_fixtures_") as tmp:
        for i, case in enumerate(cases):
            workdir = os.path.join(tmp, "case%04d" % i)
            os.mkdir(workdir)
            compute, detail, elapsed = run_scalesim(
                workdir, case["dataflow"], case["rows"], case["cols"],
                case["layer"])
            case["results"] = results_from_reports(compute, detail)
            assert case["results"]["stall_cycles"] == 0, case["id"]
            print("[%3d/%d] %-50s cycles=%-7d %.2fs" % (
                i + 1, len(cases), case["id"], case["results"]["total_cycles"],
                elapsed), file=sys.stderr)
    print("total %.1fs for %d cases" % (time.perf_counter() - t_start,
                                          len(cases)), file=sys.stderr)
    doc = {
        "generator": "Tests/TesseraModelTests/Fixtures/scalesim/generate.py",
        "scalesim_version": version,
        "settings": SETTINGS,
        "cases": cases,
    }
    with open(FIXTURE, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s" % FIXTURE, file=sys.stderr)


# --------------------------------------------------------------------------
# Timing (speed reference for Tessera)
# --------------------------------------------------------------------------
def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def timing():
    runs = []
    for (m, n, k), (rows, cols) in (((64, 64, 64), (8, 8)),
                                    ((512, 512, 512), (32, 32))):
        with tempfile.TemporaryDirectory(prefix="scalesim_timing_") as tmp:
            compute, _, elapsed = run_scalesim(tmp, "os", rows, cols,
                                               gemm(m, n, k))
        assert compute["Stall Cycles"] == 0
        print("gemm %dx%dx%d on %dx%d os: %.2fs (total cycles %d)" % (
            m, n, k, rows, cols, elapsed, compute["Total Cycles"]),
            file=sys.stderr)
        runs.append({
            "dataflow": "os", "rows": rows, "cols": cols,
            "layer": gemm(m, n, k),
            "wall_seconds": round(elapsed, 2),
            "total_cycles": compute["Total Cycles"],
            "overall_util_pct": compute["Overall Util %"],
        })
    doc = {
        "what": "wall-clock seconds of one SCALE-Sim run_scale() call "
                "(simulation + report writing, traces off, verbose off), "
                "measured once each, same settings as scalesim_v3.json",
        "scalesim_version": importlib.metadata.version("scalesim"),
        "settings": SETTINGS,
        "date": datetime.date.today().isoformat(),
        "nproc": int(subprocess.check_output(["nproc"]).decode().strip()),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "runs": runs,
    }
    with open(TIMING, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s" % TIMING, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timing", action="store_true",
                    help="time two larger OS GEMMs and write timing.json "
                         "instead of the fixture")
    args = ap.parse_args()
    if args.timing:
        timing()
    else:
        generate()


if __name__ == "__main__":
    main()
