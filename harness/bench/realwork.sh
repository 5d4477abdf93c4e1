#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# realwork.sh: the commands of bench-guest.sh's workloads that run
# programs (build, gitstatus, untar, find_grep), run in the guest inside
# a tmpfs copy of the tools they use (see bench.sh: toolroot), and on
# the host under strace to find those tools.
#
#   realwork.sh untar TARBALL DIR
#	extract TARBALL into DIR; prints the seconds it took
#   realwork.sh find_grep DIR FILES
#	find DIR's files (their NUL-separated list into FILES) and grep
#	them for "fuse" or "SPDX" (xargs grep -l); prints the seconds
#	both took
# (both idle 0.2 s first, untimed: see settle)
#   realwork.sh build TARBALL DIR
#	extract TARBALL into DIR, build libbpf's static library with its
#	Makefile (make -j2), make clean; prints the seconds it took
#   realwork.sh gitsetup TARBALL SETUP DIR
#	a git repository of TARBALL's files in SETUP (committed with a
#	fixed author and date), then two git status through DIR
#   realwork.sh gitstatus DIR MICROSECONDS
#	git status in DIR until MICROSECONDS passed (at least 3 times);
#	prints "microseconds count"
#
# Every git status must print nothing (a clean tree), or the run fails.
set -euo pipefail

export LC_ALL=C PATH=/usr/bin:/bin
# git: no configuration of the system or of the user
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# gcc's temporary files, make's log, git's output: not on the mount
log=/tmp/realwork.log
gout=/tmp/gitstatus.out

# The time of day in microseconds, without a fork (bash's EPOCHREALTIME).
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t))
}

# Before a timed part: 0.2 s of an idle guest, so that the work the
# set-up deferred (such as the RCU callbacks freeing the dentries and
# inodes that drop_caches or the last cell's rm -rf released) is done
# before the clock starts, not at a varying point inside it: without it
# about one find_grep cell in 14 ran 1-5% slow. Idle guest time costs no
# host time under instruction counting (sleep=off).
settle() {
	sleep 0.2
}

# Seconds from microseconds T0 to T1, to the microsecond.
seconds() {
	local d=$(($2 - $1))
	printf '%d.%06d\n' $((d / 1000000)) $((d % 1000000))
}

# A git status that walks the whole tree: it lstats every tracked file
# and reads every directory (no untracked cache, no fsmonitor, untracked
# files looked for in every directory); fails unless the tree is clean.
git_status() {
	git -C "$1" -c core.untrackedCache=false -c core.fsmonitor=false \
		status --porcelain --untracked-files=all >"$gout"
	if [ -s "$gout" ]; then
		echo "git status in $1 is not clean:" >&2
		head -n 5 "$gout" >&2
		return 1
	fi
}

case "${1:-}" in
untar)
	tar=$2 dir=$3
	settle
	t0=$(now_us)
	tar -xf "$tar" -C "$dir"
	t1=$(now_us)
	seconds "$t0" "$t1"
	;;
find_grep)
	dir=$2 files=$3
	settle
	t0=$(now_us)
	find "$dir" -type f -print0 >"$files"
	# 123: some grep matched nothing
	xargs -0 grep -l -e fuse -e SPDX <"$files" >/dev/null || [ $? = 123 ]
	t1=$(now_us)
	seconds "$t0" "$t1"
	;;
build)
	tar=$2 dir=$3
	t0=$(now_us)
	tar -xf "$tar" -C "$dir"
	# The static library only: libbpf's default target builds the 22
	# objects again with -fPIC for the shared library and checks its
	# ABI, which doubles a run that takes about 3 minutes of host time
	# under instruction counting.
	make -C "$dir/tools/lib/bpf" -j2 "$dir/tools/lib/bpf/libbpf.a" >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; exit 1; }
	[ -s "$dir/tools/lib/bpf/libbpf.a" ]
	make -C "$dir/tools/lib/bpf" clean >>"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; exit 1; }
	t1=$(now_us)
	[ ! -e "$dir/tools/lib/bpf/libbpf.a" ]
	seconds "$t0" "$t1"
	;;
gitsetup)
	tar=$2 setup=$3 dir=$4
	tar -xf "$tar" -C "$setup"
	git -C "$setup" init -q
	git -C "$setup" add -A
	GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
		git -C "$setup" -c user.name=bench -c user.email=bench@localhost \
		commit -q -m sources
	# Through the mount: the first also rewrites the index with the
	# stat data the mount reports (inode numbers, times), which classic
	# FUSE and overlayfs report differently from the backing file
	# system, so that timed walks compare stat data and read no file.
	git_status "$dir"
	git_status "$dir"
	;;
gitstatus)
	dir=$2 us=$3 n=0
	t0=$(now_us)
	while :; do
		git_status "$dir"
		n=$((n + 1))
		t1=$(now_us)
		[ $((t1 - t0)) -lt "$us" ] || [ "$n" -lt 3 ] || break
	done
	echo "$((t1 - t0)) $n"
	;;
*)
	echo "usage: realwork.sh untar|find_grep|build|gitsetup|gitstatus ..." >&2
	exit 1
	;;
esac
