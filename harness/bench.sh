#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [quick|full]: the fuse-bpf benchmark. In one VM boot, on tmpfs
# (and, in full mode, on ext4 on a ramdisk), the same workloads natively,
# through a bind mount, overlayfs, classic FUSE (libfuse's passthrough_ll,
# bindfs), 6.12 FUSE passthrough (benchfs pt) and fuse-bpf (no daemon; a
# daemon and no program; a trivial program; a filter hiding names; 1% and
# 10% of lookups sent to the daemon), interleaved, median of 3 runs.
# quick: 6 workloads, a few minutes; full: 22 workloads (fio, fs_mark,
# untar, find+grep, a libbpf build, git status), hours under TCG (the
# build alone takes about 3.5 min of host time per cell counting
# instructions: 72 cells with every configuration). Prints a table per
# file system of rates and ratios to native, the daemon requests per
# operation and the design targets; writes results.csv, requests.csv,
# summary.csv, report.txt, hostload.csv and ratios.png in build/bench
# (BENCH_OUT=dir: in dir instead, and the VM runs as build/vm/<its
# name>, so that a second benchmark can run beside the default one).
#
# Quick mode first boots the configurations that do not use fuse-bpf
# (native, bind, passthrough_ll, bindfs, 6.12 passthrough) alone twice:
# on the VM kernel's config with CONFIG_FUSE_BPF=n (build/kernel-nobpf,
# built here) and on the VM kernel, with no fuse-bpf mount in the boot
# (fuse-bpf's static key off), and prints what CONFIG_FUSE_BPF=y costs
# them: rate on =y / rate on =n per cell (cost.txt; bench/cost.py); then
# the same for the main run, beside fuse-bpf mounts (the key on).
# BENCH_NOBPF=0 skips it; it is skipped for BENCH_KERNEL, whose config is
# not known, and in full mode.
#
# Measures instructions, not time, by default: the VM runs QEMU's
# instruction counter (vm.sh --accel icount), in which a guest second is
# 10^9 guest instructions, so a rate is operations per 10^9 instructions
# executed in the guest and repeats across runs and host loads; cache,
# TLB and memory effects are not in it. BENCH_ACCEL=tcg (wall-clock
# TCG) or kvm (where KVM works) measures time instead. BENCH_KERNEL=
# bzImage runs another kernel (default: make kernel's).
#
# Needs the kernel (make kernel) and the BPF tooling the fuse selftests
# build (make selftests): libbpf, vmlinux.h. Copies what it uses into
# the output folder first, so that a rebuild cannot change it mid-run.
. "$(dirname "$0")/lib.sh"

mode=${1:-${BENCH_MODE:-quick}}
case "$mode" in
quick) timeout=1800 ;;
full) timeout=12600 ;;	# 5400 before the build workload
*) die "usage: bench.sh [quick|full]" ;;
esac
out=${BENCH_OUT:-$BUILD/bench}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
# the guest writes only under build/
case "$out/" in "$BUILD"/*/) ;; *) die "BENCH_OUT must be under $BUILD" ;; esac
# The VM's run folder (build/vm/NAME): bench for the default output.
vmname=bench
[ "$out" = "$BUILD/bench" ] || vmname=$(basename "$out")
O=$(kernel_out)
K=$O/kselftest/filesystems/fuse/tools
mkdir -p "$out"

for f in "$O/bzImage" "$K/build/libbpf/libbpf.a" "$K/include/vmlinux.h" \
	 "$K/include/bpf/libbpf.h" "$O/usr/include/linux/fuse.h"; do
	[ -e "$f" ] || die "missing $f: run 'make selftests' first"
done
for t in fio bindfs fs_mark gnuplot mkfs.ext4 git make python3 strace "$CLANG"; do
	command -v "$t" >/dev/null || die "$t missing: run 'make deps'"
done

# A snapshot of the kernel and the BPF tooling.
rm -rf "$out/tools"
mkdir -p "$out/tools/include/linux"
kernel=${BENCH_KERNEL:-$O/bzImage}
[ -f "$kernel" ] || die "no kernel at $kernel"
cp "$kernel" "$out/bzImage"
# what the kernel was built from, now: the run takes hours
series=$(git -C "$REPO" describe --always --dirty)
cp "$K/build/libbpf/libbpf.a" "$out/tools/"
cp -r "$K/include/bpf" "$out/tools/include/"
cp "$K/include/vmlinux.h" "$out/tools/include/"
cp "$O/usr/include/linux/fuse.h" "$out/tools/include/linux/"

note "bench: building the workloads, servers and BPF programs"
src=$REPO/harness/bench
gcc -O2 -Wall -o "$out/fsbench" "$src/fsbench.c" ||
	die "cannot build harness/bench/fsbench.c"
gcc -O2 -Wall -I"$out/tools/include" -o "$out/benchfs" "$src/benchfs.c" \
	"$out/tools/libbpf.a" -lelf -lz ||
	die "cannot build harness/bench/benchfs.c"
ex=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
# shellcheck disable=SC2046 # split into flags
gcc -O2 -Wall -o "$out/passthrough_ll" "$ex" $(pkg-config --cflags --libs fuse3) ||
	die "cannot build $ex"
# The readdir postfilter edits entries only in kernels whose callback
# has the dirents argument; hide.bpf.c hides names in lookups only
# without it.
bpf_flags=()
rm -f "$out/hide.nopost"
if sed -n '/^struct fuse_bpf_postfilters {/,/^};/p' "$out/tools/include/vmlinux.h" |
	grep -q 'readdir)(.*struct fuse_bpf_buf \*'; then
	bpf_flags+=(-DHAVE_READDIR_POST)
else
	note "bench: this kernel's readdir postfilter cannot edit entries; the filter hides names from lookups only"
	touch "$out/hide.nopost"
fi
for p in trivial hide route; do
	"$CLANG" -g -O2 -Wall -Werror --target=bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
		"${bpf_flags[@]}" -I"$out/tools/include" \
		-c "$src/$p.bpf.c" -o "$out/$p.bpf.o" ||
		die "cannot build harness/bench/$p.bpf.c"
done

# The source tarballs for untar and find+grep: parts of tools/ of the
# base commit (not of the work tree, which a kernel developer may be
# editing while this runs).
git -C "$TREE" rev-parse -q --verify base >/dev/null ||
	die "no base commit in $TREE: run 'make tree' first"
git -C "$TREE" archive --format=tar -o "$out/src-quick.tar" base \
	tools/lib tools/include
git -C "$TREE" archive --format=tar -o "$out/src-full.tar" base \
	tools/lib tools/include tools/arch tools/bpf tools/objtool tools/power
# The tarball of the build workload: libbpf's sources and what its
# Makefile includes (tools/build, tools/scripts) or runs
# (scripts/bpf_doc.py makes bpf_helper_defs.h); the guest has no
# network and builds it with the host's gcc, make and python3.
git -C "$TREE" archive --format=tar -o "$out/src-build.tar" base \
	tools/lib/bpf tools/include tools/arch/x86/include tools/build \
	tools/scripts scripts/bpf_doc.py

# The tools of the workloads that run programs (untar, find_grep, build,
# gitstatus; see bench-guest.sh): they run them here once under strace,
# and toolroot.tar holds every file they used outside their directories
# (executables, libraries, headers, python modules), for the guest to
# run them from a tmpfs. Left out: LLVM's linker plugins, which ar loads
# when it finds them (libLLVM is 100 MB and more), and /usr/local (this
# host's python path hooks).
if [ "$mode" = full ] ||
	[[ " ${BENCH_WORKLOADS:-} " =~ \ (build|gitstatus|untar|find_grep)\  ]]; then
	note "bench: tracing the real workloads for their tools (about 30 s)"
	tr=$out/toolroot.trace
	rm -rf "$tr"
	mkdir -p "$tr/log" "$tr/build" "$tr/git" "$tr/untar"
	w="bash $REPO/harness/bench/realwork.sh"
	(cd / && env -i PATH=/usr/bin:/bin HOME=/ strace -f -ff -qq -s 4096 \
		-e trace=%file -o "$tr/log/t" bash -c "
		$w untar '$out/src-full.tar' '$tr/untar' >/dev/null &&
		$w find_grep '$tr/untar' '$tr/files' >/dev/null &&
		$w build '$out/src-build.tar' '$tr/build' &&
		$w gitsetup '$out/src-full.tar' '$tr/git' '$tr/git' &&
		$w gitstatus '$tr/git' 1") >"$tr/run.log" 2>&1 ||
		die "the real workloads failed on the host (see $tr/run.log)"
	python3 "$src/toolroot.py" "$tr"/log/t.* -- /tmp "$BUILD" /usr/local \
		'/usr/lib/llvm-*' '/usr/lib/x86_64-linux-gnu/libLLVM*' \
		'/usr/lib/bfd-plugins/*' >"$tr/list" ||
		die "cannot list the real workloads' files"
	tar -cf "$out/toolroot.tar" --no-recursion -C / -T "$tr/list" ||
		die "cannot make $out/toolroot.tar"
	rm -rf "$tr/build" "$tr/git" "$tr/untar" "$tr/files" "$tr/log"
fi

mem=4096
accel=${BENCH_ACCEL:-icount}
case "$accel" in
icount) timeout=$((timeout * 3)) ;;
tcg|kvm) ;;
*) die "BENCH_ACCEL must be icount, tcg or kvm" ;;
esac
# Narrowing a run (development): passed on to bench-guest.sh.
env=
for v in BENCH_FS BENCH_CONFIGS BENCH_WORKLOADS RUNS SECONDS_PER_RUN; do
	[ -n "${!v:-}" ] && env+="$v='${!v}' "
done

# The configurations that do not use fuse-bpf, of those run: on the
# CONFIG_FUSE_BPF=n kernel too.
nobpf_configs=
if [ "$mode" = quick ] && [ "${BENCH_NOBPF:-1}" != 0 ] && [ -z "${BENCH_KERNEL:-}" ]; then
	for c in native bind pll bindfs pt; do
		[[ " ${BENCH_CONFIGS:-$c} " =~ \ $c\  ]] && nobpf_configs+="$c "
	done
fi
rm -f "$out/results.csv" "$out/requests.csv" "$out/failures.log" \
	"$out"/nobpf{,-y}.csv "$out"/nobpf{,-y}-failures.log "$out/cost.txt"
if [ -n "$nobpf_configs" ]; then
	note "bench: building the CONFIG_FUSE_BPF=n kernel in $BUILD/kernel-nobpf"
	# one build at a time: a second bench (BENCH_OUT) may run beside
	(
		flock 9
		nobpf=$(nobpf_config "$O") || exit 1
		make -s -C "$TREE" O="$nobpf" -j"$NPROC" bzImage >"$out/nobpf-build.log" 2>&1 ||
			die "the CONFIG_FUSE_BPF=n kernel does not build (see $out/nobpf-build.log)"
		cp "$nobpf/arch/x86/boot/bzImage" "$out/bzImage-nobpf"
	) 9>"$BUILD/kernel-nobpf.lock" || exit 1
fi
# Under TCG the host's load changes what the guest gets: record it.
load_start=$(uptime | sed 's/.*load average: //')

# The CPU the host spends on anything but this VM, in cores, every 10 s:
# what the guest had to share the host with.
host_busy() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
sample_host() {
	local qemu="" b0 q0 b1 q1 t=0
	for _ in $(seq 1 50); do
		qemu=$(pgrep -f -- "^qemu-system.*fbt.run=$BUILD/vm/$vmname( |$)" | head -n 1) || true
		[ -n "$qemu" ] && break
		sleep 0.2
	done
	[ -n "$qemu" ] || return 0
	echo "seconds,other_cores" >"$out/hostload.csv"
	b0=$(host_busy)
	q0=$(awk '{ print $14 + $15 }' "/proc/$qemu/stat") || return 0
	while sleep 10; do
		b1=$(host_busy)
		q1=$(awk '{ print $14 + $15 }' "/proc/$qemu/stat" 2>/dev/null) || break
		t=$((t + 10))
		echo "$t,$(awk -v b=$((b1 - b0)) -v q=$((q1 - q0)) -v hz="$(getconf CLK_TCK)" \
			'BEGIN { v = (b - q) / hz / 10; printf "%.2f", v < 0 ? 0 : v }')" \
			>>"$out/hostload.csv"
		b0=$b1 q0=$q1
	done
}
# One VM boot of the benchmark: run_vm KERNEL LOG [VAR=value...] (passed
# on to bench-guest.sh, after those of the narrowing).
run_vm() {
	local kernel=$1 log=$2 vm_rc=0 sampler
	shift 2
	rm -f "$out/hostload.csv"
	sample_host &
	sampler=$!
	# tsc=reliable: under TCG the TSC drifts against the jiffies
	# watchdog, which would switch the guest to a jiffy-grained clock
	# mid-run. brd: one 2 GiB ramdisk for ext4 (removed files stay
	# allocated while a stacked mount still caches them, up to a round
	# of fio files).
	FBT_APPEND="tsc=reliable brd.rd_nr=1 brd.rd_size=2097152 ${FBT_APPEND:-}" \
		bash "$REPO/harness/vm.sh" --name "$vmname" --timeout "$timeout" \
		--mem $mem --accel "$accel" --kernel "$kernel" -- \
		"$env $* FBT_BENCH='$out' BENCH_MODE=$mode bash '$REPO/harness/bench/bench-guest.sh'" \
		>"$log" 2>&1 || vm_rc=$?
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	if [ "$vm_rc" != 0 ]; then
		tail -n 30 "$log" >&2
		die "the benchmark run failed (see $log)"
	fi
}

if [ -n "$nobpf_configs" ]; then
	start=$(date +%s)
	for k in nobpf nobpf-y; do
		kernel=$out/bzImage-nobpf
		[ $k = nobpf-y ] && kernel=$out/bzImage
		note "bench: $mode run of ${nobpf_configs% } on $kernel (log: $out/vm-$k.log)"
		run_vm "$kernel" "$out/vm-$k.log" "BENCH_CONFIGS='${nobpf_configs% }'"
		mv "$out/results.csv" "$out/$k.csv"
		if [ -f "$out/failures.log" ]; then
			mv "$out/failures.log" "$out/$k-failures.log"
		fi
		rm -f "$out/requests.csv"
	done
	wall_nobpf=$(($(date +%s) - start))
fi
note "bench: $mode run in the VM (log: $out/vm.log)"
start=$(date +%s)
run_vm "$out/bzImage" "$out/vm.log"
wall=$(($(date +%s) - start))
other=$(awk -F, 'NR > 1 { s += $2; n++; if ($2 > m) m = $2 }
	END { if (n) printf "mean %.2f, max %.2f cores (%d samples)", s / n, m, n;
	      else printf "not sampled" }' "$out/hostload.csv" 2>/dev/null || echo "not sampled")
load_end=$(uptime | sed 's/.*load average: //')

repro="make bench"
[ "$mode" = full ] && repro="make bench-full"
{
	echo "fuse-bpf benchmark ($mode), $(date -u +%F), base $BASE_VERSION"
	case "$accel" in
	icount) echo "measure: guest instructions (QEMU TCG -icount shift=0:" \
		"a guest second is 10^9 guest instructions; rates are operations" \
		"per 10^9 instructions, without cache or memory effects)" ;;
	*) echo "measure: wall-clock time under QEMU ${accel^^} (varies with" \
		"the host's load)" ;;
	esac
	echo "VM: QEMU ${accel^^}, 2 vCPUs, $mem MiB, kernel $out/bzImage (copy" \
		"of $kernel); host $(nproc) cores" \
		"$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "series: $series at the start (the kernel" \
		"was built from the work tree at the time of the snapshot)"
	echo "host load average (1, 5, 15 min) at the start: $load_start;" \
		"at the end: $load_end"
	echo "host CPU used by other processes during the run: $other" \
		"(of $(nproc); $out/hostload.csv)"
	echo "wall time of the VM run: ${wall}s; reproduce: $repro" \
		"(or bash harness/bench.sh $mode)"
	[ -n "$nobpf_configs" ] &&
		echo "before it, ${nobpf_configs% } alone on the" \
			"CONFIG_FUSE_BPF=n kernel ($out/bzImage-nobpf, its config with" \
			"fuse-bpf off) and on this kernel: VM runs of ${wall_nobpf}s"
} >"$out/header.txt"
python3 "$src/report.py" "$out" >"$out/report.txt" ||
	die "cannot make the report (see $out/results.csv)"
if [ -n "$nobpf_configs" ]; then
	{
		echo
		echo "== what CONFIG_FUSE_BPF=y costs mounts without fuse-bpf, no fuse-bpf mount in the boot =="
		python3 "$src/cost.py" "$out/nobpf-y.csv" "$out/nobpf.csv"
		echo
		echo "== the same beside fuse-bpf mounts (the main run; the static key on) =="
		python3 "$src/cost.py" --no-target "$out/results.csv" "$out/nobpf.csv"
	} >"$out/cost.txt" || die "cannot compare the two kernels (see $out/nobpf.csv)"
	cat "$out/cost.txt" >>"$out/report.txt"
fi
cat "$out/header.txt" "$out/report.txt"
for f in failures nobpf-failures nobpf-y-failures; do
	[ -s "$out/$f.log" ] || continue
	echo
	echo "failed runs (empty cells; details in $out/$f.log):"
	grep ': failed$' "$out/$f.log" | sort | uniq -c | head -n 20
done
gnuplot "$out/ratios.gp" >/dev/null 2>"$out/gnuplot.log" ||
	note "bench: gnuplot failed (see $out/gnuplot.log)"
[ -f "$out/ratios.png" ] && echo "plot: $out/ratios.png"
echo "csv: $out/results.csv $out/requests.csv"
