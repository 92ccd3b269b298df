#!/usr/bin/env bash
# `npm test` runs this first. On a fresh machine the tests need a few Debian packages (scripts/ci/
# install-system-deps.sh) and a Vulkan driver (scripts/ci/install-vulkan.sh): installed here when running as
# root, otherwise named in one line, so that nothing is skipped without a reason on screen. PostgreSQL needs
# nothing here: the e2e tests start one from npm when none answers (test/support/global-setup.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v nifti_tool >/dev/null || missing+=(nifti-bin)
command -v chromium >/dev/null || missing+=(chromium)
[ -f /usr/share/mricron/templates/ch2.nii.gz ] || missing+=(mricron-data)
vulkan=ok
compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null || compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null || vulkan=missing
if [ ${#missing[@]} -eq 0 ] && [ "$vulkan" = ok ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  [ ${#missing[@]} -eq 0 ] || scripts/ci/install-system-deps.sh
  [ "$vulkan" = ok ] || scripts/ci/install-vulkan.sh
else
  [ "$vulkan" = ok ] || missing+=('a Vulkan driver')
  echo "fedseg tests: missing ${missing[*]}; as root run scripts/ci/install-system-deps.sh and scripts/ci/install-vulkan.sh (until then the specs that need them fail or say why they skip)" >&2
fi
