#!/usr/bin/env bash
# make install-check: installs Tessera into a fresh prefix and proves the installed binary needs
# no Swift toolchain: `ldd` resolves no Swift or Foundation library, and with an empty environment
# (no PATH into the toolchain, no LD_LIBRARY_PATH) it prints its version, runs the bundled demo and
# a README example from another directory, and its man page and completions are in place.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d "${TMPDIR:-/tmp}/tessera-install.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-elsewhere.XXXXXX")
trap 'rm -rf "$prefix" "$work"' EXIT
make install PREFIX="$prefix" >/dev/null
bin="$prefix/bin/tessera"
libs=$(ldd "$bin")
echo "$libs" | sed 's/^/  /'
if echo "$libs" | grep -Eiq 'libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime|not found'; then
  echo "install-check: the installed binary still needs the Swift toolchain's libraries (or a library is missing)" >&2
  exit 1
fi
toolchain=$(dirname "$(dirname "$(command -v swift)")")
if echo "$libs" | grep -q "$toolchain"; then
  echo "install-check: a library resolves into the toolchain at $toolchain" >&2
  exit 1
fi
cd "$work"
env -i HOME="$work" "$bin" --version
env -i HOME="$work" "$bin" simulate -o out --quiet
env -i HOME="$work" "$bin" simulate configs/edge/coral-usb.yaml traces/mobilenetv2-b1.yaml -o out --quiet
ls out/*.json >/dev/null
test -s "$prefix/share/man/man1/tessera.1"
grep -q "tessera" "$prefix/share/man/man1/tessera.1"
test -s "$prefix/share/bash-completion/completions/tessera"
echo "install-check: ok (a static binary of $(du -h "$bin" | cut -f1), the demo ran from $work with an empty environment)"
