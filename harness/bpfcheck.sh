#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bpfcheck.sh: run the series' test in tools/testing/selftests/bpf
# (prog_tests/kfunc_dynptr_uninit.c, with its kfunc in bpf_testmod.ko) with
# test_progs in the VM, on the kernel modcheck.sh builds (fuse as a module:
# the VM kernel has no module support, bpf_testmod needs it).
#
# test_progs is built from a copy of selftests/bpf that holds only the
# series' tests, in build/linux/tools/testing/selftests/bpf-fbtcheck (the
# Makefile finds libbpf, bpftool and the headers by relative paths; the copy
# is excluded from the work tree's git status, so make sync ignores it):
# the other tests need a kernel configured as tools/testing/selftests/bpf/
# config says, which is not the VM kernel's config.
. "$(dirname "$0")/lib.sh"

TESTS=(kfunc_dynptr_uninit)
O=$BUILD/kernel-fuse-m
out=$BUILD/bpfcheck
[ -f "$O/vmlinux" ] && [ -f "$O/arch/x86/boot/bzImage" ] ||
	die "no $O: run 'make modcheck BUILD=1' first"

src=$TREE/tools/testing/selftests/bpf
dst=$TREE/tools/testing/selftests/bpf-fbtcheck
grep -qxF /tools/testing/selftests/bpf-fbtcheck/ "$TREE/.git/info/exclude" ||
	echo /tools/testing/selftests/bpf-fbtcheck/ >>"$TREE/.git/info/exclude"
rm -rf "$dst"
mkdir -p "$dst"
(cd "$src" && tar --exclude='./progs/*.c' --exclude='./prog_tests/*.c' -chf - .) |
	(cd "$dst" && tar -xf -)
for t in "${TESTS[@]}"; do
	cp -L "$src/progs/$t.c" "$dst/progs/"
	cp -L "$src/prog_tests/$t.c" "$dst/prog_tests/"
done

note "building test_progs and bpf_testmod.ko against $O"
make -s -C "$TREE" O="$O" headers >"$out.log" 2>&1 ||
	die "make headers failed (see $out.log)"
# No light or linked skeletons: their programs are other tests'.
make -C "$dst" O="$O" OUTPUT="$out" CLANG="$CLANG" LLC="${CLANG/clang/llc}" \
	LLVM_STRIP="$LLVM_STRIP" VMLINUX_BTF="$O/vmlinux" \
	KHDR_INCLUDES="-isystem $O/usr/include" \
	LSKELS= LSKELS_EXTRA= LINKED_SKELS= -j"$NPROC" \
	"$out/test_progs" >>"$out.log" 2>&1 || {
	tail -n 20 "$out.log" >&2
	die "building test_progs failed (see $out.log)"
}

note "running test_progs -t ${TESTS[*]} in the VM"
names=$(IFS=,; echo "${TESTS[*]}")
status=0
bash "$REPO/harness/vm.sh" --name bpfcheck --timeout 600 \
	--kernel "$O/arch/x86/boot/bzImage" -- \
	"cd $out && insmod bpf_testmod.ko && ./test_progs -v -t $names" \
	>"$out/vm.log" 2>&1 || status=$?
grep -E '^(#[0-9]|Summary:)' "$out/vm.log" || true
# Every program of the tests ran as a subtest and passed: a test that was
# not found or not copied must not pass as "0 FAILED".
want=0
for t in "${TESTS[@]}"; do
	want=$((want + $(grep -c '^SEC(' "$dst/progs/$t.c")))
done
got=$(tr -d '\r' <"$out/vm.log" | grep -cE '^#[0-9]+/[0-9]+ +[a-z_]+/[a-z_]+:OK$' || true)
grep -q '^Summary: .*, 0 FAILED' "$out/vm.log" && [ $status = 0 ] &&
	[ "$got" = "$want" ] ||
	die "test_progs: $got of $want subtests passed (see $out/vm.log)"
note "bpfcheck: ok, $got of $want subtests passed"
