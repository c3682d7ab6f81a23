#!/usr/bin/env bash
# Appends every public symbol the build reports as undeclared (RS0016) to PublicAPI.Unshipped.txt (of the
# project folder given, else of SaltApi.Abstractions).
set -euo pipefail
cd "${1:-$(dirname "$0")}"
dotnet build -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= --no-incremental 2>&1 \
  | grep -o "RS0016: Symbol '[^']*'" | sed "s/^RS0016: Symbol '//; s/'\$//" | sort -u > .public-api.new || true
if [ -s .public-api.new ]; then
  { cat PublicAPI.Unshipped.txt; cat .public-api.new; } | awk 'NR==1 || !seen[$0]++' > .public-api.all
  { head -n1 .public-api.all; tail -n +2 .public-api.all | sort -u; } > PublicAPI.Unshipped.txt
  echo "added $(wc -l < .public-api.new) symbol(s) to PublicAPI.Unshipped.txt"
else
  echo "public API up to date"
fi
rm -f .public-api.new .public-api.all
