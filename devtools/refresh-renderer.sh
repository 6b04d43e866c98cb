#!/usr/bin/env bash
# Refresh the vendored Adaptive Cards renderer of the dev chat page (bot/devchat_static/vendor/).
# Needs npm and the npm registry; nothing else in the project needs Node. Usage:
#   devtools/refresh-renderer.sh [ADAPTIVECARDS_VERSION] [MARKDOWN_IT_VERSION] [DESIGNER_VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
AC=${1:-3.0.6}
MD=${2:-15.0.3}
DESIGNER=${3:-2.4.4}
OUT=bot/devchat_static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "adaptivecards@$AC" "markdown-it@$MD" "adaptivecards-designer@$DESIGNER" >/dev/null)
for package in adaptivecards markdown-it adaptivecards-designer; do
  mkdir -p "$work/$package"
  tar xzf "$work"/"$package"-[0-9]*.tgz -C "$work/$package"
done

mkdir -p "$OUT"
cp "$work/adaptivecards/package/dist/adaptivecards.min.js" "$OUT/"
cp "$work/adaptivecards/package/dist/adaptivecards.min.js.LICENSE.txt" "$OUT/"
cp "$work/adaptivecards/package/LICENSE" "$OUT/LICENSE.adaptivecards.txt"
cp "$work/markdown-it/package/dist/markdown-it.min.js" "$OUT/" 2>/dev/null \
  || cp "$work/markdown-it/package/dist/browser/markdown-it.umd.min.js" "$OUT/markdown-it.min.js"
cp "$work/markdown-it/package/LICENSE" "$OUT/LICENSE.markdown-it.txt"
cp "$work/adaptivecards-designer/package/LICENSE" "$OUT/LICENSE.adaptivecards-designer.txt"
cp "$work/adaptivecards-designer/package/dist/containers/teams-container-light.css" "$OUT/"

# Teams' light host config ships inside the designer's bundle only; take it out as JSON.
python3 - "$work/adaptivecards-designer/package/dist/adaptivecards-designer.js" \
  "$OUT/teams-light-hostconfig.json" <<'PY'
import json, re, sys
source = open(sys.argv[1], encoding="utf-8").read()
start = source.index('"./src/hostConfigs/microsoft-teams-light.json":')
found = re.compile(r"JSON\.parse\('((?:[^'\\]|\\.)*)'\)").search(source, start)
config = json.loads(found.group(1).replace("\\'", "'"))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(config, out, indent=1, sort_keys=True)
    out.write("\n")
PY

cat > "$OUT/VERSIONS.txt" <<TXT
Vendored by devtools/refresh-renderer.sh (make refresh-renderer); do not edit by hand.
adaptivecards@$AC           adaptivecards.min.js (MIT, LICENSE.adaptivecards.txt)
markdown-it@$MD             markdown-it.min.js (MIT, LICENSE.markdown-it.txt)
adaptivecards-designer@$DESIGNER teams-light-hostconfig.json (its microsoft-teams-light host config) and
                                 teams-container-light.css (MIT, LICENSE.adaptivecards-designer.txt)
TXT
echo "refreshed $OUT"
