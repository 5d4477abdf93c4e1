#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# For the tests that drive a sample daemon with a status file
# (reqcache_test.sh, union_test.sh, hide_test.sh). They use the caller's
# variables: pid (the daemon), mnt (its mount point) and tmp (the folder
# where the daemon writes its status file, $tmp/status, on SIGUSR1).
# shellcheck disable=SC2154

# stop_daemon: SIGTERM the daemon (SIGKILL after 5 s), reap it, detach
# its mount
stop_daemon() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	pid=
	[ -n "$mnt" ] && umount -l "$mnt" 2>/dev/null
}

# snapshot FILE: the daemon's counters now, in FILE
snapshot() {
	local _try

	for _try in 1 2 3; do
		rm -f "$tmp/status"
		kill -USR1 "$pid" 2>/dev/null || return 1
		for _ in $(seq 50); do
			if [ -f "$tmp/status" ]; then
				mv "$tmp/status" "$1"
				return 0
			fi
			sleep 0.1
		done
	done
	return 1
}

# counter FILE NAME: a counter of a snapshot ("missing" if it has none)
counter() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' "$1"
}

# delta NAME: how much counter NAME grew from $tmp/before to $tmp/after
delta() {
	local a b

	a=$(counter "$tmp/after" "$1")
	b=$(counter "$tmp/before" "$1")
	if [ "$a" = missing ] || [ "$b" = missing ]; then
		echo missing
	else
		echo $((a - b))
	fi
}

# delta_sum NAME...: the sum of delta NAME..., "missing" if any is
# missing (so that a missing counter never sums to a vacuous 0)
delta_sum() {
	local v sum=0 name

	for name in "$@"; do
		v=$(delta "$name")
		if [ "$v" = missing ]; then
			echo missing
			return
		fi
		sum=$((sum + v))
	done
	echo "$sum"
}
