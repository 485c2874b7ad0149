#!/usr/bin/env python3
"""make validate: Tessera against published measurements (validation/*/cases.yaml).

Each suite folder holds a cases.yaml (source, threshold, an optional target, hardware, cases with
the published figure: a time, or an achieved teraFLOP/s per GPU turned into a step time by the
source's FLOP count) and the workloads it names (a case may name its own hardware). For every row this runs `tessera simulate`, prints the
predicted and published figures and the signed error, each source's mean absolute error, and a
summary; it draws predicted vs published as validation/out/predicted-vs-published.svg. It exits 1
when a row's error is beyond its suite's threshold (CI runs it), 2 on a setup error.

A suite with `threshold: none` is reported, not gated: its rows are printed, their misses of its
`target` listed, and none fails the run. A single case with `gated: false` in a gated suite is
reported the same way: it is run, printed (flagged "reported", not "OVER", when beyond the
threshold), drawn in the SVG against the suite's threshold and counted in the summary's reported
rows, its miss listed there as reported; it is left out of the suite's mean (printed apart) and of
the gated rows' mean, and it never fails the run. It is for a row beyond its threshold for a
reason not yet modeled, which the suite's cases.yaml says.

Usage: scripts/validate.py [--tessera PATH] [--out DIR]
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))


def load_cases(path):
    """A small reader for cases.yaml's flat form (key: value lines and one-line {…} case maps)."""
    suite, cases = {}, []
    for raw in open(path, encoding="utf-8"):
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("- {") else raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.lstrip().startswith("- {"):
            body = line.strip()[3:].rstrip("}")
            case = {}
            for part in split_top(body):
                k, v = part.split(":", 1)
                v = v.strip()
                case[k.strip()] = v[1:-1] if v.startswith('"') else (float(v) if is_number(v) else v)
            cases.append(case)
        elif ":" in line and not line.startswith(" "):
            k, v = line.split(":", 1)
            suite[k.strip()] = v.strip()
    suite["cases"] = cases
    return suite


def split_top(body):
    parts, quoted, cur = [], False, ""
    for ch in body:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def is_number(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


def megatron_flops(case, suite):
    """FLOPs of one training iteration as Narayanan et al. (SC21) count them, their Eq. (3), with
    full activation recomputation: 96 B s l h^2 (1 + s / (6 h) + V / (16 l h))."""
    b, l, h = float(case["batch"]), float(case["layers"]), float(case["hidden"])
    s, v = float(suite.get("seq", 2048)), float(suite.get("vocab", 51200))
    return 96 * b * s * l * h * h * (1 + s / (6 * h) + v / (16 * l * h))


def published_ms(case, suite):
    """The published figure as a time in milliseconds: a latency as it is, a step time from an
    achieved teraFLOP/s per GPU (metric: step_s_from_tflops), or from tokens per second per GPU
    (metric: step_s_from_tokens: batch x seq / (tokens/s/GPU x GPUs))."""
    if suite.get("metric") == "step_s_from_tokens":
        tokens = float(case["batch"]) * float(case["seq"])
        return tokens / (float(case["published_tokens_per_s_per_gpu"]) * float(case["gpus"])) * 1e3
    if suite.get("metric") == "step_s_from_tflops":
        return megatron_flops(case, suite) / (float(case["published_tflops_per_gpu"]) * 1e12 * float(case["gpus"])) * 1e3
    if suite.get("metric") == "collective_time":
        if "published_us" in case:
            return float(case["published_us"]) / 1e3
        # nccl-tests' bus bandwidth back to a time: t = S x factor / busbw (all-reduce factor 2(n-1)/n).
        n = float(case["ranks"])
        factor = 2 * (n - 1) / n if case.get("op", "all-reduce") == "all-reduce" else (n - 1) / n
        return float(case["bytes"]) * factor / (float(case["published_busbw_gbps"]) * 1e9) * 1e3
    return float(case["published_ms"])


def predicted_ms(report, case, suite):
    """Tessera's figure in milliseconds: the run's time, or for metric collective_time the time of
    the collective of the case's size in a microbenchmark."""
    if suite.get("metric") == "collective_time":
        for c in report.get("collectives", []):
            if c["bytes"] == int(case["bytes"]):
                return c["seconds"] * 1e3
        raise RuntimeError(f"{case['row']}: no collective of {int(case['bytes'])} B in the report")
    return report["seconds"] * 1e3


def simulate(tessera, hardware, workload, out):
    r = subprocess.run([tessera, "simulate", hardware, workload, "-o", out, "--quiet", "--force"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{workload}: tessera exited {r.returncode}: {r.stderr.strip()}")
    reports = sorted(glob.glob(os.path.join(out, "*.json")))
    name = os.path.splitext(os.path.basename(workload))[0]
    for rep in reports:
        data = json.load(open(rep))
        if data.get("workload") == name or os.path.basename(rep).startswith(name + "--"):
            return data
    raise RuntimeError(f"{workload}: no report written in {out}")


def svg(rows, path):
    w, h, pad = 520, 520, 60
    values = [v for r in rows for v in (r["predicted"], r["published"]) if v > 0]
    lo, hi = math.log10(min(values)) - 0.2, math.log10(max(values)) + 0.2
    def xy(p, m):
        return pad + (math.log10(m) - lo) / (hi - lo) * (w - 2 * pad), h - pad - (math.log10(p) - lo) / (hi - lo) * (h - 2 * pad)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{w/2}" y="24" text-anchor="middle" font-size="14">Tessera vs published (log-log, ms)</text>']
    x0, y0 = xy(10 ** lo, 10 ** lo)
    x1, y1 = xy(10 ** hi, 10 ** hi)
    out.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="#999" stroke-dasharray="4 3"/>')
    for f, label in ((1.25, "+25%"), (0.8, "−20%")):
        a, b = xy(10 ** lo * f, 10 ** lo), xy(10 ** hi * f, 10 ** hi)
        out.append(f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{b[0] - 4:.1f}" y="{b[1] + (12 if f > 1 else -4):.1f}" text-anchor="end" fill="#aaa">{label}</text>')
    decade = math.floor(lo)
    while decade <= hi:
        if decade >= lo:
            x, _ = xy(10 ** lo, 10 ** decade)
            _, y = xy(10 ** decade, 10 ** lo)
            out.append(f'<text x="{x:.1f}" y="{h - pad + 16}" text-anchor="middle">{10 ** decade:g}</text>')
            out.append(f'<text x="{pad - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** decade:g}</text>')
        decade += 1
    out.append(f'<text x="{w/2}" y="{h - 20}" text-anchor="middle">published (ms)</text>')
    out.append(f'<text x="16" y="{h/2}" text-anchor="middle" transform="rotate(-90 16 {h/2})">Tessera (ms)</text>')
    placed = []
    for r in sorted(rows, key=lambda r: -r["predicted"]):
        x, y = xy(r["predicted"], r["published"])
        colour = "#1b7837" if abs(r["error"]) <= min(r["threshold"], r.get("target") or math.inf) else "#b2182b"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"><title>{r["row"]}: {r["predicted"]:.3g} vs {r["published"]:.3g} ms ({r["error"]:+.1%})</title></circle>')
        # Labels to the left of points in the right half, at the nearest free line above or below
        # inside the plot; a point with no free line keeps only its tooltip.
        right = x > w / 2
        side = [q for q in placed if q[1] == right]
        ly = None
        for k in range(0, 9):
            for cand in ((y - 6 - 13 * (k // 2 + k % 2)) if k % 2 else (y - 6 + 13 * (k // 2)),):
                if 36 <= cand <= h - pad - 4 and not any(abs(cand - q[0]) < 13 for q in side):
                    ly = cand
                    break
            if ly is not None:
                break
        if ly is None:
            continue
        placed.append((ly, right))
        label = f'{r["row"]} {r["error"]:+.0%}'
        out.append(f'<text x="{x - 8 if right else x + 8:.1f}" y="{ly:.1f}" text-anchor="{"end" if right else "start"}" fill="#333">{label}</text>')
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tessera", default=os.path.join(ROOT, ".build", "debug", "tessera"))
    ap.add_argument("--out", default=os.path.join(ROOT, "validation", "out"))
    args = ap.parse_args()
    if not os.access(args.tessera, os.X_OK):
        print(f"validate: no tessera at {args.tessera} (swift build first)", file=sys.stderr)
        return 2
    rows, failed = [], False
    for cases_path in sorted(glob.glob(os.path.join(ROOT, "validation", "*", "cases.yaml"))):
        suite = load_cases(cases_path)
        folder = os.path.dirname(cases_path)
        # threshold: none reports a suite without gating CI (its misses are printed, not failed).
        gated = suite.get("threshold", "25%") != "none"
        threshold = float(suite.get("threshold", "25%").rstrip("%")) / 100 if gated else math.inf
        scale, unit = (1e3, "us") if suite.get("unit") == "us" else (1.0, "ms")
        target = float(suite["target"].rstrip("%")) / 100 if "target" in suite else None
        hardware = os.path.normpath(os.path.join(folder, suite["hardware"]))
        limits = (f"threshold ±{threshold:.0%}" if gated else "reported, not gated") + (f", target ±{target:.0%}" if target is not None else "")
        print(f"\n{suite.get('source', os.path.basename(folder))} ({limits})")
        print(f"  {'row':<28} {'Tessera ' + unit:>11} {'published':>10} {'error':>8}")
        errors, missed, reported = [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for case in suite["cases"]:
                # A case may name its own hardware (a cluster of its size).
                case_hw = os.path.normpath(os.path.join(folder, case["hardware"])) if "hardware" in case else hardware
                report = simulate(args.tessera, case_hw, os.path.join(folder, case["workload"]), tmp)
                predicted = predicted_ms(report, case, suite)
                published = published_ms(case, suite)
                error = predicted / published - 1
                # gated: false reports one row of a gated suite without letting it fail the run.
                case_gated = gated and str(case.get("gated", "true")).lower() != "false"
                over = abs(error) > threshold
                miss = target is not None and abs(error) > target
                if gated and not case_gated:
                    reported.append(error)
                else:
                    errors.append(error)
                    failed |= over
                    if miss:
                        missed.append(case["row"])
                rows.append({"row": case["row"], "predicted": predicted, "published": published, "error": error, "threshold": threshold, "target": target, "gated": case_gated})
                flag = ("  OVER" if case_gated else "  reported") if over else ("  misses target" if miss else "")
                print(f"  {case['row']:<28} {predicted * scale:11.3f} {published * scale:10.3f} {error:+8.1%}{flag}")
        if errors:
            mean = sum(abs(e) for e in errors) / len(errors)
            worst = max(errors, key=abs)
            print(f"  mean |error| {mean:.1%}, mean signed {sum(errors) / len(errors):+.1%}, worst {worst:+.1%}")
        if reported:
            print(f"  {len(reported)} reported rows not gated (gated: false): mean |error| {sum(abs(e) for e in reported) / len(reported):.1%}, worst {max(reported, key=abs):+.1%}")
        if target is not None:
            print(f"  target ±{target:.0%}: {len(errors) - len(missed)} of {len(errors)} rows within" + (f"; missed by {', '.join(missed)}" if missed else ""))
    os.makedirs(args.out, exist_ok=True)
    svg(rows, os.path.join(args.out, "predicted-vs-published.svg"))
    total = sum(abs(r["error"]) for r in rows) / len(rows)
    gated_rows = [r for r in rows if r["gated"]]
    bad = [r["row"] for r in gated_rows if abs(r["error"]) > r["threshold"]]
    # Rows of a gated suite marked gated: false, beyond its threshold: listed, not failed.
    reported_bad = [r["row"] for r in rows if not r["gated"] and abs(r["error"]) > r["threshold"]]
    gated_mean = sum(abs(r["error"]) for r in gated_rows) / max(1, len(gated_rows))
    print(f"\nsummary: {len(gated_rows)} gated rows, mean |error| {gated_mean:.1%}, {len(bad)} beyond threshold{': ' + ', '.join(bad) if bad else ''}"
          + (f"; {len(rows) - len(gated_rows)} reported rows not gated (all rows: mean |error| {total:.1%})" if len(rows) > len(gated_rows) else "")
          + (f"; reported beyond threshold: {', '.join(reported_bad)}" if reported_bad else ""))
    print(f"wrote {os.path.relpath(os.path.join(args.out, 'predicted-vs-published.svg'), ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"validate: {e}", file=sys.stderr)
        sys.exit(2)
