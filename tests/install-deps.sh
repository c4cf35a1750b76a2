#!/bin/sh
# Installs what the build and the tests need on Debian 12 (as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# criu: t_criu runs CRIU 4.2 (../shared/tools/criu-4.2: Debian's 3.17 cannot
# run on kernels 6.13 and later) on this package's run-time libraries;
# iptables: what CRIU locks the container's network with.
apt-get install -y -qq --no-install-recommends \
	lxc lxc-dev liblxc1 python3-lxc lxc-templates busybox-static \
	meson ninja-build pkg-config gcc g++ libc6-dev \
	golang-go golang-gopkg-lxc-go-lxc.v2-dev tmux iproute2 \
	libseccomp-dev btrfs-progs e2fsprogs rsync uidmap \
	criu iptables lxd lxd-client dnsmasq-base >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true
