#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Where the time of a workload goes, in the VM: perf samples (cpu-clock,
# the kernel's symbols, call graphs) of the timed loop of fsbench WORKLOAD
# (stat, open_close, readdir, ...: see fsbench.c) on tmpfs
# natively, through overlayfs and through fuse-bpf (no daemon, daemon, a
# trivial program). Needs the binaries a bench run left in build/bench:
#
#   bash harness/bench.sh quick     # or full
#   FBT_APPEND=tsc=reliable bash harness/vm.sh --name bench-profile \
#       --mem 4096 --timeout 3000 --kernel build/bench/bzImage -- \
#       "FBT_BENCH=$PWD/build/bench bash $PWD/harness/bench/profile-guest.sh stat open_close"
#
# Prints, per workload and configuration, the rate; the kernel functions
# with the most samples, by self time and by time including callees; and
# how often some kernel functions run per operation (kprobe hit counts).
# The files a workload needs are made untimed and uncounted in the
# backing directory (the mount itself for overlayfs), as bench-guest.sh
# does. SECS (default 3) is the length of the profiled run; CONFIGS
# (default "native ovl fbnd fbd fbtriv") the configurations; RATES=1
# prints only the rates (one 0.5 s run each: a quick A/B of two kernels).
set -euo pipefail

O=$FBT_BENCH
B=/tmp/prof
SECS=${SECS:-3}
read -ra CONFIGS <<<"${CONFIGS:-native ovl fbnd fbd fbtriv}"
[ $# -gt 0 ] || set -- stat open_close create
cd /tmp
# as bench-guest.sh: a passthrough daemon holds a backing file per open node
ulimit -n 65536

echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/profile-mounts.sh"
prof_mount
# Functions whose calls are counted (those that cannot be probed are left
# out); the trace buffer stays off, kprobe_profile counts the hits.
T=/sys/kernel/tracing
PROBES="fuse_bpf_run __fuse_bpf_permission __fuse_bpf_revalidate __fuse_bpf_getattr
fuse_bpf_copy_attr __fuse_bpf_lookup fuse_bpf_iget __fuse_bpf_open
__fuse_bpf_release fuse_bpf_call_filter __bpf_prog_enter fuse_permission
fuse_dentry_revalidate take_dentry_name_snapshot override_creds
revert_creds inode_permission generic_permission vfs_getattr
vfs_getattr_nosec try_to_unlazy backing_file_open d_alloc_parallel
lookup_one_unlocked lookup_one vfs_create vfs_unlink vfs_mkdir vfs_rmdir
vfs_rename notify_change file_remove_privs"
probe_run() {
	echo 0 >$T/events/kprobes/enable 2>/dev/null || true
	# re-adding resets the hit counts
	echo >$T/kprobe_events
	for f in $PROBES; do
		echo "p:bench_$f $f" >>$T/kprobe_events 2>/dev/null || true
	done
	echo 0 >$T/tracing_on
	echo 1 >$T/events/kprobes/enable 2>/dev/null || true
	"$@"
	echo 0 >$T/events/kprobes/enable 2>/dev/null || true
}

# fsbench WORKLOAD in DIR for SECONDS, its files made in SETUP, stopped
# between the two (FSBENCH_STOP): $pid, output in $B/out.
start_w() {
	FSBENCH_STOP=1 "$O/fsbench" "$@" >$B/out &
	pid=$!
	until [ "$(awk '{ print $3 }' /proc/$pid/stat 2>/dev/null)" = T ]; do
		kill -0 $pid 2>/dev/null || return 1
		sleep 0.05
	done
}

cont_wait() {
	kill -CONT "$pid"
	wait "$pid" || true
}

rm -f $B/ctl $B/ack
mkfifo $B/ctl $B/ack
for w in "$@"; do
	for c in "${CONFIGS[@]}"; do
		fresh "$c" "$w"
		"$O/fsbench" "$d" "$w" 0.5 "$s" >$B/out
		echo "=== $w on $c: $(cut -d' ' -f2 $B/out) ops/s"
		[ "${RATES:-0}" = 1 ] && continue

		# perf attached to the stopped fsbench, enabled when it goes on
		fresh "$c" "$w"
		start_w "$d" "$w" "$SECS" "$s"
		perf record -q -g -e cpu-clock -F 2000 -p $pid -D -1 \
			--control fifo:$B/ctl,$B/ack -o $B/perf.data \
			>$B/perf.log 2>&1 &
		perf_pid=$!
		exec 8>$B/ctl 9<$B/ack
		echo enable >&8
		read -r -t 30 -u 9 _ || echo "perf did not start (see $B/perf.log)"
		kill -CONT $pid
		wait $pid || true
		wait $perf_pid || true
		exec 8>&- 9<&-
		echo "--- self time ($(perf report -i $B/perf.data --stdio 2>/dev/null |
			sed -n 's/^# Samples: \([^ ]*\).*/\1/p' | head -n 1) samples; $(cut -d' ' -f2 $B/out) ops/s)"
		perf report -q -i $B/perf.data --stdio --no-children --sort sym \
			-g none --percent-limit 1.5 2>/dev/null | grep -v '^$' |
			head -n 20 || true
		echo "--- time including callees (file system and VFS functions)"
		perf report -q -i $B/perf.data --stdio --children --sort sym \
			-g none --percent-limit 2 2>/dev/null |
			grep -E 'fuse|ovl|bpf|creds|permission|revalidate|getattr|lookup|shmem|backing|d_alloc|dput|__fput|do_dentry_open|path_openat|link_path_walk|walk_component|filename_|vfs_|do_unlinkat|do_mkdirat|do_renameat|iterate_dir' |
			head -n 25 || true

		# kprobe hit counts of the timed loop only
		if [ -w $T/kprobe_events ]; then
			fresh "$c" "$w"
			start_w "$d" "$w" 0.5 "$s"
			probe_run cont_wait
			n=$(cut -d' ' -f3 $B/out)
			echo "--- calls per operation ($n operations)"
			awk -v n="$n" '$2 > 0 { printf "  %-28s %.2f\n", $1, $2 / n }' \
				$T/kprobe_profile | sed 's/bench_//' || true
		fi
	done
done
echo >$T/kprobe_events 2>/dev/null || true
# the daemons may still hold the tmpfs
prof_umount 2>/dev/null || true
