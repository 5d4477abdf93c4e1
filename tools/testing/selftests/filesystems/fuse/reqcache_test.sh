#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Drive the request-program sample (samples/fuse/fuse_bpf_reqcache) the
# way a user would: a classic passthrough FUSE mount of a tmpfs tree with
# entry and attribute timeouts of 0, whose request program answers LOOKUP
# and GETATTR from maps the daemon fills. Checks what stat, ls, cat and
# friends show, and which requests reached the daemon (its status file,
# written on SIGUSR1): none for a stat loop of a file it published, and
# fresh attributes after every change made through the mount.
#
# FUSE_BPF_REQCACHE names the daemon binary; without it the test is
# skipped.

. "$(dirname "$0")/tap_helpers.sh"
. "$(dirname "$0")/daemon_helpers.sh"

tmp=
pid=

cleanup() {
	cd /
	if [ -n "$tmp" ]; then
		stop_daemon
		umount -l "$tmp/src" 2>/dev/null
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# start_daemon [OPTION...]: mount $src at $mnt; false if it did not mount
start_daemon() {
	"$FUSE_BPF_REQCACHE" --status="$tmp/status" "$@" "$src" "$mnt" \
		2>>"$tmp/daemon.err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q " $mnt fuse" /proc/self/mounts && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# attrs PATH: what stat shows of PATH that the two sides must agree on
attrs() {
	stat -c '%F %s %a %u %g %h %i %Y' "$1"
}

# stat_loop N PATH EXPECTED: stat PATH N times, each showing EXPECTED
stat_loop() {
	local i got

	for i in $(seq "$1"); do
		got=$(attrs "$2") || return 1
		if [ "$got" != "$3" ]; then
			echo "stat $i of $2: '$got', expected '$3'"
			return 1
		fi
	done
}

# same PATH: the mount and the source show the same attributes for PATH
same() {
	local m s

	m=$(attrs "$mnt/$1" 2>&1)
	s=$(attrs "$src/$1" 2>&1)
	[ "$m" = "$s" ] && return 0
	echo "mount: $m"
	echo "source: $s"
	return 1
}

fails_enoent() {
	local out

	if out=$(stat "$1" 2>&1); then
		echo "stat $1 succeeded: $out"
		return 1
	fi
	[[ "$out" == *"No such file"* ]] && return 0
	echo "stat $1: $out"
	return 1
}

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -n "$FUSE_BPF_REQCACHE" ] || skip_all "FUSE_BPF_REQCACHE (the fuse_bpf_reqcache binary) not set"
[ -x "$FUSE_BPF_REQCACHE" ] || skip_all "FUSE_BPF_REQCACHE=$FUSE_BPF_REQCACHE is not executable"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"

echo "TAP version 13"

tmp=$(mktemp -d /tmp/fuse-bpf-reqcache.XXXXXX) || exit $KSFT_FAIL
chmod 755 "$tmp"
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"
mount -t tmpfs -o mode=0755 reqcache-src "$src" || skip_all "cannot mount tmpfs"
cd /

mkdir -p "$src/dir"
echo "the file's content" >"$src/file"
touch -d @1000000000 "$src/file"
for i in $(seq 100); do
	echo "file $i" >"$src/dir/f$i"
done
echo "to be removed" >"$src/gone"
echo "to be renamed" >"$src/old"

out=$("$FUSE_BPF_REQCACHE" --no-such-option "$src" "$mnt" 2>&1)
rc=$?
if [ $rc = 2 ] && [[ "$out" == *usage:* ]]; then
	ok "bad_option_usage"
else
	not_ok "bad_option_usage" "exit $rc, output: $out"
fi

if ! start_daemon; then
	if kill -0 "$pid" 2>/dev/null; then
		# alive but no mount: stop it, or the wait never returns
		stop_daemon
		rc="none (still running, no mount)"
	else
		wait "$pid"
		rc=$?
	fi
	err=$(cat "$tmp/daemon.err")
	pid=
	if [ "$rc" = 1 ] && [[ "$err" == *"no fuse-bpf request programs"* ]]; then
		skip_all "$err"
	fi
	not_ok "mount" "daemon exit $rc: $err"
	totals
fi
ok "mount"
# an ordinary FUSE mount: no fuse_bpf option
classic() {
	awk -v m="$mnt" '$2 == m && $3 ~ /^fuse/ && $4 !~ /fuse_bpf/ { found = 1 }
		END { exit !found }' /proc/self/mounts
}
check "mount_is_classic" classic

# The stat loop: the first stat reaches the daemon, which publishes the
# file; the next 100 are answered in the kernel.
want=$(attrs "$src/file")
check "first_stat_right" same file
snapshot "$tmp/before"
check "stat_loop_right" stat_loop 100 "$mnt/file" "$want"
snapshot "$tmp/after"
for op in GETATTR LOOKUP; do
	v=$(delta $op)
	[ "$v" = 0 ] && ok "stat_loop_no_$op" ||
		not_ok "stat_loop_no_$op" "$op received during the loop: $v"
done
v=$(delta bpf:served_getattr)
[ "$v" != missing ] && [ "$v" -ge 100 ] && ok "stat_loop_served_by_program" ||
	not_ok "stat_loop_served_by_program" "GETATTRs the program answered: $v"
check "cat_through_mount" test "$(cat "$mnt/file")" = "the file's content"

# Every change through the mount shows at once: the daemon deletes what
# the program would answer before it replies to the change.
attrs "$mnt/file" >/dev/null
touch -d @1234567890 "$mnt/file"
check "touch_shows" test "$(stat -c %Y "$mnt/file")" = 1234567890
check "touch_same_as_source" same file
attrs "$mnt/file" >/dev/null
chmod 600 "$mnt/file"
check "chmod_shows" test "$(stat -c %a "$mnt/file")" = 600
attrs "$mnt/file" >/dev/null
chown 1234:5678 "$mnt/file"
check "chown_shows" test "$(stat -c %u:%g "$mnt/file")" = 1234:5678
attrs "$mnt/file" >/dev/null
echo "more content" >>"$mnt/file"
check "write_shows_size" test "$(stat -c %s "$mnt/file")" = "$(stat -c %s "$src/file")"
check "write_same_as_source" same file
attrs "$mnt/file" >/dev/null
truncate -s 5 "$mnt/file"
check "truncate_shows" test "$(stat -c %s "$mnt/file")" = 5
attrs "$mnt/file" >/dev/null
echo "replaced" >"$mnt/file"
check "overwrite_shows" test "$(stat -c %s "$mnt/file")" = 9
check "overwrite_reads" test "$(cat "$mnt/file")" = replaced

# A directory's attributes change with its entries.
attrs "$mnt/dir" >/dev/null
nlink=$(stat -c %h "$mnt/dir")
mkdir "$mnt/dir/sub"
check "mkdir_nlink_shows" test "$(stat -c %h "$mnt/dir")" = $((nlink + 1))
check "mkdir_dir_same_as_source" same dir
attrs "$mnt/dir/sub" >/dev/null
rmdir "$mnt/dir/sub"
check "rmdir_gone" fails_enoent "$mnt/dir/sub"
check "rmdir_nlink_shows" test "$(stat -c %h "$mnt/dir")" = "$nlink"
echo new >"$mnt/dir/new"
check "create_lands" test "$(cat "$src/dir/new")" = new
check "create_dir_same_as_source" same dir

# unlink and rename: names the program answered for are gone at once.
attrs "$mnt/gone" >/dev/null
attrs "$mnt/gone" >/dev/null
rm "$mnt/gone"
check "unlink_gone" fails_enoent "$mnt/gone"
check "unlink_gone_from_source" test ! -e "$src/gone"
check "unlink_not_listed" bash -c "! ls '$mnt' | grep -qx gone"
attrs "$mnt/old" >/dev/null
attrs "$mnt/old" >/dev/null
mv "$mnt/old" "$mnt/new"
check "rename_old_gone" fails_enoent "$mnt/old"
check "rename_new_reads" test "$(cat "$mnt/new")" = "to be renamed"
check "rename_new_same" same new
# rename over a published name: the name shows the moved file
echo "the other one" >"$src/other"
attrs "$mnt/other" >/dev/null
attrs "$mnt/new" >/dev/null
mv "$mnt/other" "$mnt/new"
check "rename_over_reads" test "$(cat "$mnt/new")" = "the other one"
check "rename_over_same" same new
attrs "$mnt/file" >/dev/null
ln "$mnt/file" "$mnt/hard"
check "link_nlink_shows" test "$(stat -c %h "$mnt/file")" = 2
check "ls_same_as_source" test "$(ls -a "$mnt" | tr '\n' ' ')" = \
	"$(ls -a "$src" | tr '\n' ' ')"

# 100 files of a directory, each published once, then served.
for i in $(seq 100); do attrs "$mnt/dir/f$i"; done >/dev/null
snapshot "$tmp/before"
dir_loop() {
	local i

	for i in $(seq 100); do
		[ "$(attrs "$mnt/dir/f$i")" = "$(attrs "$src/dir/f$i")" ] || return 1
	done
}
check "dir_loop_right" dir_loop
snapshot "$tmp/after"
v=$(delta_sum GETATTR LOOKUP)
[ "$v" = 0 ] && ok "dir_loop_no_requests" ||
	not_ok "dir_loop_no_requests" "LOOKUP+GETATTR received during the loop: $v"

# A change made directly in SOURCE is not seen: the program answers
# from what the daemon published until a change through the mount
# deletes it. (--no-bpf below sees it at once.)
attrs "$mnt/dir/f1" >/dev/null
size=$(stat -c %s "$mnt/dir/f1")
echo "changed in the source" >>"$src/dir/f1"
check "source_change_not_seen" test "$(stat -c %s "$mnt/dir/f1")" = "$size"
touch "$mnt/dir/f1"
check "source_change_seen_after_mount_change" same dir/f1
size=$(stat -c %s "$mnt/dir/f2")
rm "$src/dir/f2"
check "source_unlink_still_seen" test "$(stat -c %s "$mnt/dir/f2" 2>&1)" = "$size"

# The kernel's FORGET counts the lookups the program answered: once the
# kernel holds no reference to a node, the daemon deletes the entries
# naming it and frees it (its fd too: nodes never forgotten would exhaust
# the daemon's open files), and the name works as before through the
# daemon. So the 100 files of dir are freed by a cache drop, and the
# daemon has as many nodes after a file was created, stat'ed through the
# program, removed and forgotten as before it was created.
# drop_caches makes the kernel forget every unused node; a READDIR then
# follows the FORGETs through the daemon.
drop() {
	echo 3 >/proc/sys/vm/drop_caches
	ls "$mnt" >/dev/null
	sleep 0.5
}
snapshot "$tmp/before"
drop
snapshot "$tmp/after"
n0=$(counter "$tmp/before" nodes)
n1=$(counter "$tmp/after" nodes)
[ "$n0" != missing ] && [ "$n1" != missing ] && [ "$n0" -ge 100 ] &&
	[ "$n1" -le $((n0 - 100)) ] && ok "forgotten_published_freed" ||
	not_ok "forgotten_published_freed" "nodes before the drop: $n0, after: $n1"
check "published_survive_drop" same dir/f3
snapshot "$tmp/before"
echo "short-lived" >"$mnt/dir/tmpfile"
attrs "$mnt/dir/tmpfile" >/dev/null
stat_loop 20 "$mnt/dir/tmpfile" "$(attrs "$src/dir/tmpfile")" >/dev/null
snapshot "$tmp/created"
rm "$mnt/dir/tmpfile"
drop
# dir and one file of it again, as before the create
check "published_survive_second_drop" same dir/f4
snapshot "$tmp/after"
v=$(delta_sum FORGET BATCH_FORGET)
[ "$v" != missing ] && [ "$v" -gt 0 ] && ok "forgets_received" ||
	not_ok "forgets_received" "FORGET + BATCH_FORGET: $v"
n0=$(counter "$tmp/before" nodes)
nc=$(counter "$tmp/created" nodes)
n1=$(counter "$tmp/after" nodes)
[ "$n0" != missing ] && [ "$nc" != missing ] && [ "$nc" -gt "$n0" ] &&
	[ "$n1" = "$n0" ] && ok "removed_node_freed" ||
	not_ok "removed_node_freed" "nodes before: $n0, created: $nc, after: $n1"

stop_daemon
check "unmounted" bash -c "! grep -q ' $mnt ' /proc/self/mounts"

# Without the program every stat asks the daemon, and changes made
# directly in SOURCE show at once.
if start_daemon --no-bpf; then
	ok "mount_no_bpf"
	want=$(attrs "$src/file")
	attrs "$mnt/file" >/dev/null
	snapshot "$tmp/before"
	check "no_bpf_loop_right" stat_loop 10 "$mnt/file" "$want"
	snapshot "$tmp/after"
	v=$(delta GETATTR)
	[ "$v" = 10 ] && ok "no_bpf_getattr_each_stat" ||
		not_ok "no_bpf_getattr_each_stat" "GETATTR received during 10 stats: $v"
	v=$(delta LOOKUP)
	[ "$v" = 10 ] && ok "no_bpf_lookup_each_stat" ||
		not_ok "no_bpf_lookup_each_stat" "LOOKUP received during 10 stats: $v"
	echo "changed again" >>"$src/file"
	check "no_bpf_source_change_seen" same file
else
	not_ok "mount_no_bpf" "$(cat "$tmp/daemon.err")"
fi
stop_daemon

# FUSE's own cache: --timeout without the program.
if start_daemon --no-bpf --timeout=3600; then
	ok "mount_timeout"
	want=$(attrs "$src/file")
	attrs "$mnt/file" >/dev/null
	snapshot "$tmp/before"
	check "timeout_loop_right" stat_loop 10 "$mnt/file" "$want"
	snapshot "$tmp/after"
	v=$(delta_sum GETATTR LOOKUP)
	[ "$v" = 0 ] && ok "timeout_loop_no_requests" ||
		not_ok "timeout_loop_no_requests" "LOOKUP+GETATTR received: $v"
else
	not_ok "mount_timeout" "$(cat "$tmp/daemon.err")"
fi
stop_daemon
[ -s "$tmp/daemon.err" ] && sed 's/^/# daemon: /' "$tmp/daemon.err"

totals
