#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Drive the union sample (samples/fuse/fuse_bpf_union) the way a user
# would: the union of the top-level entries of two tmpfs trees, UPPER and
# LOWER, on a fuse-bpf mount, where a request program answers the LOOKUP
# of each top-level name with UPPER's entry if there is one, else LOWER's,
# and the kernel serves the node from it. Checks what ls, cat, stat and
# writes show, and which requests reached the daemon (its status file,
# written on SIGUSR1): no LOOKUP, OPEN, READ or WRITE of a published name.
#
# FUSE_BPF_UNION names the daemon binary; without it the test is skipped.

# The helpers below run through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
. "$(dirname "$0")/tap_helpers.sh"
. "$(dirname "$0")/daemon_helpers.sh"

tmp=
pid=

cleanup() {
	cd /
	if [ -n "$tmp" ]; then
		stop_daemon
		umount -l "$tmp/t" 2>/dev/null
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# start_daemon: mount the union of $upper and $lower at $mnt; false if it
# did not mount
start_daemon() {
	"$FUSE_BPF_UNION" --status="$tmp/status" "$upper" "$lower" "$mnt" \
		2>>"$tmp/daemon.err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q " $mnt fuse" /proc/self/mounts && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# expect_delta NAME OP N: a test line for whether counter NAME grew by OP N
expect_delta() {
	local v

	v=$(delta "$1")
	if [ "$v" != missing ] && test "$v" "$2" "$3"; then
		ok "counter_${1#bpf:}_$4"
	else
		not_ok "counter_${1#bpf:}_$4" "$1 grew by $v, expected $2 $3"
	fi
}

# reads PATH TEXT: PATH reads as TEXT, its lines joined with '|'
reads() {
	local got

	got=$(paste -sd '|' "$1" 2>&1) || { echo "read $1: $got"; return 1; }
	[ "$got" = "$2" ] && return 0
	echo "$1 reads '$got', expected '$2'"
	return 1
}

# lists DIR NAMES: ls -A of DIR shows NAMES (one line, space-separated)
lists() {
	local got

	# what ls shows a user, on purpose
	# shellcheck disable=SC2012
	got=$(ls -A "$1" 2>&1 | tr '\n' ' ') || { echo "ls $1: $got"; return 1; }
	[ "$got" = "$2" ] && return 0
	echo "ls $1: '$got', expected '$2'"
	return 1
}

# same PATH SIDE: stat shows the same of the mount's PATH and SIDE's
same() {
	local m s

	m=$(stat -c '%F %s %a %i %Y' "$mnt/$1" 2>&1)
	s=$(stat -c '%F %s %a %i %Y' "$2/$1" 2>&1)
	[ "$m" = "$s" ] && return 0
	echo "mount: $m"
	echo "$2: $s"
	return 1
}

# fails_with ERRTEXT COMMAND...: COMMAND fails, saying ERRTEXT
fails_with() {
	local want=$1 out

	shift
	if out=$("$@" 2>&1); then
		echo "succeeded: $*"
		return 1
	fi
	[[ "$out" == *"$want"* ]] && return 0
	echo "$*: $out (expected '$want')"
	return 1
}

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -n "$FUSE_BPF_UNION" ] || skip_all "FUSE_BPF_UNION (the fuse_bpf_union binary) not set"
[ -x "$FUSE_BPF_UNION" ] || skip_all "FUSE_BPF_UNION=$FUSE_BPF_UNION is not executable"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"

echo "TAP version 13"

tmp=$(mktemp -d /tmp/fuse-bpf-union.XXXXXX) || exit "$KSFT_FAIL"
chmod 755 "$tmp"
mkdir "$tmp/t"
mount -t tmpfs -o mode=0755 union-test "$tmp/t" || skip_all "cannot mount tmpfs"
upper=$tmp/t/upper
lower=$tmp/t/lower
mnt=$tmp/mnt
mkdir "$upper" "$lower" "$mnt"
cd /

# 70 bytes: too long for the program's key, the daemon answers it
long=$(printf 'long%.0s' $(seq 17))xy
echo "upper only" >"$upper/up_only"
echo "upper both" >"$upper/both"
echo "lower both, longer" >"$lower/both"
echo "lower only" >"$lower/low_only"
mkdir "$upper/bothdir" "$lower/bothdir"
echo "in upper's bothdir" >"$upper/bothdir/u.txt"
echo "in lower's bothdir" >"$lower/bothdir/l.txt"
mkdir "$upper/updir"
echo "in updir" >"$upper/updir/f"
mkdir -p "$lower/lowdir/sub"
echo "in lowdir" >"$lower/lowdir/f"
echo "deep in lowdir" >"$lower/lowdir/sub/deep"
echo "upper long" >"$upper/$long"
echo "lower long, longer" >"$lower/$long"
ln -s up_only "$upper/uplink"

out=$("$FUSE_BPF_UNION" --no-such-option "$upper" "$lower" "$mnt" 2>&1)
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
	if [ "$rc" = 1 ] && [[ "$err" == *"has no fuse-bpf"* ]]; then
		skip_all "$err"
	fi
	not_ok "mount" "daemon exit $rc: $err"
	totals
fi
ok "mount"

check "root_lists_union" lists "$mnt" \
	"$(printf '%s\n' up_only both low_only bothdir updir lowdir "$long" uplink |
	   sort | tr '\n' ' ')"

# Every access to a published name: the program picks, the kernel serves.
snapshot "$tmp/before"
check "upper_only_reads" reads "$mnt/up_only" "upper only"
check "lower_only_reads" reads "$mnt/low_only" "lower only"
check "both_reads_upper" reads "$mnt/both" "upper both"
check "both_stat_is_upper" same both "$upper"
check "lower_only_stat_is_lower" same low_only "$lower"
check "both_dir_lists_upper" lists "$mnt/bothdir" "u.txt "
check "both_dir_reads_upper" reads "$mnt/bothdir/u.txt" "in upper's bothdir"
check "upper_dir_reads" reads "$mnt/updir/f" "in updir"
check "lower_dir_lists" lists "$mnt/lowdir" "f sub "
check "lower_subdir_lists" lists "$mnt/lowdir/sub" "deep "
check "lower_subdir_reads" reads "$mnt/lowdir/sub/deep" "deep in lowdir"
check "symlink_reads" reads "$mnt/uplink" "upper only"
check "symlink_target" test "$(readlink "$mnt/uplink")" = up_only

# Writes land in UPPER; LOWER is read-only through the mount.
check "write_both_works" bash -c "echo appended >>'$mnt/both'"
check "write_both_lands_in_upper" reads "$upper/both" "upper both|appended"
check "write_both_reads_back" reads "$mnt/both" "upper both|appended"
check "write_both_lower_untouched" reads "$lower/both" "lower both, longer"
check "create_in_upper_dir" bash -c "echo new >'$mnt/updir/new'"
check "create_lands_in_upper" reads "$upper/updir/new" "new"
check "write_lower_only_erofs" fails_with "Read-only file system" \
	bash -c "echo x >>'$mnt/low_only'"
check "create_in_lower_dir_erofs" fails_with "Read-only file system" \
	touch "$mnt/lowdir/sub/new"
check "lower_untouched" reads "$lower/low_only" "lower only"
snapshot "$tmp/after"
for op in LOOKUP OPEN READ WRITE CREATE; do
	expect_delta "$op" = 0 not_received
done
expect_delta published_received = 0 none
expect_delta backed_node_requests = 0 none
expect_delta bpf:picked_upper -gt 0 some
expect_delta bpf:picked_lower -gt 0 some
expect_delta bpf:lookup_errors = 0 none

# A name too long for the program's key reaches the daemon, which makes
# the same choice; a name the union does not have is ENOENT.
snapshot "$tmp/before"
check "long_name_reads_upper" reads "$mnt/$long" "upper long"
check "missing_enoent" fails_with "No such file" stat "$mnt/missing"
snapshot "$tmp/after"
expect_delta LOOKUP -ge 2 unpublished_received

# The top level does not change through the mount.
check "unlink_top_erofs" fails_with "Read-only file system" rm "$mnt/up_only"
check "mkdir_top_erofs" fails_with "Read-only file system" mkdir "$mnt/newdir"
check "unlink_top_kept" reads "$upper/up_only" "upper only"

# The FORGET rule: the kernel forgets the nodes the program handed out,
# counting lookups the daemon never saw; the daemon keeps their ids, and
# the names work as before.
snapshot "$tmp/before"
echo 3 >/proc/sys/vm/drop_caches
ls "$mnt" >/dev/null
sleep 0.5
ls "$mnt" >/dev/null
snapshot "$tmp/after"
v=$(delta_sum FORGET BATCH_FORGET)
if [ "$v" != missing ] && [ "$v" -gt 0 ]; then
	ok "forgets_received"
else
	not_ok "forgets_received" "FORGET + BATCH_FORGET: $v"
fi
expect_delta forgotten_beyond_replies -gt 0 some
check "both_reads_after_forget" reads "$mnt/both" "upper both|appended"
check "lower_subdir_reads_after_forget" reads "$mnt/lowdir/sub/deep" \
	"deep in lowdir"

stop_daemon
check "unmounted" bash -c "! grep -q ' $mnt ' /proc/self/mounts"

# 1800 names, 600 on each side only and 600 on both, under a limit of
# 1024 open files (hard 2048): the daemon raises its limit to the hard
# one and keeps one file open per name (the side it shows), so every
# name shows, each with all its sides registered.
upper=$tmp/t/many_upper
lower=$tmp/t/many_lower
mkdir "$upper" "$lower"
for i in $(seq 600); do
	echo "upper $i" >"$upper/u$i"
	echo "lower $i" >"$lower/l$i"
	echo "upper $i" >"$upper/b$i"
	echo "lower $i" >"$lower/b$i"
done
ulimit -Hn 2048 && ulimit -Sn 1024
if start_daemon; then
	ok "mount_many"
	v=$(find "$mnt" -mindepth 1 -maxdepth 1 | wc -l)
	[ "$v" = 1800 ] && ok "many_names_shown" ||
		not_ok "many_names_shown" "$v names of 1800 shown"
	check "many_lower_reads" reads "$mnt/l600" "lower 600"
	check "many_both_reads" reads "$mnt/b600" "upper 600"
	v=$(grep -c "/many_.*not shown" "$tmp/daemon.err")
	[ "$v" = 0 ] && ok "many_all_sides_registered" ||
		not_ok "many_all_sides_registered" "$v sides not registered"
else
	not_ok "mount_many" "$(cat "$tmp/daemon.err")"
fi
stop_daemon
[ -s "$tmp/daemon.err" ] && sed 's/^/# daemon: /' "$tmp/daemon.err"

totals
