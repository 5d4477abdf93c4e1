#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the harness needs, only those missing.
. "$(dirname "$0")/lib.sh"

PKGS=(
	"$BASE_PKG"
	build-essential bc bison flex cpio kmod rsync xz-utils zstd
	libelf-dev libssl-dev zlib1g-dev libcap-dev pkg-config
	dwarves python3 perl git
	clang-19 llvm-19 lld-19
	qemu-system-x86
	libfuse3-dev fuse3 bpftool attr
	python3-docutils python3-ply python3-git python3-sphinx
	fio bindfs fsmark gnuplot-nox e2fsprogs tar
)

install_packages deps "$BUILD/apt.log" "${PKGS[@]}"

have=$(dpkg-query -W -f='${Version}' "$BASE_PKG")
if [ "$have" != "$BASE_VERSION" ]; then
	note "note: $BASE_PKG is $have; the series was made against $BASE_VERSION"
fi
exit 0
