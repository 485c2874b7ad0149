#!/usr/bin/env bash
# Checks that every module imports only the stages above it (DESIGN.md: imports run one way).
set -eu
cd "$(dirname "$0")/.."
order=(TesseraCore TesseraSpec TesseraModel TesseraGraph TesseraPlan TesseraSim TesseraOutput TesseraFamilies TesseraStudy tessera)
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
# Only TesseraFamilies tells families apart (DESIGN.md): no other module compares a hardware kind
# with a family's name. TesseraSpec's HardwareSpec.swift is the schema's own list of kinds.
families='"(gpu-cluster|edge-soc|sparse-training-array)"'
compare='(==|!=)[[:space:]]*"array"|"array"[[:space:]]*(==|!=)'
if hits=$(grep -rnE "$families|$compare" Sources --include=*.swift | grep -v '^Sources/TesseraFamilies/' | grep -v '^Sources/TesseraSpec/HardwareSpec.swift:'); then
  echo "family names compared outside TesseraFamilies (ask FamilyTable or a family's capabilities instead):"
  echo "$hits"
  status=1
fi
[ $status = 0 ] && echo "imports: ok"
exit $status
