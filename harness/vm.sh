#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh [options] -- command...
#
# Boot the built kernel under QEMU with the host's root read-only over
# 9p and the build folder writable, run the command as root inside,
# print its output, and exit with its status. The run fails (exit 1
# or more) when the command fails, when the guest does not finish in
# time (it is killed), or when the kernel log shows an oops, BUG,
# WARNING, KASAN, lockdep or kmemleak report.
#
# Options: --timeout SECONDS (default 600), --accel tcg|icount|kvm
# (default tcg, or $FBT_ACCEL; icount: single-threaded TCG whose guest
# clock counts guest instructions, one per nanosecond, so that a guest
# timing is an instruction count and repeats across runs and host
# loads), --mem MiB, --cpus N, --kernel bzImage, --name NAME (run
# folder build/vm/NAME). FBT_QEMU_ARGS: more QEMU arguments, split at
# blanks (say, "-plugin build/insnprof/insnprof.so,out=FILE").
. "$(dirname "$0")/lib.sh"

timeout=${FBT_TIMEOUT:-600}
accel=${FBT_ACCEL:-tcg}
mem=2048
cpus=2
kernel=$(kernel_out)/bzImage
name=run
[ "${DEBUG:-0}" = 1 ] && mem=4096

while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "usage: vm.sh [options] -- command..."
[ -f "$kernel" ] || die "no kernel at $kernel: run 'make kernel' first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run 'make deps'"

run=$BUILD/vm/$name
rm -rf "$run"
mkdir -p "$run"
printf '%s\n' "$*" >"$run/cmd"
# (the guest runs cmd: the extra arguments are recorded beside it)
[ -z "${FBT_QEMU_ARGS:-}" ] || printf '%s\n' "$FBT_QEMU_ARGS" >"$run/qemu-args"
date +%s >"$run/epoch"
pwd >"$run/cwd"
log=$run/console.log

case "$accel" in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
icount) accel_args=(-accel tcg,thread=single -cpu max
		    -icount shift=0,sleep=off,align=off) ;;
*) die "--accel must be tcg, icount or kvm" ;;
esac

qemu=(
	qemu-system-x86_64 "${accel_args[@]}" -smp "$cpus" -m "$mem"
	-nodefaults -no-user-config -display none -no-reboot
	-chardev stdio,id=con,signal=off -serial chardev:con
	-device virtio-rng-pci
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
	-fsdev "local,id=build,path=$BUILD,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=build,mount_tag=build
	-kernel "$kernel"
	-append "console=ttyS0 earlyprintk=serial,ttyS0 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=1048576,cache=loose ro init=$REPO/harness/guest-init panic=-1 oops=panic loglevel=5 fbt.build=$BUILD fbt.run=$run ${FBT_APPEND:-}"
)
read -ra extra <<<"${FBT_QEMU_ARGS:-}"
qemu+=("${extra[@]}")

set +e
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
qrc=${PIPESTATUS[0]}
set -e

# Kernel reports that fail a run even when the command passed.
splat='(BUG:|WARNING:|Oops|general protection fault|Kernel panic|KASAN:|UBSAN:|'
splat+='possible recursive locking|possible circular locking|inconsistent lock state|'
splat+='suspicious RCU usage|unreferenced object|INFO: task .* blocked|'
splat+='Call Trace:|sleeping function called from invalid context)'
fail=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	note "vm: the guest did not finish within ${timeout}s and was killed"
	fail=1
fi
if grep -aEq "$splat" "$log"; then
	note "vm: kernel log shows a splat:"
	grep -aE "$splat" "$log" | head -n 5 | sed 's/^/vm:   /' >&2
	fail=1
fi
if [ ! -f "$run/status" ]; then
	[ $fail = 1 ] || note "vm: the guest ended without reporting a status (qemu exit $qrc)"
	exit 1
fi
rc=$(cat "$run/status")
[ "$rc" = 0 ] || note "vm: command exited with status $rc"
[ $fail = 0 ] || exit 1
exit "$rc"
