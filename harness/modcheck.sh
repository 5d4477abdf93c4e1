#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# modcheck.sh [--build]
#
# fuse as a module. fuse-bpf cannot live in fuse.ko: it calls BPF core
# functions that are not exported to modules (bpf_dynptr_init(),
# bpf_dynptr_set_rdonly(), bpf_dynptr_set_null(), btf_name_by_offset(),
# and bpf_link_get_from_fd() from the BPF_INTERNAL namespace), so
# CONFIG_FUSE_BPF depends on FUSE_FS=y. This checks that Kconfig says so:
# tinyconfig + vm.config + fuse-m.config (which asks for FUSE_FS=m and
# FUSE_BPF=y) must end with FUSE_FS=m and FUSE_BPF unset, and the same
# configuration with FUSE_FS=y must keep FUSE_BPF=y (so the check cannot
# pass because FUSE_BPF went away).
#
# With --build it also builds that kernel in build/kernel-fuse-m (the
# rest of the series must build, pass modpost and work as a module), boots
# it, loads fuse.ko, checks that a fuse_bpf mount is refused, mounts and
# unmounts a plain FUSE file system and unloads the module.
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
[ "$(cfg_val "$cfg" FUSE_BPF)" = unset ] ||
	fail "Kconfig allows CONFIG_FUSE_BPF=$(cfg_val "$cfg" FUSE_BPF) with FUSE_FS=m"

# Control: the same configuration with FUSE_FS=y keeps FUSE_BPF.
ctl=$O/modcheck-control.config
cp "$cfg" "$ctl"
"$TREE/scripts/config" --file "$ctl" -e FUSE_FS -e FUSE_BPF
olddefconfig "$ctl" || fail "olddefconfig (control) failed"
[ "$(cfg_val "$ctl" FUSE_BPF)" = y ] ||
	fail "CONFIG_FUSE_BPF does not take even with FUSE_FS=y"
what="FUSE_FS=m leaves FUSE_BPF unset (FUSE_FS=y keeps it)"

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
if nm "$ko" | grep -q ' [Tt] fuse_bpf_'; then
	fail "$ko holds fuse-bpf code although CONFIG_FUSE_BPF is unset"
fi

guest=$O/modcheck-guest.sh
cat >"$guest" <<EOF
set -e
insmod $ko
grep -qw fuse /proc/filesystems
mkdir -p /mnt/modcheck
exec 3<>/dev/fuse
opts=fd=3,rootmode=40000,user_id=0,group_id=0
if mount -i -t fuse -o \$opts,fuse_bpf none /mnt/modcheck 2>/dev/null; then
	echo "modcheck-guest: a fuse_bpf mount was accepted"
	exit 1
fi
mount -i -t fuse -o \$opts none /mnt/modcheck
grep -q ' /mnt/modcheck fuse ' /proc/mounts
# Closing the device aborts the connection, so the unmount cannot wait
# for a server.
exec 3<&-
umount /mnt/modcheck
rmmod fuse
echo "modcheck-guest: fuse.ko loaded, mounted, unmounted, unloaded"
EOF
bash "$REPO/harness/vm.sh" --name modcheck --timeout 300 \
	--kernel "$O/arch/x86/boot/bzImage" -- sh "$guest" >"$O/vm.log" 2>&1 ||
	fail "fuse.ko in the VM (see $BUILD/vm/modcheck/console.log)"
grep -q '^modcheck-guest: fuse.ko loaded' "$O/vm.log" ||
	fail "the guest did not report (see $BUILD/vm/modcheck/console.log)"
printf 'modcheck: ok: %s; fuse.ko builds, loads, mounts, unloads\n' "$what"
