#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the fuse kselftests against the built kernel and install them
# (with the kselftest runner) into <kernel out>/kselftest_install.
. "$(dirname "$0")/lib.sh"

O=$(kernel_out)
build_lock "selftests-$(basename "$O")"
[ -f "$O/vmlinux" ] || die "no $O/vmlinux: run 'make kernel' first"
note "building the fuse kselftests"
make -s -C "$TREE/tools/testing/selftests" TARGETS=filesystems/fuse \
	O="$O" CLANG="$CLANG" LLVM_STRIP="$LLVM_STRIP" -j"$NPROC" \
	>"$O/kselftest-build.log" 2>&1 || {
	tail -n 30 "$O/kselftest-build.log" >&2
	die "building the fuse kselftests failed (full log: $O/kselftest-build.log)"
}
rm -rf "$O/kselftest_install"
make -s -C "$TREE/tools/testing/selftests" TARGETS=filesystems/fuse \
	O="$O" CLANG="$CLANG" LLVM_STRIP="$LLVM_STRIP" \
	INSTALL_PATH="$O/kselftest_install" install \
	>>"$O/kselftest-build.log" 2>&1 ||
	die "installing the fuse kselftests failed (see $O/kselftest-build.log)"
