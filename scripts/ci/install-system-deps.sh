#!/usr/bin/env bash
# System packages the tests need beyond .ci/run's list (it runs this script when it is executable).
# mricron-data: Debian's copy of the Colin27 T1 brain and its brain mask (BSD-3-clause per debian/copyright),
# real anatomy for scripts/anatomy's three-site consortium test (16 MB, read in place, never committed).
set -euo pipefail
if [ ! -f /usr/share/mricron/templates/ch2.nii.gz ] || [ ! -f /usr/share/mricron/templates/ch2bet.nii.gz ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mricron-data >/dev/null
fi
