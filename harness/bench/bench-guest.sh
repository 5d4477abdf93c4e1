#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM (see harness/bench.sh): every workload under every
# configuration, on each backing file system (tmpfs, ext4 on a ramdisk),
# $RUNS runs each, the configurations interleaved (their order rotates
# from run to run). Writes $FBT_BENCH/results.csv
#   fs,config,workload,run,value,ops
# (value: the workload's rate, see UNITS in bench.sh; empty when the run
# failed) and $FBT_BENCH/requests.csv
#   fs,config,workload,run,ops,requests
# (requests: what benchfs counted for that run, "OPCODE=N ...").
#
# Environment: FBT_BENCH (the build/bench folder), BENCH_MODE (quick or
# full), BENCH_FS, BENCH_CONFIGS, BENCH_WORKLOADS, RUNS, SECONDS_PER_RUN
# to narrow or widen a run.
set -euo pipefail

O=$FBT_BENCH
MODE=${BENCH_MODE:-quick}
FSB=$O/fsbench
BFS=$O/benchfs
PLL=$O/passthrough_ll
B=/tmp/bench		# the backing file system
M=/tmp/mnt		# mount points (a tmpfs of the guest)
RES=$O/results.csv
REQ=$O/requests.csv
FAIL=$O/failures.log

if [ "$MODE" = full ]; then
	RUNS=${RUNS:-3}
	SECONDS_PER_RUN=${SECONDS_PER_RUN:-0.5}
	FIO_SIZE=64M
	export FSBENCH_DIRENTS=10000
	TARBALL=$O/src-full.tar
	FS_MARK_FILES=1000
	WORKLOADS=(stat stat_cold open_close read4k create unlink mkdir rename
		   getxattr readdir fio_seqread_1m fio_seqread_4k
		   fio_seqwrite_1m fio_seqwrite_4k fio_randread_4k
		   fio_randwrite_4k fio_mmapread fs_mark untar find_grep
		   build gitstatus)
else
	RUNS=${RUNS:-3}
	SECONDS_PER_RUN=${SECONDS_PER_RUN:-0.4}
	FIO_SIZE=64M
	export FSBENCH_DIRENTS=2000
	TARBALL=$O/src-quick.tar
	FS_MARK_FILES=1000
	# fsbench's own sequential and random reads: a fio run costs more
	# than a second of start-up under TCG
	WORKLOADS=(stat open_close create readdir seqread randread)
fi
[ -n "${BENCH_WORKLOADS:-}" ] && read -ra WORKLOADS <<<"$BENCH_WORKLOADS"
FIO_RUNTIME=$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { printf "%dms", s * 1000 }')
RUN_US=$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { printf "%d", s * 1000000 }')
# The workloads that run programs (untar, find_grep, and the real ones:
# build, a libbpf build from src-build.tar; gitstatus) run their timed
# part chrooted in $ROOT, a tmpfs holding a copy of every file they use
# outside their directory (toolroot.tar, see bench.sh) and of the
# tarballs, with the backing file system and the mounts bound in at the
# same paths: under QEMU's instruction counting with sleep=off, each
# wait for the host's root over 9p (every exec, shared library and
# header, the tarball untar reads, the tools find_grep's drop_caches
# evicts) jumps the guest clock to its next timer event (a /bin/true
# took from 1 to 115 ms), which would swamp what the mounts cost. The
# chroot sees no 9p file system, and drop_caches leaves its tmpfs pages.
ROOT=/tmp/realroot
REALWORK=/realwork.sh
BUILD_TARBALL=$O/src-build.tar
real=
case " ${WORKLOADS[*]} " in
*" build "* | *" gitstatus "* | *" untar "* | *" find_grep "*) real=1 ;;
esac
CONFIGS=(native bind ovl pll bindfs pt fbnd fbndc fbd fbtriv fbhide fbu1 fbu10)
[ -n "${BENCH_CONFIGS:-}" ] && read -ra CONFIGS <<<"$BENCH_CONFIGS"
FSLIST=(tmpfs ext4)
[ "$MODE" = quick ] && FSLIST=(tmpfs)
[ -n "${BENCH_FS:-}" ] && read -ra FSLIST <<<"$BENCH_FS"
# Configurations served by benchfs, which counts the requests it gets.
COUNTED=" pt fbd fbtriv fbhide fbu1 fbu10 "

ulimit -n 65536
# Tools that write logs to the working directory (fs_mark's fs_log.txt)
# must not write into the repository.
cd /tmp
echo "fs,config,workload,run,value,ops" >"$RES"
echo "fs,config,workload,run,ops,requests" >"$REQ"
: >"$FAIL"
tar_entries=$(tar -tf "$TARBALL" | wc -l)
if [ -n "$real" ]; then
	mkdir -p "$ROOT"
	mount -t tmpfs -o size=1g tmpfs "$ROOT"
	tar -xf "$O/toolroot.tar" -C "$ROOT"
	mkdir -p "$ROOT/tmp" "$ROOT/proc" "$ROOT/dev" "$ROOT/src" "$ROOT$B" "$ROOT$M"
	chmod 1777 "$ROOT/tmp"
	mount -t proc proc "$ROOT/proc"
	mount --bind /dev "$ROOT/dev"
	cp "$BUILD_TARBALL" "$TARBALL" "$ROOT/src/"
	cp "$(dirname "$0")/realwork.sh" "$ROOT$REALWORK"
fi
# the filter configurations need the readdir postfilter to hide names
hide_post=hide_post
[ -f "$O/hide.nopost" ] && hide_post=-

log() { echo "bench: $*" >&2; }

# Where a configuration's workloads run.
mount_dir() {
	case "$1" in
	native) echo "$B/native" ;;
	*) echo "$M/$1" ;;
	esac
}

# The directory where a configuration's workload prepares files: the
# backing directory of stacked mounts, the mount itself for overlayfs
# (whose upper layer must not be written behind its back) and native.
setup_dir() {
	case "$1" in
	native) echo "$B/native" ;;
	ovl) echo "$M/ovl" ;;
	*) echo "$B/$1.back" ;;
	esac
}

mount_config() {
	local c=$1 back=$B/$1.back mnt=$M/$1
	case "$c" in native) mkdir -p "$B/native"; return ;; esac
	mkdir -p "$back" "$mnt"
	case "$c" in
	bind) mount --bind "$back" "$mnt" ;;
	ovl) mkdir -p "$B/ovl.lower" "$B/ovl.upper" "$B/ovl.work"
	     rmdir "$back"
	     mount -t overlay overlay -o "lowerdir=$B/ovl.lower,upperdir=$B/ovl.upper,workdir=$B/ovl.work" "$mnt" ;;
	pll) "$PLL" -o "source=$back,xattr" "$mnt" ;;
	bindfs) bindfs "$back" "$mnt" ;;
	pt) "$BFS" mount pt "$back" "$mnt" "$M/$c.counts" >/dev/null ;;
	fbnd) exec 3<"$back"
	      mount -i -t fuse -o no_daemon,root_dir=3 fuse-bpf "$mnt"
	      exec 3<&- ;;
	fbndc) exec 3<"$back"
	       mount -i -t fuse -o no_daemon,root_dir=3,backing_timeout=1000 \
		     fuse-bpf "$mnt"
	       exec 3<&- ;;
	fbd) "$BFS" mount fb "$back" "$mnt" "$M/$c.counts" >/dev/null ;;
	fbtriv) "$BFS" mount fb "$back" "$mnt" "$M/$c.counts" \
		"$O/trivial.bpf.o" trivial_pre trivial_post >/dev/null ;;
	fbhide) "$BFS" mount fb "$back" "$mnt" "$M/$c.counts" \
		"$O/hide.bpf.o" hide_pre "$hide_post" >/dev/null ;;
	fbu1) "$BFS" mount fb "$back" "$mnt" "$M/$c.counts" \
	      "$O/route.bpf.o" route_pre - 10 >/dev/null ;;
	fbu10) "$BFS" mount fb "$back" "$mnt" "$M/$c.counts" \
	       "$O/route.bpf.o" route_pre - 100 >/dev/null ;;
	*) echo "unknown configuration $c" >&2; exit 1 ;;
	esac
}

fio_job() {
	local dir=$1 setup=$2 w=$3 rw bs engine=psync
	case "$w" in
	fio_seqread_1m) rw=read bs=1M ;;
	fio_seqread_4k) rw=read bs=4k ;;
	fio_seqwrite_1m) rw=write bs=1M ;;
	fio_seqwrite_4k) rw=write bs=4k ;;
	fio_randread_4k) rw=randread bs=4k ;;
	fio_randwrite_4k) rw=randwrite bs=4k ;;
	fio_mmapread) rw=read bs=1M engine=mmap ;;
	esac
	# The file is made in the setup directory, so that laying it out
	# (writes through the mount) is neither timed nor counted; write jobs
	# overwrite it. --filename: without it fio 3.33 names a time-based
	# job's file "bench" and lays it out through the mount again.
	head -c "$FIO_SIZE" /dev/zero >"$setup/bench.0.0" || return 1
	# invalidate=0: a FUSE file's fadvise(DONTNEED) does not reach the
	# backing file's page cache; keep every configuration's cache warm.
	# Terse output (version 3): field 5 the error, 6-9 the read KiB, KiB/s,
	# IOPS and milliseconds, 47-50 the same for writes.
	fio --name=bench --directory="$dir" --filename=bench.0.0 \
	    --size="$FIO_SIZE" --rw=$rw --bs=$bs --ioengine=$engine \
	    --runtime="$FIO_RUNTIME" --time_based --numjobs=1 \
	    --fallocate=none --invalidate=0 --output-format=terse \
	    --terse-version=3 |
		awk -F';' -v bs=$bs '
		# ops: I/Os; rate: MiB/s for 1 MiB blocks, I/Os per second for 4 KiB
		NF >= 50 && $5 == 0 {
			kb = $6 + $47; ms = $9 > $50 ? $9 : $50
			if (kb <= 0 || ms <= 0) exit 1
			if (bs == "1M") printf "%.1f %d\n", kb / 1024 / (ms / 1000), kb / 1024
			else printf "%.1f %d\n", kb / 4 / (ms / 1000), kb / 4
			ok = 1
		}
		END { if (!ok) exit 1 }'
}

# Run workload $3 in directory $1 (setup directory $2); print "rate ops".
run_workload() {
	local dir=$1 setup=$2 w=$3 t n
	case "$w" in
	fio_*) fio_job "$dir" "$setup" "$w" ;;
	fs_mark)
		fs_mark -d "$dir" -n "$FS_MARK_FILES" -s 4096 -S 0 -L 1 -t 1 -k \
			-l "$M/fs_mark.log" |
			awk -v n="$FS_MARK_FILES" '$1 ~ /^[0-9]+$/ && NF >= 5 { r = $4 }
				END { if (r == "") exit 1; print r, n }' ;;
	untar)
		# Timed: tar -xf of $TARBALL onto the mount, in $ROOT from
		# its copy there. Rate: entries per second.
		t=$(chroot "$ROOT" /usr/bin/bash "$REALWORK" untar \
			"/src/${TARBALL##*/}" "$dir") || return 1
		echo "$t $tar_entries" | awk '$1 > 0 { printf "%.1f %d\n", $2 / $1, $2; ok = 1 }
			END { if (!ok) exit 1 }' ;;
	find_grep)
		# Untimed: $TARBALL extracted in the setup directory, caches
		# dropped (the chroot's tools stay: tmpfs), the guest idle for
		# what the drop deferred (realwork.sh settle). Timed, in
		# $ROOT: find of the mount's files, xargs grep of them. Rate:
		# files per second.
		tar -xf "$TARBALL" -C "$setup" || return 1
		sync
		echo 3 >/proc/sys/vm/drop_caches
		t=$(chroot "$ROOT" /usr/bin/bash "$REALWORK" find_grep "$dir" \
			"$M/files") || return 1
		n=$(tr -cd '\0' <"$M/files" | wc -c)
		[ "$n" -gt 0 ] || return 1
		echo "$t $n" | awk '$1 > 0 { printf "%.1f %d\n", $2 / $1, $2; ok = 1 }
			END { if (!ok) exit 1 }' ;;
	build)
		# A real C build on the mount, one operation: extract
		# src-build.tar, make libbpf's static library with its own
		# Makefile and make -j2 (fixdep, bpf_helper_defs.h by python,
		# the 22 objects of libbpf-y with -g -O2, ld -r, ar), make
		# clean; all of it timed (realwork.sh). Rate: builds per hour.
		t=$(chroot "$ROOT" /usr/bin/bash "$REALWORK" build \
			"/src/${BUILD_TARBALL##*/}" "$dir") || return 1
		echo "$t" | awk '$1 > 0 { printf "%.2f 1\n", 3600 / $1; ok = 1 }
			END { if (!ok) exit 1 }' ;;
	gitstatus)
		# Untimed: a git repository of $TARBALL's files made in the
		# setup directory (the backing directory: the same work for
		# every configuration), then two git status through the mount
		# to warm the caches and the index; the requests they make are
		# not counted. Timed: git status until $SECONDS_PER_RUN passed
		# (3 at least); op = one git status of a clean tree.
		chroot "$ROOT" /usr/bin/bash "$REALWORK" gitsetup \
			"/src/${TARBALL##*/}" "$setup" "$dir" || return 1
		[ -z "$cell_counts" ] || "$BFS" counts "$cell_counts" --reset
		t=$(chroot "$ROOT" /usr/bin/bash "$REALWORK" gitstatus "$dir" \
			"$RUN_US") || return 1
		echo "$t" | awk '$1 > 0 && $2 > 0 { printf "%.1f %d\n", $2 / ($1 / 1e6), $2; ok = 1 }
			END { if (!ok) exit 1 }' ;;
	*) "$FSB" "$dir" "$w" "$SECONDS_PER_RUN" "$setup" | cut -d' ' -f2- ;;
	esac
}

run_cell() {
	local fs=$1 c=$2 w=$3 run=$4 setup dir out req=
	setup=$(setup_dir "$c")/$w.$run
	dir=$(mount_dir "$c")/$w.$run
	mkdir "$setup"
	# no write-back of an earlier cell's data during this one
	sync
	# Look the run directory up once (open(2) of an uncached name takes
	# fuse-bpf's atomic_open, which does not send FUSE_BPF_USER lookups to
	# the server; see results.md).
	stat "$dir" >/dev/null
	# the counts of a counted configuration (a workload with untimed
	# set-up through the mount resets them after it)
	cell_counts=
	case "$COUNTED" in *" $c "*) cell_counts=$M/$c.counts ;; esac
	[ -z "$cell_counts" ] || "$BFS" counts "$cell_counts" --reset
	if out=$(run_workload "$dir" "$setup" "$w" 2>>"$FAIL") && [ -n "$out" ]; then
		echo "$fs,$c,$w,$run,${out% *},${out#* }" >>"$RES"
	else
		echo "$fs $c $w $run: failed" >>"$FAIL"
		echo "$fs,$c,$w,$run,,0" >>"$RES"
		out="0 0"
	fi
	case "$COUNTED" in *" $c "*)
		req=$("$BFS" counts "$M/$c.counts")
		echo "$fs,$c,$w,$run,${out#* },$req" >>"$REQ" ;;
	esac
	rm -rf "$setup"
}

for fs in "${FSLIST[@]}"; do
	mkdir -p $B $M
	case "$fs" in
	tmpfs) mount -t tmpfs -o size=2g tmpfs $B ;;
	ext4) [ -b /dev/ram0 ] || { echo "no /dev/ram0 (brd)" >&2; exit 1; }
	      # -N: stacked mounts keep the inodes of files removed in their
	      # backing directory until their own dentries go (caches are
	      # dropped once per round): a round of readdir pins 10000 per
	      # FUSE configuration
	      mkfs.ext4 -q -F -N 262144 -E lazy_itable_init=0,lazy_journal_init=0 /dev/ram0
	      mount -t ext4 /dev/ram0 $B ;;
	*) echo "unknown file system $fs" >&2; exit 1 ;;
	esac
	mount -t tmpfs tmpfs $M
	for c in "${CONFIGS[@]}"; do
		mount_config "$c"
	done
	log "$fs: configurations mounted: ${CONFIGS[*]}"
	if [ -n "$real" ]; then
		mount --rbind "$B" "$ROOT$B"
		mount --rbind "$M" "$ROOT$M"
	fi
	n=${#CONFIGS[@]}
	for w in "${WORKLOADS[@]}"; do
		wt0=$SECONDS
		for run in $(seq 1 "$RUNS"); do
			# Caches dropped once per round, not per cell: it costs
			# more than a run under TCG. The workloads that want cold
			# caches drop them themselves.
			sync
			echo 3 >/proc/sys/vm/drop_caches
			for i in $(seq 0 $((n - 1))); do
				c=${CONFIGS[$(((i + run - 1) % n))]}
				run_cell "$fs" "$c" "$w" "$run"
			done
		done
		log "$fs: $w done ($((SECONDS - wt0)) s)"
	done
	if [ -n "$real" ]; then
		umount -R "$ROOT$M" 2>/dev/null || umount -R -l "$ROOT$M"
		umount -R "$ROOT$B" 2>/dev/null || umount -R -l "$ROOT$B"
	fi
	for c in "${CONFIGS[@]}"; do
		[ "$c" = native ] && continue
		umount "$M/$c" 2>/dev/null || umount -l "$M/$c"
	done
	# A finished run does not fail on its teardown: a mount still busy
	# (a daemon's last reply in flight) is detached lazily.
	for m in "$M" "$B"; do
		umount "$m" 2>/dev/null && continue
		log "$fs: $m busy at the end, detached lazily: $(fuser -vm "$m" 2>&1 | tr '\n' ' ')"
		umount -l "$m"
	done
done
