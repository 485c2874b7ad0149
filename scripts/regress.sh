#!/usr/bin/env bash
# Regression check against the baselines in reports/: simulates every bundled dense array config
# (configs/array/*.yaml) and edge SoC (configs/edge/*.yaml) on every inference workload, every GPU
# cluster (configs/gpu/*.yaml) on every collective microbenchmark (a trace with 'collective:'), every edge
# SoC on every continual-learning workload, each transformer workload on the cluster its
# '# hardware:' line names, and every sparse training config (configs/sat/*.yaml) on
# every other training workload (traces/*.yaml), and compares each JSON report with
# reports/<workload>--<hardware>.json using `tessera compare --tolerance 0% --strict` (the simulator
# is deterministic, so any change at all, better or worse, fails).
#
#   scripts/regress.sh                  check; exit 0 all match, 1 something differs, 2 setup error
#   scripts/regress.sh --record         rewrite reports/ on purpose (and drop stale baselines)
#   scripts/regress.sh --junit-dir DIR  also write one JUnit XML file per pair into DIR
#
# Builds nothing: it runs $TESSERA, by default .build/debug/tessera (`swift build` first).
set -euo pipefail
caller=$PWD
# A relative $TESSERA is taken from the caller's folder; the default from the package root.
case "${TESSERA:-}" in
  "" | /*) ;;
  */*) TESSERA="$PWD/$TESSERA" ;;
  *) TESSERA=$(command -v "$TESSERA" || echo "$TESSERA") ;;  # a bare name is looked up on PATH
esac
cd "$(dirname "$0")/.."
TESSERA=${TESSERA:-.build/debug/tessera}
REPORTS=reports
record=0
junit_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=1 ;;
    --junit-dir)
      shift; junit_dir=${1:?--junit-dir needs a directory}
      case "$junit_dir" in /*) ;; *) junit_dir="$caller/$junit_dir" ;; esac ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "regress.sh: unknown argument '$1' (expected --record or --junit-dir DIR)" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -x "$TESSERA" ]; then
  echo "regress.sh: no tessera binary at '$TESSERA'; build it first (swift build) or set TESSERA" >&2
  exit 2
fi
[ -z "$junit_dir" ] || mkdir -p "$junit_dir"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tessera-regress.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Simulate every pair into its own folder, so that two pairs can never overwrite each other.
names=()
n=0
is_training() { grep -q '^phase: training' "$1"; }
pairs=()
for wl in traces/*.yaml; do
  if grep -q '^transformer:' "$wl"; then
    # A transformer workload is laid out for one cluster, named on its '# hardware:' line.
    hw=$(sed -n 's/^# hardware: *//p' "$wl" | head -1)
    if [ -z "$hw" ] || [ ! -f "$hw" ]; then echo "regress.sh: $wl names no existing '# hardware: configs/gpu/…' line" >&2; exit 2; fi
    pairs+=("$hw" "$wl")
  elif grep -q '^collective:' "$wl"; then
    # Collective microbenchmarks run on the GPU clusters, and only there.
    # A config marked '# regress: named-only' (too large to sweep) runs only with the workloads naming it.
    for hw in configs/gpu/*.yaml; do grep -q '^# regress: named-only' "$hw" || pairs+=("$hw" "$wl"); done
  elif grep -q '^continual:' "$wl"; then
    # On-device continual learning runs on the edge SoCs.
    for hw in configs/edge/*.yaml; do pairs+=("$hw" "$wl"); done
  elif is_training "$wl"; then
    for hw in configs/sat/*.yaml; do pairs+=("$hw" "$wl"); done
  else
    for hw in configs/array/*.yaml configs/edge/*.yaml; do pairs+=("$hw" "$wl"); done
  fi
done
set -- "${pairs[@]}"
while [ $# -gt 0 ]; do
  hw=$1 wl=$2
  shift 2
  {
    n=$((n + 1))
    mkdir "$tmp/$n"
    if ! "$TESSERA" simulate "$hw" "$wl" -o "$tmp/$n" --format json --quiet; then
      echo "regress.sh: simulating $hw on $wl failed" >&2
      exit 2
    fi
    file=$(cd "$tmp/$n" && ls -- *.json)
    for seen in "${names[@]+"${names[@]}"}"; do
      if [ "$seen" = "$file" ]; then echo "regress.sh: two pairs both produce $file; give the configs distinct names" >&2; exit 2; fi
    done
    names+=("$file")
    mv "$tmp/$n/$file" "$tmp/$file"
  }
done

is_current() { local f; for f in "${names[@]}"; do [ "$f" = "$1" ] && return 0; done; return 1; }

if [ $record = 1 ]; then
  mkdir -p "$REPORTS"
  for file in "${names[@]}"; do cp "$tmp/$file" "$REPORTS/.$file.tmp" && mv "$REPORTS/.$file.tmp" "$REPORTS/$file"; done
  for old in "$REPORTS"/*.json; do
    [ -e "$old" ] || continue
    if ! is_current "$(basename "$old")"; then rm -- "$old"; echo "removed stale baseline $old"; fi
  done
  echo "recorded ${#names[@]} baselines in $REPORTS/"
  exit 0
fi

failed=0
ok=0
for file in "${names[@]}"; do
  if [ ! -f "$REPORTS/$file" ]; then
    echo "MISSING $REPORTS/$file: no baseline for this pair; record it with scripts/regress.sh --record (or make golden)"
    failed=$((failed + 1))
    continue
  fi
  args=("$REPORTS/$file" "$tmp/$file" --tolerance 0% --strict)
  [ -z "$junit_dir" ] || args+=(--junit "$junit_dir/${file%.json}.xml")
  status=0
  "$TESSERA" compare "${args[@]}" >"$tmp/compare.md" 2>&1 || status=$?
  if [ $status = 0 ]; then
    ok=$((ok + 1))
  else
    echo "DIFFERS $REPORTS/$file (tessera compare exit $status):"
    sed 's/^/    /' "$tmp/compare.md"
    failed=$((failed + 1))
  fi
done
for old in "$REPORTS"/*.json; do
  [ -e "$old" ] || continue
  if ! is_current "$(basename "$old")"; then
    echo "STALE $old: no bundled config and trace produce it; remove it or run scripts/regress.sh --record"
    failed=$((failed + 1))
  fi
done

if [ $failed -gt 0 ]; then
  echo "regress: $failed of $((ok + failed)) checks failed ($ok baselines match exactly)"
  echo "if the change is intended, re-record the baselines: scripts/regress.sh --record (or make golden)"
  exit 1
fi
echo "regress: all $ok reports match their baselines in $REPORTS/ exactly"
