#!/usr/bin/env python3
"""Checks Tessera's HTML report in a real headless browser (Debian's chromium).

For one run of each family (an array, a SAT training step, an edge SoC with a power budget, a GPU
training step, a serving run, a collective benchmark) and for `tessera report` from a JSON file:
  - writes the page (`simulate --format html`, `tessera report`);
  - checks it is self-contained: no http(s) URL in any src/href/url(), no external stylesheet;
  - loads it in headless chromium and fails on any console message (errors, CSP violations);
  - reads the DOM after load: the script ran (body[data-ready]), and the key elements are there
    (summary figures, energy tables, power chart, tables, pictures, latency charts);
  - sorts the layer table by clicking its heading (through a harness page that frames the report)
    and checks the rows come out in order, both ways;
  - takes a screenshot and fails when it is blank (fewer than 2% of pixels not white, or fewer
    than 16 colours), decoding the PNG here (no imaging library needed).

  scripts/check-html.py --tessera .build/debug/tessera [--browser chromium] [--keep DIR]
Exit 0 when every page passes, 1 when one fails, 2 when the browser or tessera is missing.
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, hardware, workload, element selectors that must be present as id/class markers in the DOM)
RUNS = [
    ("array", "configs/array/scalesim-32x32-os.yaml", "traces/resnet18-b1.yaml", ["id=\"layers\"", "class=\"picture\""]),
    ("sat", "configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml", ["id=\"layers\"", "class=\"picture\"", "id=\"passes\""]),
    ("edge", "configs/edge/phone-soc.yaml", "traces/resnet18-b1.yaml", ["id=\"layers\"", "budget", "id=\"operating-points\""]),
    ("cluster", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml", ["id=\"stages\"", "class=\"picture\""]),
    ("serving", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-colocated.yaml", ["id=\"latency\"", "id=\"instances\""]),
    ("collectives", "configs/gpu/dgx-h100-x1.yaml", "traces/ar-sweep.yaml", ["id=\"collectives\""]),
]
COMMON = ["id=\"summary\"", "id=\"energy\"", "id=\"energy-components\"", "id=\"power\"", "class=\"chart\"", "id=\"units\"", "id=\"model\""]


def fail(msg):
    print("check-html: FAIL " + msg)
    return 1


def browser_base(browser):
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--disable-extensions", "--enable-logging=stderr", "--v=0"]


def run_browser(args, timeout=120):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, text=True, errors="replace")
    return p.returncode, p.stdout, p.stderr


def console_lines(stderr):
    return [l for l in stderr.splitlines() if ":CONSOLE" in l]


def png_pixels(path):
    """Decodes an 8-bit RGB or RGBA non-interlaced PNG: (width, height, bytes per pixel, rows)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError("unsupported PNG (depth %d, colour type %d, interlace %d)" % (depth, colour, interlace))
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def not_blank(path):
    width, height, bpp, rows = png_pixels(path)
    colours, ink, total = set(), 0, 0
    for row in rows[::4]:
        for x in range(0, width * bpp, bpp * 4):
            px = row[x:x + 3]
            total += 1
            colours.add(px)
            if px != b"\xff\xff\xff":
                ink += 1
    return ink / max(total, 1), len(colours)


SORT_HARNESS = """<!DOCTYPE html><html><body><div id="result">pending</div>
<iframe id="f" src="%s" width="1200" height="800"></iframe>
<script>
document.getElementById('f').onload = function () {
  var out = document.getElementById('result');
  try {
    var d = this.contentDocument, t = d.getElementById('layers');
    var heads = t.tHead.rows[0].cells, col = -1;
    for (var i = 0; i < heads.length; i++) if (heads[i].textContent === 'total cycles') col = i;
    function values() { return Array.prototype.map.call(t.tBodies[0].rows, function (r) { return parseFloat(r.cells[col].getAttribute('data-v')); }); }
    function ordered(v, desc) { for (var i = 1; i < v.length; i++) if (desc ? v[i] > v[i - 1] : v[i] < v[i - 1]) return false; return true; }
    heads[col].click(); var a = values();
    heads[col].click(); var b = values();
    out.textContent = (col >= 0 && a.length > 2 && ordered(a, true) && ordered(b, false) && a[0] !== b[0]) ? 'sorted-ok' : 'sorted-bad ' + a.slice(0, 4) + ' / ' + b.slice(0, 4);
  } catch (e) { out.textContent = 'sorted-error ' + e; }
};
</script></body></html>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tessera", default=os.path.join(ROOT, ".build/debug/tessera"))
    ap.add_argument("--browser", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    ap.add_argument("--keep", help="write pages and screenshots into this folder (kept)")
    args = ap.parse_args()
    if not os.access(args.tessera, os.X_OK):
        print("check-html: no tessera at %s (build it first)" % args.tessera)
        return 2
    if not shutil.which(args.browser) and not os.access(args.browser, os.X_OK):
        print("check-html: no browser '%s' (apt-get install chromium)" % args.browser)
        return 2
    out = args.keep or tempfile.mkdtemp(prefix="tessera-html.")
    os.makedirs(out, exist_ok=True)
    failures = 0
    pages = []
    for name, hw, wl, markers in RUNS:
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        p = subprocess.run([args.tessera, "simulate", hw, wl, "-o", folder, "--format", "html", "--quiet", "--force"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            failures += fail("%s: simulate --format html exited %d: %s" % (name, p.returncode, p.stdout.strip()))
            continue
        html = [f for f in os.listdir(folder) if f.endswith(".html")]
        if len(html) != 1:
            failures += fail("%s: expected one .html in %s, found %s" % (name, folder, html))
            continue
        pages.append((name, os.path.join(folder, html[0]), COMMON + markers))
    # tessera report from the JSON alone, and with the files for the pictures.
    folder = os.path.join(out, "report")
    os.makedirs(folder, exist_ok=True)
    p = subprocess.run([args.tessera, "simulate", "configs/array/scalesim-32x32-os.yaml", "traces/small-cnn.yaml", "-o", folder, "--format", "json", "--quiet", "--force"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    js = os.path.join(folder, "small-cnn--scalesim-32x32-os.json")
    for label, extra in (("report-json", []), ("report-files", ["--hardware", "configs/array/scalesim-32x32-os.yaml", "--workload", "traces/small-cnn.yaml"])):
        target = os.path.join(folder, label + ".html")
        p = subprocess.run([args.tessera, "report", js, "-o", target, "--quiet", "--force"] + extra, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            failures += fail("%s: tessera report exited %d: %s" % (label, p.returncode, p.stdout.strip()))
            continue
        pages.append((label, target, COMMON + ["id=\"layers\""] + (["class=\"picture\""] if extra else [])))

    for name, path, markers in pages:
        text = open(path, encoding="utf-8").read()
        external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|<link[^>]+stylesheet|@import""", text, re.I)
        if external:
            failures += fail("%s: the page refers to something outside it: %s" % (name, external[:3]))
        url = "file://" + os.path.abspath(path)
        rc, dom, err = run_browser(browser_base(args.browser) + ["--dump-dom", url])
        console = console_lines(err)
        if rc != 0:
            failures += fail("%s: the browser exited %d" % (name, rc))
        if console:
            failures += fail("%s: the browser console said:\n  %s" % (name, "\n  ".join(console[:10])))
        if 'data-ready="1"' not in dom:
            failures += fail("%s: the page's script did not finish (no body[data-ready])" % name)
        missing = [m for m in markers if m not in dom]
        if missing:
            failures += fail("%s: elements missing from the loaded page: %s" % (name, missing))
        shot = os.path.join(os.path.dirname(path), name + ".png")
        rc, _, err = run_browser(browser_base(args.browser) + ["--window-size=1280,1600", "--screenshot=" + shot, url])
        if rc != 0 or not os.path.exists(shot):
            failures += fail("%s: no screenshot (browser exit %d)" % (name, rc))
            continue
        ink, colours = not_blank(shot)
        if ink < 0.02 or colours < 16:
            failures += fail("%s: the screenshot looks blank (%.1f%% of pixels not white, %d colours)" % (name, ink * 100, colours))
        if 'id="layers"' in markers[-1:] or 'id="layers"' in markers:
            harness = os.path.join(os.path.dirname(path), name + "-sort.html")
            with open(harness, "w", encoding="utf-8") as h:
                h.write(SORT_HARNESS % os.path.basename(path))
            rc, hdom, herr = run_browser(browser_base(args.browser) + ["--allow-file-access-from-files", "--dump-dom", "file://" + os.path.abspath(harness)])
            if "sorted-ok" not in hdom:
                m = re.search(r'<div id="result">([^<]*)</div>', hdom)
                failures += fail("%s: sorting the layer table by clicking its heading failed: %s" % (name, m.group(1) if m else "no result"))
        print("check-html: %-12s ok  (%d KB, %.0f%% ink, %d colours)" % (name, len(text) // 1024, ink * 100, colours))
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    if failures:
        print("check-html: %d failure(s)" % failures)
        return 1
    print("check-html: %d pages passed in %s" % (len(pages), os.path.basename(args.browser)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
