#!/usr/bin/env python3
"""The largest relative change of every numeric field between two folders of JSON reports.

    scripts/report-diff.py OLD_DIR NEW_DIR [--top N]

Matches reports by file name and fields by path (array indices dropped), and prints, largest
first: relative change, field path, old -> new value, report. Used to state what a deliberate
re-recording of the baselines in reports/ moved (e.g. OLD_DIR from `git worktree add` of the
previous commit).
"""
import glob
import json
import os
import sys


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    top = 40
    if "--top" in sys.argv:
        top = int(sys.argv[sys.argv.index("--top") + 1])
        args = [a for a in args if a != str(top)]
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    old_dir, new_dir = args
    worst = {}

    def walk(a, b, path, report):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in a:
                if k in b:
                    walk(a[k], b[k], path + "." + k, report)
        elif isinstance(a, list) and isinstance(b, list):
            for x, y in zip(a, b):
                walk(x, y, path + "[]", report)
        elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and a != b:
            rel = abs(b - a) / abs(a) if a != 0 else float("inf")
            if rel > worst.get(path, (0,))[0]:
                worst[path] = (rel, a, b, report)

    for new in sorted(glob.glob(os.path.join(new_dir, "*.json"))):
        old = os.path.join(old_dir, os.path.basename(new))
        if os.path.exists(old):
            with open(old) as f, open(new) as g:
                walk(json.load(f), json.load(g), "", os.path.basename(new))
    for path, (rel, a, b, report) in sorted(worst.items(), key=lambda x: -x[1][0])[:top]:
        print(f"{rel * 100:.4g}%\t{path}\t{a} -> {b}\t{report}")
    if not worst:
        print("no numeric field changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
