#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# modcheck.sh [--build]
#
# fuse as a module, as distributions build it, with fuse-bpf in fuse.ko.
# Checks that Kconfig keeps CONFIG_FUSE_BPF=y with FUSE_FS=m:
# tinyconfig + vm.config + fuse-m.config (FUSE_FS=m, FUSE_BPF=y,
# DEBUG_INFO_BTF_MODULES=y) must end with both.
#
# With --build it also builds that kernel and its modules in
# build/kernel-fuse-m (modpost fails on any symbol fuse.ko needs that is
# not exported), boots it, loads fuse.ko and runs the whole fuse
# kselftest suite against it (harness/test.sh with FBT_TEST_KERNEL and
# FBT_TEST_SETUP; the selftests and the sample are those of 'make
# selftests': their BPF programs find the filter types in fuse.ko's BTF),
# then unloads fuse.ko.
#
# Ends with one line, "modcheck: ok: ..." or "modcheck: FAIL: ...".
. "$(dirname "$0")/lib.sh"

O=$BUILD/kernel-fuse-m
frags=("$REPO/harness/configs/vm.config" "$REPO/harness/configs/fuse-m.config")
build=0
case "${1:-}" in
--build) build=1 ;;
"") ;;
*) die "usage: modcheck.sh [--build]" ;;
esac

fail() {
	printf 'modcheck: FAIL: %s\n' "$*"
	exit 1
}

# The value of CONFIG_$2 in config file $1: y, m, or "unset".
cfg_val() {
	local v
	v=$(sed -n "s/^CONFIG_$2=//p" "$1")
	echo "${v:-unset}"
}

olddefconfig() {
	KCONFIG_CONFIG=$1 make -s -C "$TREE" O="$O" olddefconfig >/dev/null
}

[ -f "$TREE/fs/fuse/Kconfig" ] || die "no work tree at $TREE: run 'make tree' first"
mkdir -p "$O"

# FUSE_FS=m: the configuration of build/kernel-fuse-m.
cfg=$O/modcheck.config
KCONFIG_CONFIG=$cfg make -s -C "$TREE" O="$O" tinyconfig >/dev/null ||
	fail "tinyconfig failed"
KCONFIG_CONFIG=$cfg "$TREE/scripts/kconfig/merge_config.sh" -m -O "$O" \
	"$cfg" "${frags[@]}" >"$O/merge.log" 2>&1 ||
	fail "merging config fragments failed (see $O/merge.log)"
olddefconfig "$cfg" || fail "olddefconfig failed"
for s in MODULES DEBUG_INFO_BTF_MODULES FUSE_PASSTHROUGH BPF_JIT DEBUG_INFO_BTF; do
	[ "$(cfg_val "$cfg" $s)" = y ] || fail "CONFIG_$s is $(cfg_val "$cfg" $s), not y"
done
[ "$(cfg_val "$cfg" FUSE_FS)" = m ] ||
	fail "CONFIG_FUSE_FS is $(cfg_val "$cfg" FUSE_FS), not m"
[ "$(cfg_val "$cfg" FUSE_BPF)" = y ] ||
	fail "CONFIG_FUSE_BPF is $(cfg_val "$cfg" FUSE_BPF) with FUSE_FS=m, not y"
what="FUSE_FS=m keeps FUSE_BPF=y"

if [ $build = 0 ]; then
	printf 'modcheck: ok: %s\n' "$what"
	exit 0
fi

# Build: reuse the output folder when the configuration did not change.
cmp -s "$cfg" "$O/.config" || cp "$cfg" "$O/.config"
note "building kernel and modules in $O (log: $O/build.log)"
make -C "$TREE" O="$O" -j"$NPROC" bzImage modules >"$O/build.log" 2>&1 || {
	grep -E 'ERROR:|error:' "$O/build.log" | head -n 10 >&2
	fail "FUSE_FS=m build failed (see $O/build.log)"
}
ko=$O/fs/fuse/fuse.ko
[ -f "$ko" ] || fail "no $ko after the build"
# (grep without -q: an early exit would fail nm, and the pipe, with SIGPIPE)
nm "$ko" | grep ' [Tt] fuse_bpf_init$' >/dev/null ||
	fail "$ko holds no fuse-bpf although CONFIG_FUSE_BPF=y"
if nm "$O/vmlinux" | grep ' [Tt] fuse_bpf_init$' >/dev/null; then
	fail "fuse-bpf is in vmlinux, not in fuse.ko"
fi

# The whole suite, with fuse.ko loaded first; then it must unload.
inst=$(kernel_out)/kselftest_install
[ -x "$inst/run_kselftest.sh" ] || fail "no kselftests in $inst: run 'make selftests'"
if ! FBT_TEST_KERNEL=$O/arch/x86/boot/bzImage \
	FBT_TEST_SETUP="insmod $ko && grep -qw fuse /proc/filesystems" \
	bash "$REPO/harness/test.sh" >"$O/test.log" 2>&1; then
	tail -n 5 "$O/test.log" >&2
	fail "the fuse kselftests on fuse.ko (see $O/test.log)"
fi
summary=$(tail -n 1 "$O/test.log")
bash "$REPO/harness/vm.sh" --name modcheck --timeout 300 \
	--kernel "$O/arch/x86/boot/bzImage" -- \
	"insmod $ko && rmmod fuse && ! grep -qw fuse /proc/filesystems && echo modcheck-guest: unloaded" \
	>"$O/vm.log" 2>&1 || fail "fuse.ko in the VM (see $BUILD/vm/modcheck/console.log)"
grep -q '^modcheck-guest: unloaded' "$O/vm.log" ||
	fail "fuse.ko did not unload (see $BUILD/vm/modcheck/console.log)"
printf 'modcheck: ok: %s; fuse.ko builds, loads, passes the suite (%s), unloads\n' \
	"$what" "$summary"
