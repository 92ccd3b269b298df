#!/usr/bin/env bash
# Builds fedseg-kernels.wasm from src/*.c with Debian's clang, lld (wasm-ld) and wasi-libc's headers.
# The output is committed: `npm ci` needs no compiler. Byte-reproducible: fixed flags, sorted sources,
# no debug info, no host headers (-nostdinc), paths mapped away; scripts/ci/check-wasm-kernels.sh rebuilds
# it in CI and compares. Usage: build.sh [output path] (default: fedseg-kernels.wasm beside this script).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/fedseg-kernels.wasm}"
CC="${CC:-clang}"
resource="$("$CC" -print-resource-dir)"
wasi_include=/usr/include/wasm32-wasi
[ -f "$wasi_include/stdint.h" ] || { echo "build.sh: wasi-libc headers missing ($wasi_include): apt-get install wasi-libc" >&2; exit 1; }
command -v wasm-ld >/dev/null || { echo "build.sh: wasm-ld missing: apt-get install lld" >&2; exit 1; }
export LC_ALL=C SOURCE_DATE_EPOCH=0
mapfile -t sources < <(cd "$here" && ls src/*.c | sort)
cd "$here"
# -msimd128: WebAssembly SIMD (Node >= 16, every current browser); -mbulk-memory: memory.copy/fill instead of
# libc's memcpy/memset; -mmutable-globals: export __stack_pointer, which the loader points at a stack it
# allocates, because the memory is imported (tfjs-wasm's heap, or one of the loader's own).
"$CC" --target=wasm32-wasi -nostdinc -isystem "$resource/include" -isystem "$wasi_include" \
  -std=c11 -O3 -ffreestanding -fno-builtin -msimd128 -mbulk-memory -mmutable-globals \
  -Wall -Wextra -Werror -ffile-prefix-map="$here"=. \
  -nostdlib -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,--strip-debug \
  -Wl,--initial-memory=131072 \
  -o "$out.tmp" "${sources[@]}"
mv "$out.tmp" "$out"
echo "built $out ($(wc -c <"$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
