#!/usr/bin/env python3
"""Seeded, time-boxed fuzzing of Tessera's command line with mutated bundled inputs.

Each run takes one bundled (hardware, workload) pair, mutates one of the two files (numbers replaced
by 0, -1, 2^63, 2^63-1, 2^32+1, NaN, +-inf, 1e+-30; units swapped; lines deleted, duplicated and
re-indented; odd YAML; long strings; whole-file oddities) and runs `tessera validate HW WL` and
`tessera simulate HW WL` on it, each in its own subprocess with a time budget. Bundled sweeps are
mutated and validated the same way.

Outcomes per run: `ok` (exit 0), `located` (exit 2 with a file:line:column diagnostic) and `refused`
(exit 2 from a documented refusal that has a location), which pass; and the failures: `signal` (a
trap or any other signal), `timeout` (over the budget), `unlocated` (exit 2 without
file:line:column), `status` (any other exit status), and `mismatch` (validate said ok to a pair
that simulate rejected as bad input).

    scripts/fuzz.py [--seconds S] [--runs N] [--seed K] [--jobs J] [--budget SECONDS] [--tessera PATH]
                    [--keep DIR] [--quick]

Exits 0 when every run passed, 1 when any failed (each failure is printed with its input, which
--keep DIR also saves), 2 on a setup error. The corpus is generated here from the bundled files; no
mutated file is kept in the repository.
"""
import argparse
import concurrent.futures as futures
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Pairs that run in well under a second each in a release build, one or more per family and
# workload shape; the mutations reach every section these files have.
PAIRS = [
    ("configs/array/scalesim-32x32-os.yaml", "traces/gemm-512.yaml"),
    ("configs/array/tpu-128x128-os.yaml", "traces/small-cnn.yaml"),
    ("configs/array/scalesim-32x32-ws.yaml", "traces/kws-dscnn-b1.yaml"),
    ("configs/array/tpu-128x128-is.yaml", "traces/bert-base-s128-b1.yaml"),
    ("configs/array/ideal-32x32-os.yaml", "traces/mobilenetv2-b1.yaml"),
    ("configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml"),
    ("configs/edge/phone-soc.yaml", "traces/kws-dscnn-b1.yaml"),
    ("configs/edge/edge-tpu.yaml", "traces/small-cnn.yaml"),
    ("configs/edge/mcu-npu.yaml", "traces/sparcl-kws-continual.yaml"),
    ("configs/gpu/ring-8.yaml", "traces/ar-sweep.yaml"),
    ("configs/gpu/dgx-h100-x1.yaml", "traces/a2a-sweep.yaml"),
    ("configs/gpu/dgx-h100-x1.yaml", "traces/ar-auto.yaml"),
    ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml"),
    ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-colocated.yaml"),
    ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-disaggregated.yaml"),
]
# The pairs `--quick` uses (make test runs a debug build, about ten times slower than release).
QUICK = [p for p in PAIRS if "bert" not in p[1] and "mobilenet" not in p[1] and "llama3-8b-train" not in p[1]]
SWEEPS = ["sweeps/array-design-space.yaml", "sweeps/sat-design-space.yaml",
          "sweeps/llama3-8b-layouts.yaml", "sweeps/llama3-8b-serving-placement.yaml"]

NUMBERS = ["0", "-1", "9223372036854775808", "9223372036854775807", "4294967297", "18446744073709551615",
           ".nan", "nan", "NaN", ".inf", "-.inf", "inf", "1e30", "1e-30", "1e300", "0.001", "1000000000",
           "100000", "65536", "1.5", "-0", "0x10", "1_000_000"]
UNITS = ["B", "KiB", "MiB", "GiB", "TB", "b", "Gb", "B/s", "GB/s", "Gb/s", "TB/s", "Hz", "kHz", "GHz",
         "s", "ms", "us", "ns", "ps", "J", "pJ", "fJ", "W", "mW", "kW", "B/cycle", "V", "mV", "furlongs"]
ODD = ["&a x", "*a", "{", "[", "]", "\t", "---", ": :", "? x", "!!binary AAAA", "~", "null", "''", "\"\\u0000\"",
       "[[[[[[[[]]]]]]]]", "{a: {b: {c: {}}}}", "- - -", "|", ">"]
NUMBER_RE = re.compile(r"(?<![A-Za-z_])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
UNIT_RE = re.compile(r"(?<=\d )(KiB|MiB|GiB|TiB|KB|MB|GB|TB|B/s|GB/s|Gb/s|TB/s|MB/s|Hz|kHz|MHz|GHz|ms|us|ns|ps|pJ|fJ|nJ|mW|W|B/cycle|B|s|V|mV)\b")
LOCATED_RE = re.compile(r":\d+:\d+: error:")


def mutate(text, rng):
    """One mutation of a YAML text, and a short name for it."""
    lines = text.split("\n")
    family = rng.choice(["number", "number", "number", "number", "unit", "delete", "duplicate", "indent",
                         "odd", "string", "scalar", "whole"])
    idx = [i for i, l in enumerate(lines) if l.strip() and not l.lstrip().startswith("#")]
    if not idx:
        return text, "none"
    i = rng.choice(idx)
    line = lines[i]
    if family in ("number", "unit"):
        # One token of the line (a number, or the unit after a number) replaced.
        pattern, choices = (NUMBER_RE, NUMBERS) if family == "number" else (UNIT_RE, UNITS)
        hits = list(pattern.finditer(line))
        if not hits:
            return mutate(text, rng)
        m = rng.choice(hits)
        value = rng.choice(choices)
        lines[i] = line[:m.start()] + value + line[m.end():]
        return "\n".join(lines), f"{family}:{i + 1}:{value}"
    if family == "delete":
        del lines[i]
        return "\n".join(lines), f"delete:{i + 1}"
    if family == "duplicate":
        lines.insert(i, line)
        return "\n".join(lines), f"duplicate:{i + 1}"
    if family == "indent":
        if rng.random() < 0.5:
            lines[i] = "  " + line
        else:
            lines[i] = line[2:] if line.startswith("  ") else line.lstrip()
        return "\n".join(lines), f"indent:{i + 1}"
    if family == "odd":
        token = rng.choice(ODD)
        cut = rng.randrange(len(line) + 1)
        lines[i] = line[:cut] + token + line[cut:]
        return "\n".join(lines), f"odd:{i + 1}"
    if family == "string":
        m = re.search(r"(:\s*)([^\s,{}\[\]#][^,{}\[\]#]*)", line)
        if not m:
            return mutate(text, rng)
        big = rng.choice(["A" * 5000, "x" * 300, "é" * 200, "../" * 50 + "etc", "a/b/c", "-v", "*"])
        lines[i] = line[:m.start(2)] + big + line[m.end(2):]
        return "\n".join(lines), f"string:{i + 1}"
    if family == "scalar":
        # A value becomes a list or a mapping, or the reverse.
        m = re.search(r"(:\s*)(\S.*)$", line)
        if not m:
            return mutate(text, rng)
        lines[i] = line[:m.start(2)] + rng.choice(["[1, 2]", "{a: 1}", "", "[]", "{}", "true", "\"1\""])
        return "\n".join(lines), f"scalar:{i + 1}"
    # whole-file oddities
    kind = rng.choice(["empty", "truncate", "binary", "bom", "crlf", "repeat"])
    if kind == "empty":
        return "", "whole:empty"
    if kind == "truncate":
        return text[: rng.randrange(len(text) + 1)], "whole:truncate"
    if kind == "binary":
        return text + "\x00\x01\x02\xff", "whole:binary"
    if kind == "bom":
        return "\ufeff" + text, "whole:bom"
    if kind == "crlf":
        return text.replace("\n", "\r\n"), "whole:crlf"
    return text + "\n" + text, "whole:repeat"


def classify(rc, err, timed_out):
    if timed_out:
        return "timeout"
    if rc == 0:
        return "ok"
    if rc == 2:
        return "located" if LOCATED_RE.search(err) else "unlocated"
    if rc < 0 or rc >= 128:
        return "signal"
    return "status"


SITE_RE = re.compile(r" in \S+ at (\S*Sources/\S+:\d+)")


def summary(err):
    """The crash site (the first frame in Sources/) and the message, or the last lines of stderr."""
    if not err:
        return []
    lines = err.strip().splitlines()
    fatal = [l for l in lines if "Fatal error" in l or "Crash" in l][:1]
    site = [m.group(1).split("Sources/", 1)[1] for m in map(SITE_RE.search, lines) if m][:1]
    if site:
        return fatal + ["at " + site[0]]
    return lines[-3:]


def run(cmd, budget, cwd):
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=budget, errors="replace",
                           start_new_session=True)
        return p.returncode, p.stderr, False, time.monotonic() - start
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode("utf-8", "replace") if isinstance(e.stderr, bytes) else "", True, budget


def one(case):
    """Runs one mutated input; returns (outcomes, description)."""
    n, seed, tessera, budget, work, pairs = case
    rng = random.Random(f"{seed}:{n}")
    wdir = os.path.join(work, f"w{n % 64}")
    if rng.random() < 0.08:
        target = rng.choice(SWEEPS)
        pair = None
    else:
        pair = rng.choice(pairs)
        target = pair[rng.randrange(2)]
    with open(os.path.join(ROOT, target), encoding="utf-8") as f:
        text = f.read()
    mutated, how = mutate(text, rng)
    if rng.random() < 0.25:
        mutated, how2 = mutate(mutated, rng)
        how += "+" + how2
    folder = os.path.join(wdir, os.path.dirname(target))
    name = f"fz{n}-{os.path.basename(target)}"
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(mutated)
    rel = os.path.relpath(path, wdir)
    outcomes = []
    if pair is None:
        rc, err, to, _ = run([tessera, "validate", rel], budget, wdir)
        outcomes.append(("validate", classify(rc, err, to), rc, err))
    else:
        hw, wl = pair
        hw = rel if target == hw else hw
        wl = rel if target == wl else wl
        rc, err, to, _ = run([tessera, "validate", hw, wl], budget, wdir)
        v = classify(rc, err, to)
        outcomes.append(("validate", v, rc, err))
        out = os.path.join(wdir, f"out{n}")
        rc2, err2, to2, _ = run([tessera, "simulate", hw, wl, "-o", out, "--format", "json", "--quiet"], budget, wdir)
        s = classify(rc2, err2, to2)
        # What only execution reveals (the engine's horizon) is not a mismatch.
        if v == "ok" and s in ("located", "unlocated") and "engine's horizon" not in err2:
            s = "mismatch"
        outcomes.append(("simulate", s, rc2, err2))
        shutil.rmtree(out, ignore_errors=True)
    os.remove(path)
    return outcomes, f"{target} [{how}]", mutated


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="time box for the whole run (default 60)")
    ap.add_argument("--runs", type=int, default=0, help="stop after this many inputs (default: the time box decides)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--budget", type=float, default=20, help="seconds one command may take (default 20)")
    ap.add_argument("--tessera", default=os.path.join(ROOT, ".build/release/tessera"))
    ap.add_argument("--keep", help="save each failing input into this folder")
    ap.add_argument("--quick", action="store_true", help="only the smallest bundled pairs (for a debug build)")
    args = ap.parse_args()
    tessera = os.path.abspath(args.tessera)
    if not os.access(tessera, os.X_OK):
        print(f"fuzz.py: no tessera binary at {tessera}; build it first", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.seconds <= 0 or args.budget <= 0:
        print("fuzz.py: --jobs, --seconds and --budget must be positive", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="tessera-fuzz.")
    try:
        for w in range(64):
            for d in ("configs", "traces", "sweeps"):
                shutil.copytree(os.path.join(ROOT, d), os.path.join(work, f"w{w}", d))
        counts = {}
        failures = []
        deadline = time.monotonic() + args.seconds
        n = 0
        with futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            pending = set()
            while True:
                while len(pending) < args.jobs * 2 and time.monotonic() < deadline and (args.runs == 0 or n < args.runs):
                    pending.add(pool.submit(one, (n, args.seed, tessera, args.budget, work, QUICK if args.quick else PAIRS)))
                    n += 1
                if not pending:
                    break
                done, pending = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for fut in done:
                    outcomes, desc, text = fut.result()
                    for cmd, outcome, rc, err in outcomes:
                        counts[outcome] = counts.get(outcome, 0) + 1
                        if outcome not in ("ok", "located"):
                            failures.append((cmd, outcome, rc, desc, summary(err), text))
        total = sum(counts.values())
        print(f"fuzz: {n} inputs, {total} runs (seed {args.seed}): " + ", ".join(f"{k} {counts[k]}" for k in sorted(counts)))
        for i, (cmd, outcome, rc, desc, err, text) in enumerate(failures[:40]):
            print(f"FAIL {outcome} ({cmd}, status {rc}): {desc}")
            for line in err:
                print("    " + line[:300])
        if args.keep and failures:
            os.makedirs(args.keep, exist_ok=True)
            for i, (cmd, outcome, rc, desc, err, text) in enumerate(failures):
                with open(os.path.join(args.keep, f"{i:04d}-{outcome}.yaml"), "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(f"# {cmd} {outcome} {rc}: {desc}\n" + text)
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
