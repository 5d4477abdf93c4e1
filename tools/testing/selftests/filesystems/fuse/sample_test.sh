#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Drive the fuse-bpf sample daemon (samples/fuse/fuse_bpf_mirror) the way
# a user would: mirror a tmpfs tree with the three policies (--hide,
# --readonly, --owner), use the mount, check what users see and that the
# operations on backed nodes never reached the daemon (its status file),
# then stop it with SIGTERM.
#
# FUSE_BPF_SAMPLE names the daemon binary; without it the test is skipped.

. "$(dirname "$0")/tap_helpers.sh"

OWNER_UID=4242		# may use the owner-only subtree
OTHER_UID=65534		# may not
HIDE=secret

tmp=
pid=

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		sleep 1
		kill -KILL "$pid" 2>/dev/null
	fi
	if [ -n "$tmp" ]; then
		umount -l "$tmp/mnt" 2>/dev/null
		umount -l "$tmp/src" 2>/dev/null
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# fails_with ERRNO-TEXT COMMAND...: COMMAND fails, saying ERRNO-TEXT
fails_with() {
	local msg=$1 out

	shift
	if out=$("$@" 2>&1); then
		echo "succeeded: $*"
		return 1
	fi
	case "$out" in
	*"$msg"*) return 0 ;;
	esac
	echo "failed, but not with '$msg': $out"
	return 1
}

# counter NAME: a counter of the daemon's status file
counter() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' \
		"$tmp/status"
}

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -n "$FUSE_BPF_SAMPLE" ] || skip_all "FUSE_BPF_SAMPLE (the fuse_bpf_mirror binary) not set"
[ -x "$FUSE_BPF_SAMPLE" ] || skip_all "FUSE_BPF_SAMPLE=$FUSE_BPF_SAMPLE is not executable"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) missing"

echo "TAP version 13"

tmp=$(mktemp -d /tmp/fuse-bpf-sample.XXXXXX) || exit $KSFT_FAIL
chmod 755 "$tmp"
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"
mount -t tmpfs -o mode=0755 sample-src "$src" || skip_all "cannot mount tmpfs"

# The source tree.
mkdir -p "$src/data/sub" "$src/ro/dir" "$src/private" "$src/shared"
chmod 1777 "$src/shared"
head -c 300000 /dev/urandom >"$src/data/big"
echo "below a backed directory" >"$src/data/sub/small"
echo "hidden below" >"$src/data/${HIDE}_below"
echo "hidden at the top" >"$src/${HIDE}_top"
echo "top-level file" >"$src/topfile"
ln -s data/sub/small "$src/toplink"
echo "read-only data" >"$src/ro/file"
echo "read-only below" >"$src/ro/dir/file"
echo "for the owner only" >"$src/private/file"
snapshot() { (cd "$src/ro" && find . -printf '%p %m %s %T@\n' | sort && cat file dir/file); }
ro_before=$(snapshot)

# Bad options: a usage message and exit status 2.
out=$("$FUSE_BPF_SAMPLE" --no-such-option "$src" "$mnt" 2>&1)
rc=$?
if [ $rc = 2 ] && [[ "$out" == *usage:* ]]; then
	ok "bad_option_usage"
else
	not_ok "bad_option_usage" "exit $rc, output: $out"
fi
out=$("$FUSE_BPF_SAMPLE" --owner=private "$src" "$mnt" 2>&1)
rc=$?
[ $rc = 2 ] && ok "bad_owner_usage" || not_ok "bad_owner_usage" "exit $rc: $out"
out=$("$FUSE_BPF_SAMPLE" --backing-timeout=0 "$src" "$mnt" 2>&1)
rc=$?
[ $rc = 2 ] && ok "bad_timeout_usage" || not_ok "bad_timeout_usage" "exit $rc: $out"

# The daemon, with all three policies.
"$FUSE_BPF_SAMPLE" --hide="$HIDE" --readonly=ro --owner=private:$OWNER_UID \
	"$src" "$mnt" 2>"$tmp/daemon.err" &
pid=$!
for _ in $(seq 100); do
	grep -q " $mnt fuse" /proc/self/mounts && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q " $mnt fuse" /proc/self/mounts; then
	# not mounted in 10 s: a daemon still running would never exit
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	err=$(cat "$tmp/daemon.err")
	pid=
	if [ $rc = 1 ] && [[ "$err" == *"no fuse-bpf"* ]]; then
		skip_all "$err"
	fi
	not_ok "mount" "daemon exit $rc: $err"
	totals
fi
ok "mount"

# Data read through the mount equals the source.
check "read_big_file" cmp "$mnt/data/big" "$src/data/big"
check "read_below" cmp "$mnt/data/sub/small" "$src/data/sub/small"
check "read_top_file" cmp "$mnt/topfile" "$src/topfile"
check "read_top_symlink" test "$(readlink "$mnt/toplink")" = data/sub/small
check "stat_matches" test "$(stat -c '%s %i %a' "$mnt/data/big")" = \
	"$(stat -c '%s %i %a' "$src/data/big")"

# Files created through the mount land in the source.
create_lands() {
	echo "made through the mount" >"$mnt/data/new" &&
	test "$(cat "$src/data/new")" = "made through the mount" &&
	mkdir "$mnt/data/newdir" && test -d "$src/data/newdir" &&
	mv "$mnt/data/new" "$mnt/data/newdir/moved" &&
	test -f "$src/data/newdir/moved" &&
	rm -r "$mnt/data/newdir" && ! test -e "$src/data/newdir"
}
check "create_lands_in_source" create_lands

# Hidden names: absent from listings, ENOENT on lookup.
check "hidden_not_listed_top" bash -c "! ls -a '$mnt' | grep -q '^$HIDE'"
check "hidden_not_listed_below" bash -c "! ls -a '$mnt/data' | grep -q '^$HIDE'"
check "listing_otherwise_same" test "$(ls -a "$mnt/data" | tr '\n' ' ')" = \
	"$(ls -a "$src/data" | grep -v "^$HIDE" | tr '\n' ' ')"
check "hidden_enoent_top" fails_with "No such file" stat "$mnt/${HIDE}_top"
check "hidden_enoent_below" fails_with "No such file" cat "$mnt/data/${HIDE}_below"
check "hidden_create_enoent" fails_with "No such file" \
	bash -c "echo x > '$mnt/data/${HIDE}_new'"
check "hidden_create_not_in_source" test ! -e "$src/data/${HIDE}_new"

# The read-only subtree: readable, every write EROFS, the source unchanged.
check "readonly_read" cmp "$mnt/ro/file" "$src/ro/file"
check "readonly_ls" test "$(ls "$mnt/ro" | tr '\n' ' ')" = "dir file "
check "readonly_write" fails_with "Read-only file system" \
	bash -c "echo x >> '$mnt/ro/file'"
check "readonly_truncate" fails_with "Read-only file system" \
	truncate -s 0 "$mnt/ro/file"
check "readonly_create" fails_with "Read-only file system" touch "$mnt/ro/new"
check "readonly_mkdir" fails_with "Read-only file system" mkdir "$mnt/ro/dir/new"
check "readonly_unlink" fails_with "Read-only file system" rm "$mnt/ro/dir/file"
check "readonly_rmdir" fails_with "Read-only file system" rmdir "$mnt/ro/dir"
check "readonly_rename" fails_with "Read-only file system" \
	mv "$mnt/ro/file" "$mnt/ro/renamed"
echo moved-in >"$mnt/data/movein"
check "readonly_rename_into" fails_with "Read-only file system" \
	mv "$mnt/data/movein" "$mnt/ro/movein"
check "readonly_rename_into_kept" test -f "$src/data/movein"
rm -f "$mnt/data/movein"
check "readonly_chmod" fails_with "Read-only file system" chmod 600 "$mnt/ro/file"
check "readonly_symlink" fails_with "Read-only file system" ln -s x "$mnt/ro/link"
check "readonly_link" fails_with "Read-only file system" ln "$mnt/ro/file" "$mnt/ro/hard"
if command -v setfattr >/dev/null; then
	check "readonly_setxattr" fails_with "Read-only file system" \
		setfattr -n user.x -v 1 "$mnt/ro/file"
else
	skip "readonly_setxattr" "setfattr (attr) not installed"
fi
check "readonly_source_unchanged" test "$(snapshot)" = "$ro_before"

# The owner-only subtree: visible to its uid, not to another.
check "owner_lists_top" bash -c \
	"setpriv --reuid=$OWNER_UID --regid=$OWNER_UID --clear-groups ls '$mnt' |
	 grep -qx private"
check "owner_reads" test "$(as $OWNER_UID cat "$mnt/private/file")" = "for the owner only"
check "owner_lists" test "$(as $OWNER_UID ls "$mnt/private")" = file
check "other_not_listed_top" bash -c \
	"! setpriv --reuid=$OTHER_UID --regid=$OTHER_UID --clear-groups ls '$mnt' |
	 grep -qx private"
check "other_cannot_list" fails_with "ls: cannot" as $OTHER_UID ls "$mnt/private"
check "other_cannot_read" fails_with "cat: " as $OTHER_UID cat "$mnt/private/file"
check "other_cannot_stat_below" fails_with "stat: cannot" as $OTHER_UID stat "$mnt/private/file"
# and once more after the owner used it (nothing cached lets others in)
as $OWNER_UID cat "$mnt/private/file" >/dev/null 2>&1
check "other_still_cannot_read" fails_with "cat: " as $OTHER_UID cat "$mnt/private/file"
check "other_reads_shared" cmp "$mnt/topfile" "$src/topfile"
check "other_creates_in_shared" as $OTHER_UID bash -c "echo hi > '$mnt/shared/other'"
check "other_file_in_source" test "$(cat "$src/shared/other")" = hi
# A non-owner that reaches the subtree without a lookup at the root (here
# root itself, through the owner's working directory) meets the BPF filter.
setpriv --reuid=$OWNER_UID --regid=$OWNER_UID --clear-groups -- \
	bash -c "cd '$mnt/private' && exec sleep 30" &
holder=$!
for _ in $(seq 50); do
	[ "$(readlink /proc/$holder/cwd)" = "$mnt/private" ] && break
	sleep 0.1
done
check "bpf_denies_other_opendir" fails_with "Permission denied" ls "/proc/$holder/cwd/"
check "bpf_denies_other_open" fails_with "Permission denied" cat "/proc/$holder/cwd/file"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# The counters: what reached the daemon. The status file is opened once,
# here; its counters are a snapshot taken at that open.
if cat "$mnt/.fuse-bpf-status" >"$tmp/status"; then
	ok "status_file"
else
	not_ok "status_file"
fi
sed 's/^/# status: /' "$tmp/status"
for op in READ WRITE CREATE MKNOD MKDIR SYMLINK LINK UNLINK RMDIR RENAME \
	  SETATTR READLINK; do
	v=$(counter $op)
	[ "$v" = 0 ] && ok "daemon_saw_no_$op" ||
		not_ok "daemon_saw_no_$op" "$op count: $v"
done
v=$(counter backed_node_requests)
[ "$v" = 0 ] && ok "daemon_saw_nothing_on_backed_nodes" ||
	not_ok "daemon_saw_nothing_on_backed_nodes" "backed_node_requests: $v"
v=$(counter OPEN)
[ "$v" = 1 ] && ok "daemon_open_only_status" ||
	not_ok "daemon_open_only_status" "OPEN count: $v (1 expected: the status file)"
v=$(counter LOOKUP)
[ "$v" != missing ] && [ "$v" -gt 0 ] && ok "daemon_saw_root_lookups" ||
	not_ok "daemon_saw_root_lookups" "LOOKUP count: $v"
v=$(counter READDIR)
[ "$v" != missing ] && [ "$v" -gt 0 ] && ok "daemon_served_root_readdir" ||
	not_ok "daemon_served_root_readdir" "READDIR count: $v"
for c in bpf:hidden_lookups bpf:hidden_dirents bpf:denied_readonly bpf:denied_owner; do
	v=$(counter $c)
	[ "$v" != missing ] && [ "$v" -gt 0 ] && ok "policy_counted_${c#bpf:}" ||
		not_ok "policy_counted_${c#bpf:}" "$c: $v"
done

# SIGTERM: the daemon exits cleanly and the mount is gone.
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ $rc = 0 ] && ok "sigterm_exit_0" || not_ok "sigterm_exit_0" "exit status $rc" \
	"$(cat "$tmp/daemon.err")"
check "unmounted" bash -c "! grep -q ' $mnt ' /proc/self/mounts"

# Unmounting from outside: the daemon notices and exits cleanly too.
# Here with --backing-timeout of an hour: a size changed directly in the
# source stays unseen by stat, a mode never does (permissions read it),
# and a chmod through the mount shows at once.
"$FUSE_BPF_SAMPLE" --backing-timeout=3600000 "$src" "$mnt" 2>"$tmp/daemon.err" &
pid=$!
for _ in $(seq 100); do
	grep -q " $mnt fuse" /proc/self/mounts && break
	sleep 0.1
done
check "plain_mirror_reads" cmp "$mnt/data/${HIDE}_below" "$src/data/${HIDE}_below"
size_before=$(stat -c %s "$mnt/data/sub/small")
echo more >>"$src/data/sub/small"
check "backing_timeout_keeps_size" test "$(stat -c %s "$mnt/data/sub/small")" = "$size_before"
chmod 600 "$src/data/sub/small"
check "backing_timeout_mode_live" test "$(stat -c %a "$mnt/data/sub/small")" = 600
chmod 640 "$mnt/data/sub/small"
check "backing_timeout_mount_chmod" test "$(stat -c %a "$mnt/data/sub/small")" = 640
check "backing_timeout_reads" cmp "$mnt/data/sub/small" "$src/data/sub/small"
umount "$mnt"
wait "$pid"
rc=$?
pid=
[ $rc = 0 ] && ok "umount_exit_0" || not_ok "umount_exit_0" "exit status $rc" \
	"$(cat "$tmp/daemon.err")"

totals
