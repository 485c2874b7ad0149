#!/usr/bin/env bash
# Checks that every module imports only the stages above it (DESIGN.md: imports run one way).
set -eu
cd "$(dirname "$0")/.."
order=(TesseraCore TesseraSpec TesseraModel TesseraGraph TesseraPlan TesseraSim TesseraOutput tessera)
status=0
for i in "${!order[@]}"; do
  mod=${order[$i]}
  [ -d "Sources/$mod" ] || continue
  for j in "${!order[@]}"; do
    [ "$j" -ge "$i" ] || continue
    later=${order[$j]}
    [ "$later" = "$mod" ] && continue
    if grep -rqE "^import $later\$" "Sources/$mod"; then
      echo "Sources/$mod imports $later, a later stage"; status=1
    fi
  done
done
if grep -rlq "import CGraphviz" Sources --include=*.swift | grep -v '^Sources/TesseraOutput/' >/dev/null; then
  echo "only TesseraOutput may import CGraphviz"; status=1
fi
[ $status = 0 ] && echo "imports: ok"
exit $status
