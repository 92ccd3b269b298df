#!/usr/bin/env bash
# CI: rebuild libs/models/wasm/*.wasm from their C sources and fail unless the bytes equal the committed
# files (they are committed so that `npm ci` needs no compiler; this proves they came from src/).
# Installs Debian's clang, lld and wasi-libc for this check only, when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v clang >/dev/null || missing+=(clang)
command -v wasm-ld >/dev/null || missing+=(lld)
[ -f /usr/include/wasm32-wasi/stdint.h ] || missing+=(wasi-libc)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
libs/models/wasm/build.sh "$tmp" >/dev/null
status=0
for built in "$tmp"/*.wasm; do
  name="$(basename "$built")"
  if cmp "libs/models/wasm/$name" "$built"; then
    echo "$name: rebuilt byte-identical ($(sha256sum "$built" | cut -d' ' -f1))"
  else
    echo "libs/models/wasm/$name differs from a rebuild of libs/models/wasm/src with $(clang --version | head -1)." >&2
    echo "Rebuild it (libs/models/wasm/build.sh) and commit the result; see libs/models/wasm/README.md." >&2
    status=1
  fi
done
exit "$status"
