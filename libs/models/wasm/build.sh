#!/usr/bin/env bash
# Builds fedseg-kernels.wasm and fedseg-kernels-threads.wasm (the same code importing a shared memory, for
# worker threads) from src/*.c with Debian's clang, lld (wasm-ld) and wasi-libc's headers. The outputs are
# committed: `npm ci` needs no compiler. Byte-reproducible: fixed flags, sorted sources, no debug info, no
# host headers (-nostdinc), paths mapped away; scripts/ci/check-wasm-kernels.sh rebuilds them in CI and
# compares. Usage: build.sh [output directory] (default: this script's directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
outdir="${1:-$here}"
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
build() { # build <output> <extra flags...>
  local out="$1"
  shift
  "$CC" --target=wasm32-wasi -nostdinc -isystem "$resource/include" -isystem "$wasi_include" \
    -std=c11 -O3 -ffreestanding -fno-builtin -msimd128 -mbulk-memory -mmutable-globals \
    -Wall -Wextra -Werror -ffile-prefix-map="$here"=. \
    -nostdlib -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,--strip-debug \
    -Wl,--initial-memory=131072 "$@" \
    -o "$out.tmp" "${sources[@]}"
  mv "$out.tmp" "$out"
  echo "built $out ($(wc -c <"$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
}
build "$outdir/fedseg-kernels.wasm"
# Shared memory (atomics feature) up to 2 GiB: one memory for the caller and its worker threads.
build "$outdir/fedseg-kernels-threads.wasm" -matomics -Wl,--shared-memory -Wl,--max-memory=2147483648
