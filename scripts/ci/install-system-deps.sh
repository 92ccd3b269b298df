#!/usr/bin/env bash
# The Debian packages the tests need, in one place: `.ci/run` and `npm test` (scripts/test-preflight.sh) run
# this when something is missing. Idempotent: installs only what is absent.
#   nifti-bin     libs/imaging checks the NIfTI files it writes with Debian's nifti_tool
#   chromium      test/dashboard and the wasm browser spec drive Debian's chromium (never a browser download)
#   mricron-data  Debian's copy of the Colin27 T1 brain and its brain mask (BSD-3-clause per debian/copyright),
#                 real anatomy for scripts/anatomy's three-site consortium test (16 MB, read in place, never
#                 committed)
# The software Vulkan driver for the webgpu specs comes from scripts/ci/install-vulkan.sh.
set -euo pipefail
missing=()
command -v nifti_tool >/dev/null || missing+=(nifti-bin)
command -v chromium >/dev/null || missing+=(chromium)
{ [ -f /usr/share/mricron/templates/ch2.nii.gz ] && [ -f /usr/share/mricron/templates/ch2bet.nii.gz ]; } ||
  missing+=(mricron-data)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-system-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
