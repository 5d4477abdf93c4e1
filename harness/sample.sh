#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# sample.sh: build the fuse-bpf sample daemon (samples/fuse) into
# build/sample/ against the built kernel and the fuse kselftests' libbpf,
# bootstrap bpftool and vmlinux.h (harness/selftests.sh builds those),
# and beside it the request-program samples fuse_bpf_reqcache and
# fuse_bpf_union and the mount helper mount.fuse.fuse-bpf (libc only).
# Prints the path of the daemon fuse_bpf_mirror on success; the others
# are in the same folder.
. "$(dirname "$0")/lib.sh"

O=$(kernel_out)
build_lock "sample-$(basename "$O")"
OUT=${SAMPLE_OUT:-$BUILD/sample}
TOOLS=$O/kselftest/filesystems/fuse/tools
BPFTOOL=$TOOLS/build/bpftool/bootstrap/bpftool
LIBBPF=$TOOLS/build/libbpf/libbpf.a
BPF_INCLUDE=$TOOLS/include
UAPI_INCLUDE=$O/usr/include

missing() {
	die "$1 is missing: $2"
}

[ -f "$UAPI_INCLUDE/linux/fuse.h" ] ||
	missing "$UAPI_INCLUDE/linux/fuse.h" "build the kernel first (make kernel)"
grep -q fuse_bpf_entry_out "$UAPI_INCLUDE/linux/fuse.h" ||
	die "$UAPI_INCLUDE/linux/fuse.h has no fuse-bpf uapi: rebuild the kernel (make kernel)"
[ -x "$BPFTOOL" ] || missing "$BPFTOOL" "build the fuse kselftests first (make selftests)"
[ -f "$LIBBPF" ] || missing "$LIBBPF" "build the fuse kselftests first (make selftests)"
[ -f "$BPF_INCLUDE/vmlinux.h" ] ||
	missing "$BPF_INCLUDE/vmlinux.h" "build the fuse kselftests first (make selftests)"
[ -f "$BPF_INCLUDE/bpf/libbpf.h" ] ||
	missing "$BPF_INCLUDE/bpf/libbpf.h" "build the fuse kselftests first (make selftests)"
command -v "$CLANG" >/dev/null || missing "$CLANG" "install clang-19 (make deps)"
command -v pkg-config >/dev/null || missing pkg-config "install pkg-config (make deps)"
pkg-config --exists fuse3 ||
	missing "libfuse3 (pkg-config fuse3)" "install libfuse3-dev (make deps)"
for lib in elf z; do
	printf 'int main(void) { return 0; }\n' |
		cc -x c - -o /dev/null -l$lib 2>/dev/null ||
		missing "lib$lib" "install libelf-dev and zlib1g-dev (make deps)"
done

mkdir -p "$OUT"
log=$OUT/build.log
note "building the fuse-bpf sample daemon and mount helper into $OUT"
make -C "$REPO/samples/fuse" OUTPUT="$OUT/" CLANG="$CLANG" BPFTOOL="$BPFTOOL" \
	LIBBPF="$LIBBPF" BPF_INCLUDE="$BPF_INCLUDE" UAPI_INCLUDE="$UAPI_INCLUDE" \
	>"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	die "building the sample failed (full log: $log)"
}
for f in fuse_bpf_mirror fuse_bpf_reqcache fuse_bpf_union mount.fuse.fuse-bpf; do
	[ -x "$OUT/$f" ] || die "the sample build made no $OUT/$f (log: $log)"
done
echo "$OUT/fuse_bpf_mirror"
