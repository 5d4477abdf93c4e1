#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lazy hydration with the fuse-bpf sample daemon (samples/fuse/
# fuse_bpf_mirror --hydrate-from=DIR), checked the way a user sees it.
# The top-level regular files of the mirrored tree are empty placeholders;
# their content is at the same name in DIR (the "remote"). stat shows the
# real size before anything is fetched; the first open of a placeholder
# waits while the daemon fetches its content into the backing file (the
# open prefilter's FUSE_BPF_USER_PREFILTER upcall), and from then on open,
# read and stat run in the kernel without the daemon. A file never opened
# is never fetched, and a fetch that fails fails the open with EIO and
# leaves the placeholder empty. The daemon's status file counts what
# reached it.
#
# FUSE_BPF_SAMPLE names the daemon binary; without it the test is skipped.

. "$(dirname "$0")/tap_helpers.sh"

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

# status: a snapshot of the daemon's counters in $tmp/status. One read(2)
# of the status file, so that each snapshot costs the daemon exactly one
# OPEN and one READ (of the status file, not of a backed node).
status() {
	dd if="$mnt/.fuse-bpf-status" of="$tmp/status" bs=65536 count=1 \
		status=none
}

# counter NAME: a counter of the last snapshot
counter() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' \
		"$tmp/status"
}

# expect NAME COUNTER VALUE: a test line for COUNTER == VALUE
expect() {
	local v

	v=$(counter "$2")
	[ "$v" = "$3" ] && ok "$1" || not_ok "$1" "$2: $v ($3 expected)"
}

# sizes DIR NAME...: the sizes of DIR/NAME..., one line
sizes() {
	local dir=$1

	shift
	(cd "$dir" && stat -c %s "$@" | tr '\n' ' ')
}

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -n "$FUSE_BPF_SAMPLE" ] || skip_all "FUSE_BPF_SAMPLE (the fuse_bpf_mirror binary) not set"
[ -x "$FUSE_BPF_SAMPLE" ] || skip_all "FUSE_BPF_SAMPLE=$FUSE_BPF_SAMPLE is not executable"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"

echo "TAP version 13"

tmp=$(mktemp -d /tmp/fuse-bpf-hydrate.XXXXXX) || exit $KSFT_FAIL
chmod 755 "$tmp"
src=$tmp/src
mnt=$tmp/mnt
remote=$tmp/remote
mkdir "$src" "$mnt" "$remote"
mount -t tmpfs -o mode=0755 hydrate-src "$src" || skip_all "cannot mount tmpfs"

# The remote content, and an empty placeholder in the source for each.
head -c 300000 /dev/urandom >"$remote/big"
echo "a small document" >"$remote/small"
head -c 70000 /dev/urandom >"$remote/other"
head -c 5000 /dev/urandom >"$remote/never"
echo "fetched on the second try" >"$remote/late"
PLACEHOLDERS="big small other never late"
for f in $PLACEHOLDERS orphan; do
	: >"$src/$f"
done
# orphan has no content in DIR: fetching it fails. late loses its
# content before its first open, and gets it back after.
echo "already local" >"$src/local"
mkdir "$src/dir"
echo "below a directory" >"$src/dir/file"

out=$("$FUSE_BPF_SAMPLE" --hydrate-from="$remote" --readonly=dir "$src" "$mnt" 2>&1)
rc=$?
[ $rc = 2 ] && ok "hydrate_readonly_usage" ||
	not_ok "hydrate_readonly_usage" "exit $rc: $out"

"$FUSE_BPF_SAMPLE" --hydrate-from="$remote" "$src" "$mnt" 2>"$tmp/daemon.err" &
pid=$!
for _ in $(seq 100); do
	grep -q " $mnt fuse" /proc/self/mounts && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q " $mnt fuse" /proc/self/mounts; then
	if kill -0 "$pid" 2>/dev/null; then
		# alive but no mount: stop it, or the wait never returns
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		rc="none (still running, no mount)"
	else
		wait "$pid"
		rc=$?
	fi
	err=$(cat "$tmp/daemon.err")
	pid=
	if [ "$rc" = 1 ] && [[ "$err" == *"no fuse-bpf"* ]]; then
		skip_all "$err"
	fi
	not_ok "mount" "daemon exit $rc: $err"
	totals
fi
ok "mount"

# stat, a listing with stat, and a find by size: the real sizes, and
# nothing fetched.
check "stat_shows_real_size" test "$(sizes "$mnt" $PLACEHOLDERS)" = \
	"$(sizes "$remote" $PLACEHOLDERS)"
ls -la "$mnt" >/dev/null
stat "$mnt"/* >/dev/null
check "find_sees_real_size" test "$(cd "$mnt" && find . -maxdepth 1 -size +100k | sort |
	tr '\n' ' ')" = "./big "
check "ls_shows_real_size" test "$(ls -l "$mnt/big" | awk '{ print $5 }')" = 300000
check "orphan_stat_size_0" test "$(stat -c %s "$mnt/orphan")" = 0
check "listing_fetched_nothing" test "$(sizes "$src" $PLACEHOLDERS orphan)" = \
	"0 0 0 0 0 0 "
status
expect "listing_no_hydration" hydrations 0
expect "listing_no_upcall" filter_upcalls 0

# The first open of a placeholder fetches it, once.
check "first_read_big" cmp "$mnt/big" "$remote/big"
check "big_fetched_into_source" cmp "$src/big" "$remote/big"
status
expect "first_open_one_hydration" hydrations 1
expect "first_open_one_upcall" filter_upcalls 1
expect "first_open_one_bpf_upcall" bpf:hydrate_upcalls 1
opens=$(counter OPEN)
reads=$(counter READ)

# Later opens and reads run in the kernel: no upcall, no fetch, and no
# OPEN or READ of a backed node reaches the daemon (the status file's own
# one OPEN and one READ per snapshot aside).
for _ in 1 2 3; do
	cat "$mnt/big" >/dev/null
done
dd if="$mnt/big" of=/dev/null bs=4096 skip=10 count=5 status=none
check "later_read_big" cmp "$mnt/big" "$remote/big"
check "stat_after_hydration" test "$(stat -c %s "$mnt/big")" = 300000
status
expect "later_opens_no_hydration" hydrations 1
expect "later_opens_no_upcall" filter_upcalls 1
expect "later_opens_no_bpf_upcall" bpf:hydrate_upcalls 1
expect "later_opens_no_backed_request" backed_node_requests 0
v=$(counter OPEN)
[ "$v" = $((opens + 1)) ] && ok "later_opens_no_OPEN" ||
	not_ok "later_opens_no_OPEN" "OPEN: $v ($((opens + 1)) expected: the status file's)"
v=$(counter READ)
[ "$v" = $((reads + 1)) ] && ok "later_reads_no_READ" ||
	not_ok "later_reads_no_READ" "READ: $v ($((reads + 1)) expected: the status file's)"

# Each placeholder: one fetch at its first open, none after.
check "first_read_small" cmp "$mnt/small" "$remote/small"
check "first_read_other" cmp "$mnt/other" "$remote/other"
check "reread_small" cmp "$mnt/small" "$remote/small"
check "reread_other" cmp "$mnt/other" "$remote/other"
status
expect "one_hydration_per_file" hydrations 3
expect "one_upcall_per_file" filter_upcalls 3
check "local_file_read" test "$(cat "$mnt/local")" = "already local"
check "below_dir_read" test "$(cat "$mnt/dir/file")" = "below a directory"
status
expect "local_files_no_upcall" filter_upcalls 3
expect "no_backed_request" backed_node_requests 0

# A fetch that fails: EIO, the placeholder stays empty, and the next open
# tries again.
check "orphan_open_eio" fails_with "Input/output error" cat "$mnt/orphan"
check "orphan_stays_empty" test "$(stat -c %s "$src/orphan")" = 0
mv "$remote/late" "$tmp/late"
check "late_open_eio" fails_with "Input/output error" cat "$mnt/late"
check "late_stays_empty" test "$(stat -c %s "$src/late")" = 0
status
expect "failures_counted" hydration_failures 2
expect "failures_not_hydrations" hydrations 3
mv "$tmp/late" "$remote/late"
check "late_open_retried" cmp "$mnt/late" "$remote/late"
status
expect "retry_hydrated" hydrations 4
expect "retry_failures_unchanged" hydration_failures 2

# Never opened, never fetched.
check "never_opened_stays_empty" test "$(stat -c %s "$src/never")" = 0
check "never_opened_real_size" test "$(stat -c %s "$mnt/never")" = 5000

# The daemon runs as root and serves one request at a time: a FIFO in DIR
# fails the open (it is not a regular file) instead of hanging the
# daemon, which goes on serving.
: >"$src/fifo"
mkfifo "$remote/fifo"
# a writer after 20 s lets a daemon stuck in the FIFO's open go on, so
# that the test fails instead of hanging
timeout 30 sh -c 'sleep 20; : >"$1"' sh "$remote/fifo" &
unblock=$!
check "fifo_open_eio" fails_with "Input/output error" cat "$mnt/fifo"
# (the status file is the daemon's: it reads only if the daemon serves)
if timeout -s KILL 20 dd if="$mnt/.fuse-bpf-status" of=/dev/null \
	status=none; then
	ok "fifo_daemon_serves"
else
	not_ok "fifo_daemon_serves" "the status file did not read in 20 s"
fi
kill "$unblock" 2>/dev/null
wait "$unblock" 2>/dev/null
check "fifo_stays_empty" test "$(stat -c %s "$src/fifo")" = 0
# Only what the placeholder's owner may read: a placeholder of another
# owner, or with wider permission bits than the file in DIR, is not
# fetched; one with narrower bits is.
echo "root only" >"$remote/secret"
chmod 600 "$remote/secret"
: >"$src/secret"
chown 65534 "$src/secret"
chmod 600 "$src/secret"
check "other_owner_open_eio" fails_with "Input/output error" cat "$mnt/secret"
check "other_owner_stays_empty" test "$(stat -c %s "$src/secret")" = 0
chown 0 "$src/secret"
chmod 644 "$src/secret"
check "wider_mode_open_eio" fails_with "Input/output error" cat "$mnt/secret"
check "wider_mode_stays_empty" test "$(stat -c %s "$src/secret")" = 0
chmod 400 "$src/secret"
check "narrower_mode_fetched" cmp "$mnt/secret" "$remote/secret"
status
expect "refusals_counted" hydration_failures 5
expect "refusals_not_hydrations" hydrations 5

status
sed 's/^/# status: /' "$tmp/status"

# SIGTERM: the daemon (with its own request loop) exits cleanly.
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ $rc = 0 ] && ok "sigterm_exit_0" || not_ok "sigterm_exit_0" "exit status $rc" \
	"$(cat "$tmp/daemon.err")"
check "unmounted" bash -c "! grep -q ' $mnt ' /proc/self/mounts"

totals
