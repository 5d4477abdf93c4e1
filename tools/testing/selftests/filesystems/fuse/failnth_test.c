// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf under systematic fault injection (fail-nth, see
 * Documentation/fault-injection/fault-injection.rst).
 *
 * For each syscall a backed node serves in the kernel, the test makes the
 * 1st, 2nd, ... fault injection point (a slab or page allocation) of that
 * one syscall fail, until the syscall completes without reaching the Nth
 * point. Every time:
 *  - the syscall succeeds with the right result (data read back, stat
 *    fields, the backing tree) or fails with ENOMEM, never another errno;
 *  - afterwards the mount and the backing tree agree: stat of the names
 *    involved and the listing of the directory, through fresh lookups too;
 *  - a directory read that failed goes on to list every entry once.
 * At the end both mounts come apart without MNT_DETACH (no leaked
 * reference). The kernel log (oops, KASAN, lockdep, kmemleak, hung tasks)
 * is the VM's to check: harness/faults.sh runs this on the debug kernel.
 *
 * failnth.*	no_daemon: a fuse-bpf mount without a daemon; filter: the
 *		same with the hide pre- and postfilters of progs/filters.bpf.c
 *		attached (they pass every name used here, and the listings
 *		go through the readdir postfilter). The *_fuse variants
 *		count only the points with fs/fuse code on the stack (the
 *		stack trace filter, given the text range of fs/fuse in
 *		$FAILNTH_FUSE_TEXT as "START END" in hex); they skip without.
 *		No variant fails allocations inside vmalloc() when
 *		$FAILNTH_REJECT_TEXT gives its text (see setup_knobs()).
 *
 * Each sweep prints "failnth: VARIANT OP points=P enomem=E absorbed=A
 * enospc=S": P injection points hit, E of them failing the syscall with
 * ENOMEM, A absorbed (the syscall still succeeded), S failing it with
 * ENOSPC, which the backing tmpfs gives for a failed inode allocation.
 * Skips where the kernel has no fail-nth (CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "backing_env.h"
#include "conn_fd.h"
#include "filters.skel.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"
#define MAX_POINTS	2000	/* no syscall here gets near it */
#define DATA_LEN	(3 * 4096 + 100)
#define NDIRENTS	40
#define XVAL		"a value of some length for the xattr"
#define LIST_MAX	4096

/* ---- fail-nth and the debugfs knobs ---- */

static int write_knob(const char *attr, const char *knob, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attr, knob);
	return write_str(path, val);
}

/* "START END" in hex from the environment variable @var: 0, or -1. */
static int env_range(const char *var, uint64_t *start, uint64_t *end)
{
	const char *text = getenv(var);

	if (!text || sscanf(text, "%" SCNx64 " %" SCNx64, start, end) != 2 ||
	    *start >= *end)
		return -1;
	return 0;
}

/*
 * GFP_KERNEL allocations may fail too (both attrs ignore them by default),
 * single pages as well as higher orders, without a report in the log per
 * injected fault (its stack trace would read as a splat). Restricted to
 * [@start, @end) of the stack when @end is not 0. Never inside vmalloc()
 * when $FAILNTH_REJECT_TEXT gives its text: kvmalloc() falls back to it,
 * and a failing vmalloc() logs a stack trace (warn_alloc()), which is no
 * bug but reads as a splat too.
 */
static int setup_knobs(uint64_t start, uint64_t end)
{
	static const char * const attrs[] = { "failslab", "fail_page_alloc" };
	uint64_t rstart = 0, rend = 0;
	char s[32], e[32], rs[32], re[32];
	unsigned int i;

	if (env_range("FAILNTH_REJECT_TEXT", &rstart, &rend))
		rstart = rend = 0;
	snprintf(s, sizeof(s), "%" PRIu64, start);
	snprintf(e, sizeof(e), "%" PRIu64, end ? end : UINT64_MAX);
	snprintf(rs, sizeof(rs), "%" PRIu64, rstart);
	snprintf(re, sizeof(re), "%" PRIu64, rend);
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		if (write_knob(attrs[i], "ignore-gfp-wait", "N") ||
		    write_knob(attrs[i], "verbose", "0") ||
		    write_knob(attrs[i], "require-start", "0") ||
		    write_knob(attrs[i], "require-end", e) ||
		    write_knob(attrs[i], "require-start", s) ||
		    write_knob(attrs[i], "reject-start", "0") ||
		    write_knob(attrs[i], "reject-end", re) ||
		    write_knob(attrs[i], "reject-start", rs))
			return -1;
	}
	if (write_knob("fail_page_alloc", "ignore-gfp-highmem", "N") ||
	    write_knob("fail_page_alloc", "min-order", "0"))
		return -1;
	return 0;
}

static int nth_set(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

/* Reads what is left of the count (0: injected) and clears it. */
static int nth_take(int fd)
{
	char buf[16] = {};
	int left;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	left = atoi(buf);
	if (left && nth_set(fd, 0))
		return -1;
	return left;
}

/* ---- the operations ---- */

struct ctx {
	struct __test_metadata *md;
	char m[256];		/* the iteration's folder in the mount */
	char b[256];		/* and in the backing */
	int fd, fd2;
	char data[DATA_LEN];
	char buf[DATA_LEN + 4096];
	/*
	 * At most a page: the VFS takes a larger xattr buffer with kvmalloc(),
	 * whose vmalloc() fallback logs a stack trace when it fails.
	 */
	char xbuf[256];
};

#define M(c, name)	path_in((c)->m, name)
#define B(c, name)	path_in((c)->b, name)

struct op {
	const char *name;
	/* outside the injection: files in the backing, lookups, opens */
	int (*prepare)(struct ctx *c);
	/* the syscall under injection */
	long (*run)(struct ctx *c);
	/* the result of a successful run */
	void (*check_ok)(struct ctx *c, long ret);
	/* names whose state mount and backing must agree on */
	const char *names[3];
	/*
	 * An errno besides ENOMEM that the backing gives for a failed
	 * allocation: tmpfs reports a new inode it could not allocate as
	 * ENOSPC (shmem_get_inode()), with or without fuse-bpf above it.
	 */
	int also;
};

static int prime(struct ctx *c, const char *name)
{
	struct stat st;

	return lstat(M(c, name), &st);
}

static int make_data(struct ctx *c, const char *name)
{
	return make_file(B(c, name), c->data, DATA_LEN);
}

/* stat (a lookup): a name the mount has not seen */
static int prep_file(struct ctx *c)
{
	return make_data(c, "f");
}

static long run_stat(struct ctx *c)
{
	struct stat st;

	return syscall(SYS_newfstatat, AT_FDCWD, M(c, "f"), &st,
		       AT_SYMLINK_NOFOLLOW);
}

static void ok_nothing(struct ctx *c, long ret)
{
}

/* open */
static int prep_primed_file(struct ctx *c)
{
	return make_data(c, "f") ?: prime(c, "f");
}

static long run_open(struct ctx *c)
{
	c->fd = syscall(SYS_openat, AT_FDCWD, M(c, "f"), O_RDONLY | O_CLOEXEC);
	return c->fd;
}

static void ok_open(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;

	ASSERT_EQ(DATA_LEN, pread(c->fd, c->buf, sizeof(c->buf), 0));
	ASSERT_EQ(0, memcmp(c->buf, c->data, DATA_LEN));
}

/* create */
static int prep_none(struct ctx *c)
{
	return 0;
}

static long run_create(struct ctx *c)
{
	c->fd = syscall(SYS_openat, AT_FDCWD, M(c, "f"),
			O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	return c->fd;
}

static void ok_create(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	struct stat st;

	ASSERT_EQ(0, lstat(B(c, "f"), &st));
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_EQ(5, write(c->fd, "hello", 5));
	CHECK_FILE(B(c, "f"), "hello");
}

/* mkdir */
static long run_mkdir(struct ctx *c)
{
	return syscall(SYS_mkdirat, AT_FDCWD, M(c, "d"), 0750);
}

static void ok_mkdir(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	struct stat st;

	ASSERT_EQ(0, lstat(B(c, "d"), &st));
	ASSERT_EQ(S_IFDIR | 0750, st.st_mode);
}

/* unlink */
static long run_unlink(struct ctx *c)
{
	return syscall(SYS_unlinkat, AT_FDCWD, M(c, "f"), 0);
}

static void ok_unlink(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	struct stat st;

	ASSERT_FAILS(ENOENT, lstat(B(c, "f"), &st));
}

/* rename over an existing name */
static int prep_rename(struct ctx *c)
{
	return make_data(c, "f") ?: make_file(B(c, "g"), "old", 3) ?:
	       prime(c, "f") ?: prime(c, "g");
}

static long run_rename(struct ctx *c)
{
	return syscall(SYS_renameat2, AT_FDCWD, M(c, "f"), AT_FDCWD,
		       M(c, "g"), 0);
}

static void ok_rename(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	struct stat st;

	ASSERT_FAILS(ENOENT, lstat(B(c, "f"), &st));
	check_file(_metadata, B(c, "g"), c->data, DATA_LEN);
	check_file(_metadata, M(c, "g"), c->data, DATA_LEN);
}

/* symlink */
static long run_symlink(struct ctx *c)
{
	return syscall(SYS_symlinkat, "some/target", AT_FDCWD, M(c, "l"));
}

static void ok_symlink(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	char buf[64] = {};

	ASSERT_EQ(11, readlink(B(c, "l"), buf, sizeof(buf)));
	ASSERT_STREQ("some/target", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(11, readlink(M(c, "l"), buf, sizeof(buf)));
	ASSERT_STREQ("some/target", buf);
}

/* link */
static long run_link(struct ctx *c)
{
	return syscall(SYS_linkat, AT_FDCWD, M(c, "f"), AT_FDCWD, M(c, "g"),
		       0);
}

static void ok_link(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	struct stat f, g;

	ASSERT_EQ(0, lstat(B(c, "f"), &f));
	ASSERT_EQ(0, lstat(B(c, "g"), &g));
	ASSERT_EQ(f.st_ino, g.st_ino);
	ASSERT_EQ(2, g.st_nlink);
}

/* read: a file opened through the mount, nothing of it cached yet */
static int prep_open_ro(struct ctx *c)
{
	if (make_data(c, "f"))
		return -1;
	c->fd = open(M(c, "f"), O_RDONLY | O_CLOEXEC);
	return c->fd < 0 ? -1 : 0;
}

static long run_read(struct ctx *c)
{
	return syscall(SYS_pread64, c->fd, c->buf, sizeof(c->buf), 0);
}

/* A short read is a read: what it gives must be the file's. */
static void ok_read(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;

	ASSERT_LT(0, ret);
	ASSERT_GE(DATA_LEN, ret);
	ASSERT_EQ(0, memcmp(c->buf, c->data, ret));
	check_file(_metadata, M(c, "f"), c->data, DATA_LEN);
}

/* write */
static int prep_open_wr(struct ctx *c)
{
	c->fd = open(M(c, "f"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	return c->fd < 0 ? -1 : 0;
}

static long run_write(struct ctx *c)
{
	return syscall(SYS_pwrite64, c->fd, c->data, DATA_LEN, 0);
}

/* A short write wrote what it says, and the backing file holds it. */
static void ok_write(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;

	ASSERT_LT(0, ret);
	ASSERT_GE(DATA_LEN, ret);
	check_file(_metadata, B(c, "f"), c->data, ret);
	check_file(_metadata, M(c, "f"), c->data, ret);
}

/* readdir: a directory opened through the mount */
static int prep_dir(struct ctx *c)
{
	char name[32];
	int i;

	if (mkdir(B(c, "d"), 0755))
		return -1;
	for (i = 0; i < NDIRENTS; i++) {
		snprintf(name, sizeof(name), "d/entry-%02d", i);
		if (make_file(B(c, name), "x", 1))
			return -1;
	}
	c->fd = open(M(c, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return c->fd < 0 ? -1 : 0;
}

static long run_readdir(struct ctx *c)
{
	return syscall(SYS_getdents64, c->fd, c->buf, sizeof(c->buf));
}

/*
 * The first getdents64 (under injection) and those after it (not) list
 * every entry of the backing directory, each once.
 */
static void check_dir_stream(struct ctx *c, long first)
{
	struct __test_metadata *_metadata = c->md;
	int seen[NDIRENTS] = {};
	int dots = 0, i, n;
	long len = first, off;

	for (;;) {
		if (len < 0)
			len = 0;	/* the injected failure: read on */
		for (off = 0; off < len; ) {
			struct dirent64_raw *d = (void *)(c->buf + off);

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) {
				dots++;
				continue;
			}
			if (sscanf(d->d_name, "entry-%d", &n) != 1)
				n = -1;
			ASSERT_TRUE(n >= 0 && n < NDIRENTS)
				TH_LOG("stray entry %s", d->d_name);
			seen[n]++;
		}
		len = syscall(SYS_getdents64, c->fd, c->buf, sizeof(c->buf));
		ASSERT_LE(0, len) TH_LOG("getdents64 after: %s", strerror(errno));
		if (!len)
			break;
	}
	ASSERT_EQ(2, dots);
	for (i = 0; i < NDIRENTS; i++) {
		n = seen[i];
		ASSERT_EQ(1, n) TH_LOG("entry-%02d listed %d times", i, n);
	}
}

static void ok_readdir(struct ctx *c, long ret)
{
	check_dir_stream(c, ret);
}

/* setxattr */
static long run_setxattr(struct ctx *c)
{
	return syscall(SYS_lsetxattr, M(c, "f"), "user.fault", XVAL,
		       strlen(XVAL), 0);
}

static void ok_setxattr(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;

	ASSERT_EQ(strlen(XVAL), lgetxattr(B(c, "f"), "user.fault", c->xbuf,
					  sizeof(c->xbuf)));
	ASSERT_EQ(0, memcmp(c->xbuf, XVAL, strlen(XVAL)));
}

/* getxattr and listxattr */
static int prep_xattrs(struct ctx *c)
{
	return make_data(c, "f") ?:
	       lsetxattr(B(c, "f"), "user.fault", XVAL, strlen(XVAL), 0) ?:
	       lsetxattr(B(c, "f"), "user.second", "2", 1, 0) ?:
	       lsetxattr(B(c, "f"), "user.third", "3", 1, 0) ?:
	       prime(c, "f");
}

static long run_getxattr(struct ctx *c)
{
	return syscall(SYS_lgetxattr, M(c, "f"), "user.fault", c->xbuf,
		       sizeof(c->xbuf));
}

static void ok_getxattr(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;

	ASSERT_EQ(strlen(XVAL), ret);
	ASSERT_EQ(0, memcmp(c->xbuf, XVAL, ret));
}

static long run_listxattr(struct ctx *c)
{
	return syscall(SYS_llistxattr, M(c, "f"), c->xbuf, sizeof(c->xbuf));
}

static void ok_listxattr(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	char back[256];
	ssize_t n = llistxattr(B(c, "f"), back, sizeof(back));

	ASSERT_LT(0, n);
	ASSERT_EQ(n, ret);
	ASSERT_EQ(0, memcmp(back, c->xbuf, n));
}

/* truncate */
static long run_truncate(struct ctx *c)
{
	return syscall(SYS_truncate, M(c, "f"), 100);
}

static void ok_truncate(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;

	check_file(_metadata, B(c, "f"), c->data, 100);
	check_file(_metadata, M(c, "f"), c->data, 100);
}

/* fallocate */
static int prep_open_rw(struct ctx *c)
{
	if (make_data(c, "f"))
		return -1;
	c->fd = open(M(c, "f"), O_RDWR | O_CLOEXEC);
	return c->fd < 0 ? -1 : 0;
}

static long run_fallocate(struct ctx *c)
{
	return syscall(SYS_fallocate, c->fd, 0, 0, 256 * 1024);
}

static void ok_fallocate(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;
	struct stat st;

	ASSERT_EQ(0, lstat(B(c, "f"), &st));
	ASSERT_EQ(256 * 1024, st.st_size);
	ASSERT_EQ(DATA_LEN, pread(c->fd, c->buf, DATA_LEN, 0));
	ASSERT_EQ(0, memcmp(c->buf, c->data, DATA_LEN));
}

/* copy_file_range */
static int prep_copy(struct ctx *c)
{
	if (make_data(c, "f") || make_file(B(c, "g"), "", 0))
		return -1;
	c->fd = open(M(c, "f"), O_RDONLY | O_CLOEXEC);
	if (c->fd < 0)
		return -1;
	c->fd2 = open(M(c, "g"), O_WRONLY | O_CLOEXEC);
	return c->fd2 < 0 ? -1 : 0;
}

static long run_copy(struct ctx *c)
{
	return syscall(SYS_copy_file_range, c->fd, NULL, c->fd2, NULL,
		       DATA_LEN, 0);
}

static void ok_copy(struct ctx *c, long ret)
{
	struct __test_metadata *_metadata = c->md;

	ASSERT_LT(0, ret);
	ASSERT_GE(DATA_LEN, ret);
	check_file(_metadata, B(c, "g"), c->data, ret);
	check_file(_metadata, M(c, "g"), c->data, ret);
}

static const struct op ops[] = {
	{ "stat", prep_file, run_stat, ok_nothing, { "f" } },
	{ "open", prep_primed_file, run_open, ok_open, { "f" } },
	{ "create", prep_none, run_create, ok_create, { "f" }, ENOSPC },
	{ "mkdir", prep_none, run_mkdir, ok_mkdir, { "d" }, ENOSPC },
	{ "unlink", prep_primed_file, run_unlink, ok_unlink, { "f" } },
	{ "rename", prep_rename, run_rename, ok_rename, { "f", "g" } },
	{ "symlink", prep_none, run_symlink, ok_symlink, { "l" }, ENOSPC },
	{ "link", prep_primed_file, run_link, ok_link, { "f", "g" } },
	{ "read", prep_open_ro, run_read, ok_read, { "f" } },
	{ "write", prep_open_wr, run_write, ok_write, { "f" } },
	{ "readdir", prep_dir, run_readdir, ok_readdir, { "d" } },
	{ "setxattr", prep_primed_file, run_setxattr, ok_setxattr, { "f" } },
	{ "getxattr", prep_xattrs, run_getxattr, ok_getxattr, { "f" } },
	{ "listxattr", prep_xattrs, run_listxattr, ok_listxattr, { "f" } },
	{ "truncate", prep_primed_file, run_truncate, ok_truncate, { "f" } },
	{ "fallocate", prep_open_rw, run_fallocate, ok_fallocate, { "f" } },
	{ "copy_file_range", prep_copy, run_copy, ok_copy, { "f", "g" } },
};

/* ---- agreement of the mount and the backing tree ---- */

/* @name is in the same state through the mount and in the backing. */
static void check_name(struct __test_metadata *_metadata, struct ctx *c,
		       const char *name)
{
	struct stat m, b;
	int rm, rb, em, eb;

	rb = lstat(B(c, name), &b);
	eb = rb ? errno : 0;
	rm = lstat(M(c, name), &m);
	em = rm ? errno : 0;
	ASSERT_EQ(eb, em) TH_LOG("%s: %s in the mount, %s in the backing",
				 name, strerror(em), strerror(eb));
	if (rb)
		return;
	EXPECT_EQ(b.st_ino, m.st_ino) TH_LOG("%s: st_ino", name);
	EXPECT_EQ(b.st_mode, m.st_mode) TH_LOG("%s: st_mode", name);
	EXPECT_EQ(b.st_nlink, m.st_nlink) TH_LOG("%s: st_nlink", name);
	EXPECT_EQ(b.st_size, m.st_size) TH_LOG("%s: st_size", name);
	EXPECT_EQ(b.st_uid, m.st_uid) TH_LOG("%s: st_uid", name);
}

static void check_agree(struct __test_metadata *_metadata, struct ctx *c,
			const struct op *op)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(op->names) && op->names[i]; i++)
		check_name(_metadata, c, op->names[i]);
	check_same_listing(_metadata, c->m, c->b);
}

/* ---- the fixture ---- */

FIXTURE(failnth) {
	struct env e;
	struct filters *skel;
	struct bpf_link *pre, *post;
	int nth;
	struct ctx *c;
};

FIXTURE_VARIANT(failnth) {
	const char *name;
	bool filters;
	bool fuse_only;
};

FIXTURE_VARIANT_ADD(failnth, no_daemon) {
	.name = "no_daemon",
};

FIXTURE_VARIANT_ADD(failnth, no_daemon_fuse) {
	.name = "no_daemon_fuse",
	.fuse_only = true,
};

FIXTURE_VARIANT_ADD(failnth, filter) {
	.name = "filter",
	.filters = true,
};

FIXTURE_VARIANT_ADD(failnth, filter_fuse) {
	.name = "filter_fuse",
	.filters = true,
	.fuse_only = true,
};

static struct filters *load_filters(void)
{
	struct filters *skel = filters__open();
	struct filters__hide__fuse_bpf_prefilters *pre;
	struct filters__hide_post__fuse_bpf_postfilters *post;

	if (!skel)
		return NULL;
	pre = bpf_map__initial_value(skel->maps.hide, NULL);
	post = bpf_map__initial_value(skel->maps.hide_post, NULL);
	/* the root's filters: ops id 1 of the connection at CONN_FD */
	pre->fuse_fd = CONN_FD;
	pre->ops_id = 1;
	post->fuse_fd = CONN_FD;
	post->ops_id = 1;
	if (filters__load(skel)) {
		filters__destroy(skel);
		return NULL;
	}
	return skel;
}

FIXTURE_SETUP(failnth)
{
	uint64_t start = 0, end = 0;
	struct stat st;
	int err = 0;

	self->nth = -1;
	if (access(FAIL_NTH, W_OK))
		SKIP(return, "no %s: a kernel without CONFIG_FAULT_INJECTION",
		     FAIL_NTH);
	if (access(DEBUGFS "/failslab/ignore-gfp-wait", W_OK) ||
	    access(DEBUGFS "/fail_page_alloc/require-start", W_OK))
		SKIP(return, "no failslab/fail_page_alloc in debugfs (stack trace filter)");
	if (variant->fuse_only && env_range("FAILNTH_FUSE_TEXT", &start, &end))
		SKIP(return, "no FAILNTH_FUSE_TEXT=\"START END\" (fs/fuse text, hex)");
	ASSERT_EQ(0, setup_knobs(start, end)) TH_LOG("debugfs knobs: %s", strerror(errno));

	umask(022);
	/*
	 * No page fault under injection: one that failed would turn into
	 * EFAULT in a copy to or from the user, or into the OOM killer.
	 */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));
	self->c = calloc(1, sizeof(*self->c));
	ASSERT_NE(NULL, self->c);
	memset(self->c, 0, sizeof(*self->c));
	fill_pattern(self->c->data, DATA_LEN, 7);
	if (env_backing(&self->e))
		err = errno;
	ASSERT_EQ(0, err) TH_LOG("backing tmpfs: %s", strerror(err));
	if (variant->filters) {
		self->skel = load_filters();
		ASSERT_NE(NULL, self->skel) TH_LOG("cannot load progs/filters.bpf.o");
		strcat(self->e.extra, ",ops=1");
		self->e.ops_pending = true;
	}
	ASSERT_EQ(0, env_mount(&self->e, false)) TH_LOG("mount: %s", strerror(errno));
	if (variant->filters) {
		self->pre = conn_attach_mnt(self->e.mnt, self->skel->maps.hide);
		ASSERT_NE(NULL, self->pre) TH_LOG("attach: %s", strerror(errno));
		self->post = conn_attach_mnt(self->e.mnt, self->skel->maps.hide_post);
		ASSERT_NE(NULL, self->post) TH_LOG("attach: %s", strerror(errno));
	}
	ASSERT_EQ(0, stat(self->e.mnt, &st));
	self->e.dev = st.st_dev;
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
}

FIXTURE_TEARDOWN(failnth)
{
	if (self->nth >= 0) {
		nth_set(self->nth, 0);
		close(self->nth);
	}
	if (!self->e.base[0])
		return;
	if (_metadata->exit_code == KSFT_PASS && is_mounted(self->e.mnt))
		env_check_shutdown(_metadata, &self->e);
	env_cleanup(&self->e);
	bpf_link__destroy(self->pre);
	bpf_link__destroy(self->post);
	filters__destroy(self->skel);
	free(self->c);
	setup_knobs(0, 0);
}

/*
 * The sweep of @op: fail its 1st, 2nd, ... injection point until it runs
 * through; each iteration in a fresh folder "@op/N" of the backing.
 */
static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
		  const FIXTURE_VARIANT(failnth) *variant, const struct op *op)
{
	struct ctx *c = self->c;
	int enomem = 0, other = 0, absorbed = 0;
	unsigned int n;
	char dir[64];
	long ret;
	int err, left;

	c->md = _metadata;
	ASSERT_EQ(0, mkdir(path_in(self->e.back, op->name), 0755));
	for (n = 1; n <= MAX_POINTS; n++) {
		snprintf(dir, sizeof(dir), "%s/%u", op->name, n);
		snprintf(c->m, sizeof(c->m), "%s/%s", self->e.mnt, dir);
		snprintf(c->b, sizeof(c->b), "%s/%s", self->e.back, dir);
		ASSERT_EQ(0, mkdir(c->b, 0755));
		c->fd = -1;
		c->fd2 = -1;
		ASSERT_EQ(0, op->prepare(c))
			TH_LOG("%s: preparing %s: %s", op->name, dir, strerror(errno));

		ASSERT_EQ(0, nth_set(self->nth, n));
		ret = op->run(c);
		err = errno;
		left = nth_take(self->nth);
		ASSERT_LE(0, left);

		if (ret < 0) {
			ASSERT_EQ(0, left)
				TH_LOG("%s failed with no fault injected: %s",
				       op->name, strerror(err));
			if (op->also && err == op->also) {
				other++;
			} else {
				ASSERT_EQ(ENOMEM, err)
					TH_LOG("%s, point %u: %s, not ENOMEM",
					       op->name, n, strerror(err));
				enomem++;
			}
			if (op->run == run_readdir)
				check_dir_stream(c, ret);
		} else {
			if (!left)
				absorbed++;
			op->check_ok(c, ret);
		}
		check_agree(_metadata, c, op);
		if (c->fd >= 0)
			close(c->fd);
		if (c->fd2 >= 0)
			close(c->fd2);
		if (left)
			break;
	}
	ASSERT_GE(MAX_POINTS, n) TH_LOG("%s: no end to the injection points", op->name);
	/* and again through fresh lookups of everything */
	ASSERT_EQ(0, evict_caches());
	for (; n; n--) {
		snprintf(c->m, sizeof(c->m), "%s/%s/%u", self->e.mnt, op->name, n);
		snprintf(c->b, sizeof(c->b), "%s/%s/%u", self->e.back, op->name, n);
		check_agree(_metadata, c, op);
	}
	ksft_print_msg("failnth: %s %s points=%d enomem=%d absorbed=%d enospc=%d\n",
		       variant->name, op->name, enomem + other + absorbed, enomem,
		       absorbed, other);
	/* a sweep that reached no allocation injected nothing: not a pass */
	if (!(enomem + other + absorbed))
		SKIP(return, "%s reached no allocation (cached): nothing injected",
		     op->name);
}

/* the sweep of the operation named as the test */
static void sweep_named(struct __test_metadata *_metadata,
			FIXTURE_DATA(failnth) *self,
			const FIXTURE_VARIANT(failnth) *variant)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (!strcmp(ops[i].name, _metadata->name)) {
			sweep(_metadata, self, variant, &ops[i]);
			return;
		}
	}
	ASSERT_TRUE(false) TH_LOG("no operation %s", _metadata->name);
}

TEST_F_TIMEOUT(failnth, stat, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, open, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, create, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, mkdir, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, unlink, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, rename, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, symlink, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, link, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, read, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, write, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, readdir, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, setxattr, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, getxattr, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, listxattr, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, truncate, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, fallocate, 300)
{
	sweep_named(_metadata, self, variant);
}

TEST_F_TIMEOUT(failnth, copy_file_range, 300)
{
	sweep_named(_metadata, self, variant);
}

/*
 * Without fail-nth the whole program is one skip, not one per case: the
 * normal kernel of make test has no fault injection. Without the text
 * ranges harness/faults.sh gives, a vmalloc() could be failed, whose
 * stack trace the harness would take for a splat: skip too.
 */
int main(int argc, char **argv)
{
	uint64_t start, end;

	if (access(FAIL_NTH, W_OK))
		ksft_exit_skip("no %s: a kernel without CONFIG_FAULT_INJECTION\n",
			       FAIL_NTH);
	if (env_range("FAILNTH_REJECT_TEXT", &start, &end))
		ksft_exit_skip("no FAILNTH_REJECT_TEXT: run by make faults (harness/faults.sh)\n");
	return test_harness_run(argc, argv);
}
