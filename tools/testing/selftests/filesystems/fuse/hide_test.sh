#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The --hide policy, written twice, checked as a user sees it: as per-op
# filters on backed nodes (samples/fuse/fuse_bpf_mirror --hide, below a
# top-level directory, where the kernel serves everything) and as a
# request program of a classic daemon (samples/fuse/fuse_bpf_reqcache
# --hide), then that daemon hiding by itself (--no-bpf). The same checks
# run on each: hidden names are not listed, stat and open of them fail
# with ENOENT, every system call that names one (create, mkdir, mknod,
# symlink, link, rename either way, unlink, rmdir) fails with ENOENT and
# changes nothing in the source, and a directory whose listing has a
# page of hidden names only is listed whole. For the request program,
# the daemon's status file shows that no request naming a hidden name
# reached it.
#
# FUSE_BPF_SAMPLE and FUSE_BPF_REQCACHE name the daemons; the part of
# each is skipped without it.

. "$(dirname "$0")/tap_helpers.sh"
. "$(dirname "$0")/daemon_helpers.sh"

HIDE=secret

tmp=
pid=
mnt=

cleanup() {
	cd /
	if [ -n "$tmp" ]; then
		stop_daemon
		umount -l "$tmp/src" 2>/dev/null
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# start DAEMON OPTION...: mount $src at $mnt; false if it did not mount
start() {
	local daemon=$1

	shift
	"$daemon" "$@" "$src" "$mnt" 2>>"$tmp/daemon.err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q " $mnt fuse" /proc/self/mounts && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# errno_of CALL ARG...: the errno name a system call fails with, or OK
errno_of() {
	python3 - "$@" <<'EOF'
import errno, os, sys
call, args = sys.argv[1], sys.argv[2:]
try:
    if call == "stat":
        os.stat(args[0])
    elif call == "open":
        os.close(os.open(args[0], os.O_RDONLY))
    elif call == "create":
        os.close(os.open(args[0], os.O_WRONLY | os.O_CREAT, 0o644))
    elif call == "mkdir":
        os.mkdir(args[0])
    elif call == "mknod":
        os.mkfifo(args[0])
    elif call == "symlink":
        os.symlink(args[0], args[1])
    elif call == "link":
        os.link(args[0], args[1])
    elif call == "rename":
        os.rename(args[0], args[1])
    elif call == "unlink":
        os.unlink(args[0])
    elif call == "rmdir":
        os.rmdir(args[0])
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
EOF
}

# listing DIR: what ls -a shows of DIR, on one line
listing() {
	ls -a "$1" | tr '\n' ' '
}

# unhidden DIR: the same, less the names starting with $HIDE
unhidden() {
	ls -a "$1" | awk -v h="$HIDE" 'index($0, h) != 1' | tr '\n' ' '
}

# result NAME CONDITION-STATUS DETAIL: one test line from a condition
result() {
	if [ "$2" = 0 ]; then
		ok "$1"
	else
		not_ok "$1" "$3"
	fi
}

# expect ERRNO CALL ARG...: CALL fails with ERRNO
expect() {
	local want=$1 got

	shift
	got=$(errno_of "$@")
	[ "$got" = "$want" ] && return 0
	echo "$*: $got, expected $want"
	return 1
}

# The source tree: data/ holds visible and hidden names, and busy/ a
# page of hidden names only (readdir order is creation order on tmpfs)
# between visible ones.
make_source() {
	local i

	mkdir -p "$src/data/sub" "$src/data/${HIDE}_dir" "$src/busy"
	echo "visible" >"$src/data/a"
	echo "also visible" >"$src/data/b"
	echo "hidden" >"$src/data/${HIDE}_file"
	echo "the prefix alone" >"$src/data/${HIDE}"
	# one for each check that would change it, were it not hidden
	for i in rename_over rename_from link_from unlink; do
		echo "hidden, for $i" >"$src/data/${HIDE}_$i"
	done
	for i in c d; do
		echo "visible, to move" >"$src/data/$i"
	done
	echo "inside a hidden directory" >"$src/data/${HIDE}_dir/inner"
	echo "hidden, top" >"$src/${HIDE}_top"
	for i in $(seq -w 10); do
		: >"$src/busy/v$i"
	done
	for i in $(seq -w 300); do
		: >"$src/busy/${HIDE}_$i"
	done
	for i in $(seq -w 10); do
		: >"$src/busy/w$i"
	done
}

# source_state: what the checks must not change in the source
source_state() {
	(cd "$src/data" && find . -printf '%p %y %s %n\n' | sort &&
		cat "${HIDE}_file" "${HIDE}_dir/inner" a)
}

# checks LABEL: what a user sees of the hidden names in $mnt/data (the
# same checks for each daemon, each test named LABEL_...)
checks() {
	local l=$1 d=$mnt/data s=$src/data before

	before=$(source_state)
	check "${l}_ls_hides" bash -c "! ls -a '$d' | grep -q '^$HIDE'"
	check "${l}_ls_rest_same" test "$(listing "$d")" = "$(unhidden "$s")"
	check "${l}_busy_listed_whole" test "$(listing "$mnt/busy")" = \
		"$(unhidden "$src/busy")"
	check "${l}_stat_enoent" expect ENOENT stat "$d/${HIDE}_file"
	check "${l}_open_enoent" expect ENOENT open "$d/${HIDE}_file"
	check "${l}_stat_dir_enoent" expect ENOENT stat "$d/${HIDE}_dir"
	check "${l}_inner_enoent" expect ENOENT open "$d/${HIDE}_dir/inner"
	check "${l}_prefix_alone_enoent" expect ENOENT stat "$d/${HIDE}"
	check "${l}_create_enoent" expect ENOENT create "$d/${HIDE}_new"
	check "${l}_create_over_enoent" expect ENOENT create "$d/${HIDE}_file"
	check "${l}_mkdir_enoent" expect ENOENT mkdir "$d/${HIDE}_newdir"
	check "${l}_mknod_enoent" expect ENOENT mknod "$d/${HIDE}_fifo"
	check "${l}_symlink_enoent" expect ENOENT symlink a "$d/${HIDE}_link"
	check "${l}_link_enoent" expect ENOENT link "$d/a" "$d/${HIDE}_hard"
	check "${l}_link_from_enoent" expect ENOENT link "$d/${HIDE}_link_from" "$d/e"
	check "${l}_rename_over_enoent" expect ENOENT rename "$d/c" "$d/${HIDE}_rename_over"
	check "${l}_rename_to_new_enoent" expect ENOENT rename "$d/d" "$d/${HIDE}_d"
	check "${l}_rename_from_enoent" expect ENOENT rename "$d/${HIDE}_rename_from" "$d/f"
	check "${l}_unlink_enoent" expect ENOENT unlink "$d/${HIDE}_unlink"
	check "${l}_rmdir_enoent" expect ENOENT rmdir "$d/${HIDE}_dir"
	check "${l}_source_unchanged" test "$(source_state)" = "$before"
	# what is not hidden still works
	check "${l}_visible_reads" test "$(cat "$d/a")" = visible
	check "${l}_visible_create" expect OK create "$d/new"
	check "${l}_visible_create_lands" test -f "$s/new"
	check "${l}_visible_rename" expect OK rename "$d/new" "$d/new2"
	check "${l}_visible_unlink" expect OK unlink "$d/new2"
}

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
command -v python3 >/dev/null || skip_all "python3 missing"
[ -x "${FUSE_BPF_SAMPLE:-}" ] || [ -x "${FUSE_BPF_REQCACHE:-}" ] ||
	skip_all "neither FUSE_BPF_SAMPLE nor FUSE_BPF_REQCACHE names a daemon"

echo "TAP version 13"

tmp=$(mktemp -d /tmp/fuse-bpf-hide.XXXXXX) || exit "$KSFT_FAIL"
chmod 755 "$tmp"
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"
mount -t tmpfs -o mode=0755 hide-src "$src" || skip_all "cannot mount tmpfs"
cd /
make_source

# Per-op filters: below the top-level directory data/, the kernel
# serves everything, and fuse_bpf_policy.bpf.c's lookup prefilter and
# readdir postfilter hide.
if [ ! -x "${FUSE_BPF_SAMPLE:-}" ]; then
	skip "mirror" "FUSE_BPF_SAMPLE (the fuse_bpf_mirror binary) not set"
elif start "$FUSE_BPF_SAMPLE" --hide="$HIDE"; then
	ok "mirror_mount"
	checks mirror
	check "mirror_top_ls_hides" bash -c "! ls -a '$mnt' | grep -q '^$HIDE'"
	check "mirror_top_stat_enoent" expect ENOENT stat "$mnt/${HIDE}_top"
else
	if [[ "$(cat "$tmp/daemon.err")" == *"no fuse-bpf"* ]]; then
		skip "mirror_mount" "$(cat "$tmp/daemon.err")"
	else
		not_ok "mirror_mount" "$(cat "$tmp/daemon.err")"
	fi
fi
stop_daemon

if [ ! -x "${FUSE_BPF_REQCACHE:-}" ]; then
	skip "reqcache" "FUSE_BPF_REQCACHE (the fuse_bpf_reqcache binary) not set"
	totals
fi

out=$("$FUSE_BPF_REQCACHE" --hide=a/b "$src" "$mnt" 2>&1)
rc=$?
[ $rc = 2 ] && [[ "$out" == *usage:* ]]
result "reqcache_bad_hide_usage" $? "exit $rc: $out"

# The request program: the classic daemon's every directory, the root
# too; no request naming a hidden name reaches the daemon.
if start "$FUSE_BPF_REQCACHE" --hide="$HIDE" --status="$tmp/status"; then
	ok "reqcache_mount"
	snapshot "$tmp/before"
	checks reqcache
	check "reqcache_top_ls_hides" bash -c "! ls -a '$mnt' | grep -q '^$HIDE'"
	check "reqcache_top_stat_enoent" expect ENOENT stat "$mnt/${HIDE}_top"
	# a published directory, then a hidden name in it, many times
	for _ in 1 2 3; do errno_of stat "$mnt/data/${HIDE}_file"; done >/dev/null
	snapshot "$tmp/after"
	v=$(counter "$tmp/after" hidden_received)
	[ "$v" = 0 ]
	result "reqcache_daemon_got_no_hidden_name" $? "hidden_received: $v"
	v=$(counter "$tmp/after" bpf:hidden_lookups)
	w=$(counter "$tmp/before" bpf:hidden_lookups)
	[ "$v" != missing ] && [ "$w" != missing ] && [ $((v - w)) -ge 3 ]
	result "reqcache_program_failed_lookups" $? "bpf:hidden_lookups $w -> $v"
	v=$(counter "$tmp/after" bpf:hidden_dirents)
	[ "$v" != missing ] && [ "$v" -gt 0 ]
	result "reqcache_program_removed_dirents" $? "bpf:hidden_dirents: $v"
else
	not_ok "reqcache_mount" "$(cat "$tmp/daemon.err")"
fi
stop_daemon

# The daemon hiding by itself, without the program: the same answers.
if start "$FUSE_BPF_REQCACHE" --hide="$HIDE" --no-bpf --status="$tmp/status"; then
	ok "nobpf_mount"
	checks nobpf
	check "nobpf_top_ls_hides" bash -c "! ls -a '$mnt' | grep -q '^$HIDE'"
	check "nobpf_top_stat_enoent" expect ENOENT stat "$mnt/${HIDE}_top"
	snapshot "$tmp/after"
	# the counter the program's check reads does count, when names come
	v=$(counter "$tmp/after" hidden_received)
	[ "$v" != missing ] && [ "$v" -gt 0 ]
	result "nobpf_daemon_got_hidden_names" $? "hidden_received: $v"
else
	not_ok "nobpf_mount" "$(cat "$tmp/daemon.err")"
fi
stop_daemon
[ -s "$tmp/daemon.err" ] && sed 's/^/# daemon: /' "$tmp/daemon.err"

totals
