#!/usr/bin/env bash
# Gives Dawn (npm `webgpu`) a Vulkan adapter on a machine without a GPU: Mesa's lavapipe, a software
# Vulkan driver, so the webgpu code path of libs/models is tested in CI (issue 13).
#
# Idempotent and quiet when there is nothing to do: if a Vulkan driver (ICD) is already installed, e.g. a
# hospital's NVIDIA/AMD/Intel driver or an earlier run of this script, it installs nothing.
#
# Why bookworm-backports: Dawn needs a Vulkan feature that bookworm's own Mesa 22.3 lavapipe lacks;
# mesa-vulkan-drivers 25.x from bookworm-backports has it. Debian sources here are deb822 files in
# /etc/apt/sources.list.d/*.sources (pinned to a snapshot); the backports suite is added beside them in the
# same format, and only libvulkan1 + mesa-vulkan-drivers are taken from it (apt never upgrades from
# backports by default, so nothing else on the machine changes).
#
# Usage: scripts/ci/install-vulkan.sh            (needs root, or passwordless sudo, to install)
#        FEDSEG_VULKAN_FORCE=1 scripts/ci/install-vulkan.sh   reinstall even if a driver is present
set -euo pipefail

log() { echo "install-vulkan: $*"; }

icd_present() {
  # A Vulkan loader finds drivers through ICD manifests in these directories (Vulkan loader spec,
  # "Driver Discovery on Linux"); libvulkan.so.1 must be there too for Dawn to open it.
  local dir
  # Captured first: with pipefail, grep -q closing the pipe early would fail ldconfig with SIGPIPE.
  local libs
  libs=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)
  grep -q 'libvulkan\.so\.1' <<<"$libs" || return 1
  for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    compgen -G "$dir/*.json" >/dev/null && return 0
  done
  return 1
}

lavapipe_version_ok() {
  # Mesa >= 23 lavapipe satisfies Dawn; a 22.x one (bookworm) is installed but unusable.
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -z "$v" ] && return 0 # the driver present is not Mesa's: leave it alone
  dpkg --compare-versions "$v" ge 23 && return 0
  log "mesa-vulkan-drivers $v is too old for Dawn; upgrading from bookworm-backports"
  return 1
}

if [ "${FEDSEG_VULKAN_FORCE:-0}" != 1 ] && icd_present && lavapipe_version_ok; then
  log "a Vulkan driver is already installed; nothing to do"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    log "no Vulkan driver and not root: cannot install libvulkan1 + mesa-vulkan-drivers; webgpu tests will say so"
    exit 1
  fi
fi

if ! command -v apt-get >/dev/null; then
  log "not a Debian-family system: install your distribution's Vulkan loader and a Vulkan driver by hand"
  exit 1
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" = bookworm ]; then
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding bookworm-backports to /etc/apt/sources.list.d/bookworm-backports.sources"
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  target=(-t bookworm-backports)
else
  # trixie and later carry a Mesa recent enough in the main suite.
  target=()
fi

log "installing libvulkan1 and mesa-vulkan-drivers ${target[*]:-}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" \
  libvulkan1 mesa-vulkan-drivers >/dev/null
log "installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
