#!/usr/bin/env bash
# Copies the browser assets the clinician web app and the patient app need from npm packages in
# tools/node into web/vendor/ and patient/vendor/ (both git-ignored). No bundler: the apps are plain
# ES modules; this is their only "build".
#
#  - nhsuk-frontend: the compiled CSS and JS, favicons and icons. The CSS is rewritten so that it
#    makes no third-party requests (the Frutiger @font-face rules point at assets.nhs.uk; without
#    them the NHS font stack falls back to Arial, as NHS.UK itself does when the font is blocked)
#    and so that its icon URLs point inside web/vendor/nhsuk/.
#  - @azure/msal-browser (optional, used only when web/config.json says "mode": "msal").
#  - oidc-client-ts (patient app only; used when patient/config.json says "mode": "oidc").
#
# Idempotent; re-run after an npm update. Usage: bash scripts/web_assets.sh
set -euo pipefail
cd "$(dirname "$0")/.."

NM=tools/node/node_modules
OUT=web/vendor
src="$NM/nhsuk-frontend/dist/nhsuk"
if [ ! -f "$src/nhsuk-frontend.min.css" ]; then
  echo "web_assets: $src not found; run npm ci in tools/node first (make setup does)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/nhsuk/assets/images"
python3 - "$src/nhsuk-frontend.min.css" "$tmp/nhsuk/nhsuk-frontend.min.css" <<'PY'
import re
import sys

css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
# drop web-font rules that load from a third-party host
css = re.sub(r"@font-face\{[^}]*https?://[^}]*\}", "", css)
# the compiled CSS expects its icons at /assets/; they live beside it in vendor/nhsuk/assets/
css = css.replace("url(/assets/", "url(assets/")
left = re.findall(r"url\((?!assets/|data:|#)[^)]*\)", css)
if left or re.search(r"https?://", css.replace("http://www.w3.org/", "")):
    sys.exit(f"web_assets: unexpected external URL left in nhsuk CSS: {left[:3]}")
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
sed -e 's#^//\# sourceMappingURL=.*$##' "$src/nhsuk-frontend.min.js" > "$tmp/nhsuk/nhsuk-frontend.min.js"
cp "$src"/assets/images/*.svg "$src"/assets/images/*.png "$src"/assets/images/favicon.ico "$tmp/nhsuk/assets/images/"
cp "$NM/nhsuk-frontend/package.json" "$tmp/nhsuk/package.json"

msal="$NM/@azure/msal-browser/lib/msal-browser.min.js"
if [ -f "$msal" ]; then
  mkdir -p "$tmp/msal"
  cp "$msal" "$tmp/msal/msal-browser.min.js"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
cp -R "$tmp"/nhsuk "$OUT"/
[ -d "$tmp/msal" ] && cp -R "$tmp"/msal "$OUT"/

# the patient app: the same NHS.UK assets, plus oidc-client-ts (authorisation code + PKCE)
POUT=patient/vendor
oidc="$NM/oidc-client-ts/dist/browser/oidc-client-ts.min.js"
if [ -f "$oidc" ]; then
  mkdir -p "$tmp/oidc"
  sed -e 's#^//\# sourceMappingURL=.*$##' "$oidc" > "$tmp/oidc/oidc-client-ts.min.js"
  cp "$NM/oidc-client-ts/package.json" "$tmp/oidc/package.json"
fi
rm -rf "$POUT"
mkdir -p "$POUT"
cp -R "$tmp"/nhsuk "$POUT"/
[ -d "$tmp/oidc" ] && cp -R "$tmp"/oidc "$POUT"/
echo "web_assets: nhsuk-frontend$([ -f "$oidc" ] && echo ', oidc-client-ts') -> $POUT/"
echo "web_assets: nhsuk-frontend $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$NM/nhsuk-frontend/package.json")$([ -f "$msal" ] && echo ', msal-browser') -> $OUT/"
