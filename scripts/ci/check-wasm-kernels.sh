#!/usr/bin/env bash
# CI: rebuild libs/models/wasm/fedseg-kernels.wasm from its C sources and fail unless the bytes equal the
# committed file (the .wasm is committed so that `npm ci` needs no compiler; this proves it came from src/).
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
libs/models/wasm/build.sh "$tmp/fedseg-kernels.wasm"
if ! cmp libs/models/wasm/fedseg-kernels.wasm "$tmp/fedseg-kernels.wasm"; then
  echo "libs/models/wasm/fedseg-kernels.wasm differs from a rebuild of libs/models/wasm/src with $(clang --version | head -1)." >&2
  echo "Rebuild it (libs/models/wasm/build.sh) and commit the result; see libs/models/wasm/README.md." >&2
  exit 1
fi
echo "fedseg-kernels.wasm: rebuilt byte-identical ($(sha256sum "$tmp/fedseg-kernels.wasm" | cut -d' ' -f1))"
