#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build fs/fuse with W=1, with CONFIG_FUSE_BPF=y (the VM kernel's
# configuration) and =n (build/kernel-nobpf); fail on any warning.
. "$(dirname "$0")/lib.sh"

check() {
	local o=$1 log
	log=$o/warncheck.log
	touch "$TREE"/fs/fuse/*.c "$REPO"/fs/fuse/*.c
	make -s -C "$TREE" O="$o" W=1 -j"$NPROC" fs/fuse/ >"$log" 2>&1 ||
		{ cat "$log" >&2; die "fs/fuse does not build in $o"; }
	if grep -E 'warning:|error:' "$log" >&2; then
		die "fs/fuse builds with warnings in $o"
	fi
	note "fs/fuse: W=1 clean with $(grep -E '^(CONFIG_FUSE_BPF=y|# CONFIG_FUSE_BPF is not set)' "$o/.config")"
}

O=$(kernel_out)
[ -f "$O/.config" ] || die "no $O/.config: run 'make kernel' first"
check "$O"

nobpf=$(nobpf_config "$O")
make -s -C "$TREE" O="$nobpf" -j"$NPROC" prepare >/dev/null 2>&1 ||
	die "make prepare failed in $nobpf"
check "$nobpf"
