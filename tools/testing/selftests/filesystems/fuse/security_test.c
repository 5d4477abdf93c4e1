// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: through the mount, a caller gets exactly what the backing file
 * system would give it.
 *
 * Backing operations run with the credentials the backing was registered
 * with (root's). On an allow_other mount every check or effect that
 * depends on who the caller is must still be made for the caller. Every
 * test here prepares two identical trees in the backing tmpfs as root:
 * "m", reached through the mount, and "b", used bare. A child drops to an
 * unprivileged caller (uid 1000, gid 1000, groups { 1000 }) and does the
 * same operations on both; return values, errnos and the resulting owners,
 * modes and contents must be the same, and the bare ones what tmpfs is
 * known to give.
 *
 * The fixture runs without and with a daemon, and without and with
 * default_permissions. Every test runs in a mount namespace of its own.
 *
 * The lock tests read /proc/locks: on a kernel that leaks a lock past its
 * file, showing that lock oopses, so they stop before reading it once a
 * leak is seen; a later reader (the next lock test) may still hit it.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/mount.h>
#include <sys/syscall.h>

#include "../../kselftest_harness.h"
#include "fuse_test_daemon.h"

#include "backing_env.h"

#define CALLER		1000	/* uid and gid of the unprivileged caller */
#define OTHER_USER	1001
#define GRP_NOT_MINE	2000	/* a group the caller is not in */
#define GRP_FOREIGN	3000

#define MAX_OPS		16
#define OUT_BUF		256

/* ---- recording what a caller gets ---- */

struct op_res {
	char what[96];
	long ret;
	int err;
};

/* What one run of a test's operations gave on one tree. */
struct outcome {
	int n;
	struct op_res op[MAX_OPS];
	struct stat st;			/* e.g. an fstat of an unnamed file */
	char buf[OUT_BUF];		/* e.g. a listxattr result */
	ssize_t len;
};

/* The runs on the mount ([0], tree "m") and on the bare backing ([1], "b"). */
struct twin {
	struct outcome o[2];
};

static long rec(struct outcome *o, const char *what, long ret)
{
	int err = errno;
	struct op_res *r;

	if (o->n < MAX_OPS) {
		r = &o->op[o->n++];
		snprintf(r->what, sizeof(r->what), "%s", what);
		r->ret = ret;
		r->err = ret < 0 ? err : 0;
	}
	errno = err;
	return ret;
}

/* Record the result of @call. */
#define REC(o, call)	rec(o, #call, (long)(call))
/* Record a file descriptor as 0: the numbers may differ between the runs. */
#define REC_FD(o, call)	({ long __fd = (call);				\
			   rec(o, #call, __fd < 0 ? __fd : 0);		\
			   __fd; })

/* "@dir/@name" in a buffer of its own (the child makes many at once). */
static char *at(const char *dir, const char *name)
{
	static char paths[16][PATH_MAX];
	static unsigned int next;
	char *p = paths[next++ % ARRAY_SIZE(paths)];

	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

/* Run @fn in a child with the given identity; returns its exit status. */
static int run_as(uid_t uid, gid_t gid, int ngroups, const gid_t *groups,
		  int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (!pid) {
		if (setgroups(ngroups, groups) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(100);
		_exit(fn(arg));
	}
	return child_status(pid, 60000);
}

typedef void (*twin_fn)(const char *dir, struct outcome *o, void *arg);

struct twin_job {
	twin_fn fn;
	void *arg;
	struct twin *tw;
	char dirs[2][PATH_MAX];
};

static int twin_child(void *p)
{
	struct twin_job *j = p;
	int i;

	for (i = 0; i < 2; i++)
		j->fn(j->dirs[i], &j->tw->o[i], j->arg);
	return 0;
}

static struct twin *twin_alloc(struct __test_metadata *_metadata)
{
	struct twin *tw = mmap(NULL, sizeof(*tw), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, tw);
	return tw;
}

static const gid_t caller_groups[] = { CALLER };

/*
 * Run @fn as uid:gid on the mount's tree and on the bare tree; the results
 * land in @tw (cleared first).
 */
static void twin_run_as(struct __test_metadata *_metadata, struct env *e,
			uid_t uid, gid_t gid, int ngroups, const gid_t *groups,
			struct twin *tw, twin_fn fn, void *arg)
{
	struct twin_job j = { .fn = fn, .arg = arg, .tw = tw };
	int ret;

	memset(tw, 0, sizeof(*tw));
	snprintf(j.dirs[0], PATH_MAX, "%s/m", e->mnt);
	snprintf(j.dirs[1], PATH_MAX, "%s/b", e->back);
	ret = run_as(uid, gid, ngroups, groups, twin_child, &j);
	ASSERT_EQ(0, ret) TH_LOG("the child running as %u:%u failed", uid, gid);
}

#define TWIN_CALLER(tw, fn, arg)					\
	twin_run_as(_metadata, &self->e, CALLER, CALLER, 1, caller_groups, \
		    tw, fn, arg)
#define TWIN_ROOT(tw, fn, arg)						\
	twin_run_as(_metadata, &self->e, 0, 0, 0, NULL, tw, fn, arg)

/*
 * Every operation must give the same result through the mount as on the
 * bare backing. Returns the number of differences (each one is logged).
 */
static int twin_compare(struct __test_metadata *_metadata, struct twin *tw,
			const char *who)
{
	struct outcome *m = &tw->o[0], *b = &tw->o[1];
	int i, diffs = 0;

	EXPECT_EQ(b->n, m->n) TH_LOG("%s: %d operations on the mount, %d bare",
				     who, m->n, b->n);
	for (i = 0; i < m->n && i < b->n; i++) {
		if (m->op[i].ret == b->op[i].ret &&
		    m->op[i].err == b->op[i].err)
			continue;
		diffs++;
		TH_LOG("%s: %s: mount gives %ld (%s), bare tmpfs %ld (%s)", who,
		       b->op[i].what, m->op[i].ret,
		       m->op[i].err ? strerror(m->op[i].err) : "ok",
		       b->op[i].ret,
		       b->op[i].err ? strerror(b->op[i].err) : "ok");
	}
	EXPECT_EQ(0, diffs) TH_LOG("%s: %d results differ", who, diffs);
	return diffs;
}

/* The bare run's operation @i gave @ret (-1 with @err). */
static void expect_bare(struct __test_metadata *_metadata, struct twin *tw,
			int i, long ret, int err)
{
	struct op_res *r = &tw->o[1].op[i];

	ASSERT_LT(i, tw->o[1].n);
	EXPECT_EQ(ret, r->ret) TH_LOG("bare %s: %ld (%s), expected %ld", r->what,
				      r->ret, r->err ? strerror(r->err) : "ok",
				      ret);
	EXPECT_EQ(err, r->err) TH_LOG("bare %s: %s, expected %s", r->what,
				      strerror(r->err), strerror(err));
}

/* ---- the twin trees, as root ---- */

/* "@back/m/@name" or "@back/b/@name", the backing of one twin. */
static char *twin_path(struct env *e, int i, const char *name)
{
	static char paths[8][PATH_MAX];
	static unsigned int next;
	char *p = paths[next++ % ARRAY_SIZE(paths)];

	snprintf(p, PATH_MAX, "%s/%s/%s", e->back, i ? "b" : "m", name);
	return p;
}

static void twin_dir(struct __test_metadata *_metadata, struct env *e,
		     const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	int i;

	for (i = 0; i < 2; i++) {
		char *p = twin_path(e, i, name);

		ASSERT_EQ(0, mkdir(p, 0700)) TH_LOG("mkdir %s: %s", p,
						    strerror(errno));
		ASSERT_EQ(0, chown(p, uid, gid));
		ASSERT_EQ(0, chmod(p, mode));
	}
}

static void twin_file(struct __test_metadata *_metadata, struct env *e,
		      const char *name, mode_t mode, uid_t uid, gid_t gid,
		      const void *data, size_t len)
{
	int i;

	for (i = 0; i < 2; i++) {
		char *p = twin_path(e, i, name);

		ASSERT_EQ(0, make_file(p, data, len)) TH_LOG("%s: %s", p,
							     strerror(errno));
		ASSERT_EQ(0, chown(p, uid, gid));
		ASSERT_EQ(0, chmod(p, mode));	/* after chown: it drops S_IS[UG]ID */
	}
}

static int set_flags(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret, err;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

static void twin_flags(struct __test_metadata *_metadata, struct env *e,
		       const char *name, int flags)
{
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, set_flags(twin_path(e, i, name), flags))
			TH_LOG("FS_IOC_SETFLAGS %#x on %s: %s", flags,
			       twin_path(e, i, name), strerror(errno));
}

static void twin_xattr(struct __test_metadata *_metadata, struct env *e,
		       const char *name, const char *xname, const void *value,
		       size_t size)
{
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, setxattr(twin_path(e, i, name), xname, value, size, 0))
			TH_LOG("setxattr %s on %s: %s", xname,
			       twin_path(e, i, name), strerror(errno));
}

/*
 * @name must have the same owner and mode on both twins (and through the
 * mount as in its backing), and the bare one must be @uid:@gid @mode.
 */
static void twin_check_node(struct __test_metadata *_metadata, struct env *e,
			    const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	char mnt_path[PATH_MAX];
	struct stat m, b, v;

	ASSERT_EQ(0, lstat(twin_path(e, 1, name), &b))
		TH_LOG("bare %s: %s", name, strerror(errno));
	ASSERT_EQ(0, lstat(twin_path(e, 0, name), &m))
		TH_LOG("backing of the mount's %s: %s", name, strerror(errno));
	EXPECT_EQ(b.st_uid, m.st_uid)
		TH_LOG("%s: owner %u through the mount, %u bare", name, m.st_uid,
		       b.st_uid);
	EXPECT_EQ(b.st_gid, m.st_gid)
		TH_LOG("%s: group %u through the mount, %u bare", name, m.st_gid,
		       b.st_gid);
	EXPECT_EQ(b.st_mode, m.st_mode)
		TH_LOG("%s: mode %o through the mount, %o bare", name, m.st_mode,
		       b.st_mode);
	EXPECT_EQ(uid, b.st_uid) TH_LOG("%s: bare owner %u, expected %u", name,
					b.st_uid, uid);
	EXPECT_EQ(gid, b.st_gid) TH_LOG("%s: bare group %u, expected %u", name,
					b.st_gid, gid);
	EXPECT_EQ(mode, b.st_mode) TH_LOG("%s: bare mode %o, expected %o", name,
					  b.st_mode, mode);

	/* and the mount shows what its backing has */
	snprintf(mnt_path, sizeof(mnt_path), "%s/m/%s", e->mnt, name);
	ASSERT_EQ(0, lstat(mnt_path, &v)) TH_LOG("%s: %s", mnt_path,
						 strerror(errno));
	EXPECT_EQ(m.st_uid, v.st_uid) TH_LOG("%s: stale owner", mnt_path);
	EXPECT_EQ(m.st_gid, v.st_gid) TH_LOG("%s: stale group", mnt_path);
	EXPECT_EQ(m.st_mode, v.st_mode) TH_LOG("%s: stale mode %o, backing %o",
					       mnt_path, v.st_mode, m.st_mode);
}

/* Both twins' @name hold the same bytes, which are @expect. */
static void twin_check_content(struct __test_metadata *_metadata, struct env *e,
			       const char *name, const char *expect)
{
	char m[512], b[512];
	ssize_t nm, nb;

	nb = read_all(twin_path(e, 1, name), b, sizeof(b) - 1);
	nm = read_all(twin_path(e, 0, name), m, sizeof(m) - 1);
	ASSERT_LE(0, nb);
	ASSERT_LE(0, nm);
	b[nb] = '\0';
	m[nm] = '\0';
	EXPECT_STREQ(b, m) TH_LOG("%s: the mount's backing holds \"%s\", bare \"%s\"",
				  name, m, b);
	EXPECT_STREQ(expect, b);
}

/* ---- POSIX ACLs in their xattr form ---- */

#define ACL_USER_OBJ	0x01
#define ACL_USER	0x02
#define ACL_GROUP_OBJ	0x04
#define ACL_GROUP	0x08
#define ACL_MASK	0x10
#define ACL_OTHER	0x20
#define ACL_NO_ID	0xffffffffu
#define ACL_XATTR_VERSION 2

struct acl_ent {
	__u16 tag;
	__u16 perm;
	__u32 id;
};

/* @ents must be sorted by tag, then id. Returns the size. */
static size_t acl_xattr(void *buf, const struct acl_ent *ents, int n)
{
	__u32 *hdr = buf;
	struct acl_ent *out = (struct acl_ent *)(hdr + 1);
	int i;

	*hdr = htole32(ACL_XATTR_VERSION);
	for (i = 0; i < n; i++) {
		out[i].tag = htole16(ents[i].tag);
		out[i].perm = htole16(ents[i].perm);
		out[i].id = htole32(ents[i].id);
	}
	return sizeof(*hdr) + n * sizeof(*out);
}

/* ---- the fixture ---- */

FIXTURE(caller) {
	struct env e;
	struct twin *tw;
};

FIXTURE_VARIANT(caller) {
	bool daemon;		/* a daemon mount with root_dir=, else no_daemon */
	bool default_permissions;
};

FIXTURE_VARIANT_ADD(caller, no_daemon) {
	.daemon = false,
	.default_permissions = false,
};

FIXTURE_VARIANT_ADD(caller, no_daemon_dp) {
	.daemon = false,
	.default_permissions = true,
};

FIXTURE_VARIANT_ADD(caller, daemon) {
	.daemon = true,
	.default_permissions = false,
};

FIXTURE_VARIANT_ADD(caller, daemon_dp) {
	.daemon = true,
	.default_permissions = true,
};

/* Files that tests make append-only or immutable. */
static const char *const flagged[] = { "t/a", "u/i" };

FIXTURE_SETUP(caller)
{
	int err = 0;

	umask(022);
	/* env_backing() clears the env: the options go in between */
	if (env_backing(&self->e)) {
		err = errno;
	} else {
		snprintf(self->e.extra, sizeof(self->e.extra), ",allow_other%s",
			 variant->default_permissions ? ",default_permissions" : "");
		if (env_mount(&self->e, variant->daemon))
			err = errno;
	}
	if (err)
		env_cleanup(&self->e);
	ASSERT_EQ(0, err) TH_LOG("%s mount (%s) of a tmpfs dir: %s",
				 variant->daemon ? "root_dir daemon" : "no_daemon",
				 self->e.extra, strerror(err));
	ASSERT_EQ(0, mkdir(BACK("m"), 0755));
	ASSERT_EQ(0, mkdir(BACK("b"), 0755));
	self->tw = twin_alloc(_metadata);
}

FIXTURE_TEARDOWN(caller)
{
	unsigned int i;
	int j;

	for (i = 0; i < ARRAY_SIZE(flagged); i++)
		for (j = 0; j < 2; j++)
			set_flags(twin_path(&self->e, j, flagged[i]), 0);
	if (_metadata->exit_code == KSFT_PASS && self->e.mnt[0] &&
	    is_mounted(self->e.mnt))
		env_check_shutdown(_metadata, &self->e);
	env_cleanup(&self->e);
	if (self->tw)
		munmap(self->tw, sizeof(*self->tw));
}

/* ---- 1. new objects belong to the caller ---- */

static void create_ops(const char *dir, struct outcome *o, void *arg)
{
	long fd;

	umask(0);
	fd = REC_FD(o, open(at(dir, "t/f"), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 04755));
	if (fd >= 0)
		close(fd);
	REC(o, mkdir(at(dir, "t/d"), 0755));
	REC(o, mknod(at(dir, "t/p"), S_IFIFO | 0644, 0));
	REC(o, symlink("target", at(dir, "t/s")));
	fd = REC_FD(o, open(at(dir, "t"), O_TMPFILE | O_RDWR | O_CLOEXEC, 0640));
	if (fd >= 0) {
		REC(o, fstat(fd, &o->st));
		close(fd);
	}
}

TEST_F(caller, create_owner)
{
	struct twin *tw = self->tw;
	int i;

	twin_dir(_metadata, &self->e, "t", 01777, 0, 0);
	TWIN_CALLER(tw, create_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	for (i = 0; i < 4; i++)
		expect_bare(_metadata, tw, i, 0, 0);
	twin_check_node(_metadata, &self->e, "t/f", CALLER, CALLER, S_IFREG | 04755);
	twin_check_node(_metadata, &self->e, "t/d", CALLER, CALLER, S_IFDIR | 0755);
	twin_check_node(_metadata, &self->e, "t/p", CALLER, CALLER, S_IFIFO | 0644);
	twin_check_node(_metadata, &self->e, "t/s", CALLER, CALLER, S_IFLNK | 0777);

	/* the unnamed file */
	expect_bare(_metadata, tw, 4, 0, 0);
	ASSERT_EQ(6, tw->o[0].n) TH_LOG("O_TMPFILE on the mount: %s",
					strerror(tw->o[0].op[4].err));
	EXPECT_EQ(CALLER, tw->o[1].st.st_uid);
	EXPECT_EQ(CALLER, tw->o[1].st.st_gid);
	EXPECT_EQ(tw->o[1].st.st_uid, tw->o[0].st.st_uid)
		TH_LOG("O_TMPFILE owned by %u:%u through the mount",
		       tw->o[0].st.st_uid, tw->o[0].st.st_gid);
	EXPECT_EQ(tw->o[1].st.st_gid, tw->o[0].st.st_gid);
	EXPECT_EQ(tw->o[1].st.st_mode, tw->o[0].st.st_mode)
		TH_LOG("O_TMPFILE mode %o through the mount, %o bare",
		       tw->o[0].st.st_mode, tw->o[1].st.st_mode);
}

/* ---- 2. a set-group-ID directory ---- */

static void setgid_dir_ops(const char *dir, struct outcome *o, void *arg)
{
	long fd;

	umask(0);
	fd = REC_FD(o, open(at(dir, "g/f"), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 02755));
	if (fd >= 0)
		close(fd);
	REC(o, mkdir(at(dir, "g/d"), 0755));
}

TEST_F(caller, create_setgid_dir)
{
	struct twin *tw = self->tw;

	twin_dir(_metadata, &self->e, "g", 02777, 0, GRP_NOT_MINE);
	TWIN_CALLER(tw, setgid_dir_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, 0, 0);
	expect_bare(_metadata, tw, 1, 0, 0);
	/* the group of the directory; S_ISGID only where the caller may have it */
	twin_check_node(_metadata, &self->e, "g/f", CALLER, GRP_NOT_MINE, S_IFREG | 0755);
	twin_check_node(_metadata, &self->e, "g/d", CALLER, GRP_NOT_MINE,
			S_IFDIR | 02755);
}

/* ---- 3. append-only and immutable backing files ---- */

static void append_ops(const char *dir, struct outcome *o, void *arg)
{
	char *a = at(dir, "t/a");
	long fd;

	fd = REC_FD(o, open(a, O_WRONLY | O_TRUNC | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	fd = REC_FD(o, open(a, O_WRONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	fd = REC_FD(o, open(a, O_RDWR | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	REC(o, truncate(a, 0));
	fd = REC_FD(o, open(a, O_WRONLY | O_APPEND | O_CLOEXEC));
	if (fd < 0)
		return;
	REC(o, write(fd, "x\n", 2));
	REC(o, ftruncate(fd, 1));
	/* dropping O_APPEND is refused; a write at 0 still appends */
	REC(o, fcntl(fd, F_SETFL, 0));
	REC(o, pwrite(fd, "y\n", 2, 0));
	close(fd);
}

TEST_F(caller, append_only)
{
	struct twin *tw = self->tw;
	int i;

	twin_dir(_metadata, &self->e, "t", 0755, 0, 0);
	twin_file(_metadata, &self->e, "t/a", 0666, 0, 0, "base\n", 5);
	twin_flags(_metadata, &self->e, "t/a", FS_APPEND_FL);

	TWIN_CALLER(tw, append_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	for (i = 0; i < 4; i++)
		expect_bare(_metadata, tw, i, -1, EPERM);
	expect_bare(_metadata, tw, 4, 0, 0);
	expect_bare(_metadata, tw, 5, 2, 0);
	expect_bare(_metadata, tw, 6, -1, EPERM);
	expect_bare(_metadata, tw, 7, -1, EPERM);
	twin_check_content(_metadata, &self->e, "t/a", "base\nx\ny\n");

	TWIN_ROOT(tw, append_ops, NULL);
	twin_compare(_metadata, tw, "root");
	for (i = 0; i < 4; i++)
		expect_bare(_metadata, tw, i, -1, EPERM);
	expect_bare(_metadata, tw, 6, -1, EPERM);
	twin_check_content(_metadata, &self->e, "t/a", "base\nx\ny\nx\ny\n");
}

static void immutable_ops(const char *dir, struct outcome *o, void *arg)
{
	char *i = at(dir, "u/i");
	long fd;

	fd = REC_FD(o, open(i, O_WRONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	fd = REC_FD(o, open(i, O_WRONLY | O_APPEND | O_CLOEXEC));
	if (fd >= 0) {
		REC(o, write(fd, "z\n", 2));
		close(fd);
	}
	REC(o, truncate(i, 0));
	REC(o, chmod(i, 0644));
	REC(o, setxattr(i, "user.x", "1", 1, 0));
	REC(o, link(i, at(dir, "u/k")));
	REC(o, rename(i, at(dir, "u/j")));
	REC(o, unlink(i));
	fd = REC_FD(o, open(i, O_RDONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
}

TEST_F(caller, immutable)
{
	struct twin *tw = self->tw;
	int i;

	/* the caller's own file in a sticky dir, so only the flag refuses */
	twin_dir(_metadata, &self->e, "u", 01777, 0, 0);
	twin_file(_metadata, &self->e, "u/i", 0666, CALLER, CALLER, "imm\n", 4);
	twin_flags(_metadata, &self->e, "u/i", FS_IMMUTABLE_FL);

	TWIN_CALLER(tw, immutable_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	for (i = 0; i < 8; i++)
		expect_bare(_metadata, tw, i, -1, EPERM);
	expect_bare(_metadata, tw, 8, 0, 0);

	TWIN_ROOT(tw, immutable_ops, NULL);
	twin_compare(_metadata, tw, "root");
	for (i = 0; i < 8; i++)
		expect_bare(_metadata, tw, i, -1, EPERM);
	twin_check_content(_metadata, &self->e, "u/i", "imm\n");
	twin_check_node(_metadata, &self->e, "u/i", CALLER, CALLER, S_IFREG | 0666);
}

/* ---- 4. locks die with the file that took them ---- */

static int count_lines(const char *path, const char *needle)
{
	char line[256];
	int n = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* " maj:min:ino " of @path as /proc/locks shows it */
static void lock_id(const char *path, char *buf, size_t size)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(buf, size, "(%s: %s)", path, strerror(errno));
		return;
	}
	snprintf(buf, size, " %02x:%02x:%lu ", major(st.st_dev), minor(st.st_dev),
		 (unsigned long)st.st_ino);
}

/* Log the lines of /proc/locks. */
static void dump_locks(struct __test_metadata *_metadata)
{
	char line[256];
	FILE *f;

	f = fopen("/proc/locks", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		TH_LOG("/proc/locks: %.*s", (int)strcspn(line, "\n"), line);
	fclose(f);
}

/*
 * Files root opens before the caller runs, to look for the caller's locks
 * once it is gone: the backing of each twin and the mount's file. They
 * are open while the caller's files exist, so none of them can reuse the
 * address of a freed caller file, which a leaked lock takes as its owner.
 */
struct lock_probe {
	int fd[3];
	char id[3][64];
};

static const char *const probe_name[] = {
	"the mount's backing", "the bare file", "the mount",
};

static void probe_open(struct __test_metadata *_metadata, struct env *e,
		       const char *name, struct lock_probe *p)
{
	char mnt_path[PATH_MAX];
	const char *path[3];
	int i;

	snprintf(mnt_path, sizeof(mnt_path), "%s/m/%s", e->mnt, name);
	path[0] = twin_path(e, 0, name);
	path[1] = twin_path(e, 1, name);
	path[2] = mnt_path;
	for (i = 0; i < 3; i++) {
		p->fd[i] = open(path[i], O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, p->fd[i]) TH_LOG("%s: %s", path[i], strerror(errno));
		lock_id(path[i], p->id[i], sizeof(p->id[i]));
	}
}

/*
 * Once the caller's file is closed, nothing may still hold a lock: no
 * conflict for a write lock on the backing of each twin and through the
 * mount, root gets one on each backing, and /proc/locks is back to its
 * @nr_locks lines. Closes the probe.
 */
static void probe_check(struct __test_metadata *_metadata, struct lock_probe *p,
			int nr_locks)
{
	struct flock wr = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct flock get[3];
	int i, n, bad = 0, err[3] = {};
	bool leaked = false;

	for (i = 0; i < 3; i++) {
		get[i] = wr;
		if (fcntl(p->fd[i], F_OFD_GETLK, &get[i]))
			err[i] = errno;
	}
	EXPECT_EQ(0, err[1]) TH_LOG("bare F_OFD_GETLK: %s", strerror(err[1]));
	EXPECT_EQ(F_UNLCK, get[1].l_type);
	for (i = 0; i < 3; i += 2) {
		if (err[i] != err[1] || get[i].l_type != get[1].l_type)
			leaked = true;
		EXPECT_EQ(err[1], err[i]) TH_LOG("F_OFD_GETLK on %s: %s", probe_name[i],
						 strerror(err[i]));
		EXPECT_EQ(get[1].l_type, get[i].l_type)
			TH_LOG("%s still has a %s lock of pid %d", probe_name[i],
			       get[i].l_type == F_RDLCK ? "read" : "write", get[i].l_pid);
	}
	for (i = 0; i < 2; i++) {
		err[i] = fcntl(p->fd[i], F_OFD_SETLK, &wr) ? errno : 0;
		if (err[i])
			leaked = true;
		EXPECT_EQ(0, err[i]) TH_LOG("a write lock on %s: %s", probe_name[i],
					    strerror(err[i]));
	}
	for (i = 0; i < 3; i++)
		close(p->fd[i]);
	/* showing a lock whose file is gone oopses in lock_get_status() */
	ASSERT_FALSE(leaked) TH_LOG("a lock outlived its file: not reading /proc/locks");
	for (i = 0; i < 3; i++) {
		n = count_lines("/proc/locks", p->id[i]);
		bad += n;
		EXPECT_EQ(0, n) TH_LOG("/proc/locks still has a lock on %s (%s)",
				       probe_name[i], p->id[i]);
	}
	n = count_lines("/proc/locks", "");
	EXPECT_EQ(nr_locks, n) TH_LOG("/proc/locks has %d lines, %d before (leaked)",
				      n, nr_locks);
	if (bad || n != nr_locks)
		dump_locks(_metadata);
}

/* Lock t/l with @arg (F_OFD_SETLK or F_SETLK), then close it. */
static void lock_close_ops(const char *dir, struct outcome *o, void *arg)
{
	struct flock lk = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int cmd = (long)arg;
	long fd;

	if (cmd == F_SETLK)
		lk.l_type = F_WRLCK;
	fd = REC_FD(o, open(at(dir, "t/l"), O_RDWR | O_CLOEXEC));
	if (fd < 0)
		return;
	REC(o, fcntl(fd, cmd, &lk));
	REC(o, close(fd));
}

/* The lock is gone with the close, as uid 1000 and as root. */
static void lock_close_case(struct __test_metadata *_metadata, struct env *e,
			    struct twin *tw, long cmd)
{
	int nr_locks = count_lines("/proc/locks", "");
	struct lock_probe probe;

	ASSERT_LE(0, nr_locks);
	twin_dir(_metadata, e, "t", 0755, 0, 0);
	twin_file(_metadata, e, "t/l", 0666, 0, 0, CONTENT, strlen(CONTENT));

	probe_open(_metadata, e, "t/l", &probe);
	twin_run_as(_metadata, e, CALLER, CALLER, 1, caller_groups, tw,
		    lock_close_ops, (void *)cmd);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 1, 0, 0);
	probe_check(_metadata, &probe, nr_locks);

	probe_open(_metadata, e, "t/l", &probe);
	twin_run_as(_metadata, e, 0, 0, 0, NULL, tw, lock_close_ops,
		    (void *)cmd);
	twin_compare(_metadata, tw, "root");
	expect_bare(_metadata, tw, 1, 0, 0);
	probe_check(_metadata, &probe, nr_locks);
}

TEST_F(caller, ofd_lock_close)
{
	lock_close_case(_metadata, &self->e, self->tw, F_OFD_SETLK);
}

TEST_F(caller, posix_lock_close)
{
	lock_close_case(_metadata, &self->e, self->tw, F_SETLK);
}

/* ---- 5. chmod and chown as the owner ---- */

static void owner_ops(const char *dir, struct outcome *o, void *arg)
{
	REC(o, chmod(at(dir, "t/f1"), 02755));
	REC(o, chown(at(dir, "t/f2"), -1, CALLER));
	REC(o, chown(at(dir, "t/f3"), -1, GRP_FOREIGN));
	REC(o, chown(at(dir, "t/f3"), 0, -1));
	REC(o, chown(at(dir, "t/s"), -1, CALLER));
}

TEST_F(caller, chmod_drops_sgid)
{
	struct twin *tw = self->tw;
	struct env *e = &self->e;

	twin_dir(_metadata, e, "t", 0755, 0, 0);
	twin_file(_metadata, e, "t/f1", 0755, CALLER, GRP_NOT_MINE, "", 0);
	twin_file(_metadata, e, "t/f2", 0644, CALLER, GRP_NOT_MINE, "", 0);
	twin_file(_metadata, e, "t/f3", 0644, CALLER, GRP_NOT_MINE, "", 0);
	twin_file(_metadata, e, "t/s", 06755, CALLER, CALLER, "", 0);

	TWIN_CALLER(tw, owner_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, 0, 0);
	expect_bare(_metadata, tw, 1, 0, 0);
	expect_bare(_metadata, tw, 2, -1, EPERM);
	expect_bare(_metadata, tw, 3, -1, EPERM);
	expect_bare(_metadata, tw, 4, 0, 0);
	/* not in the file's group: S_ISGID goes */
	twin_check_node(_metadata, e, "t/f1", CALLER, GRP_NOT_MINE, S_IFREG | 0755);
	twin_check_node(_metadata, e, "t/f2", CALLER, CALLER, S_IFREG | 0644);
	twin_check_node(_metadata, e, "t/f3", CALLER, GRP_NOT_MINE, S_IFREG | 0644);
	/* chown by an unprivileged owner clears S_ISUID and S_ISGID */
	twin_check_node(_metadata, e, "t/s", CALLER, CALLER, S_IFREG | 0755);
}

/* ---- 6. POSIX ACLs of the backing ---- */

static void open_ops(const char *dir, struct outcome *o, void *arg)
{
	long fd;

	fd = REC_FD(o, open(at(dir, (const char *)arg), O_RDONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	fd = REC_FD(o, open(at(dir, (const char *)arg), O_RDWR | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
}

static const gid_t other_groups[] = { OTHER_USER };

TEST_F(caller, acl_denies)
{
	static const struct acl_ent deny[] = {
		{ ACL_USER_OBJ, 6, ACL_NO_ID },
		{ ACL_USER, 0, CALLER },
		{ ACL_GROUP_OBJ, 4, ACL_NO_ID },
		{ ACL_MASK, 4, ACL_NO_ID },
		{ ACL_OTHER, 4, ACL_NO_ID },
	};
	struct twin *tw = self->tw;
	char acl[64];
	size_t len = acl_xattr(acl, deny, ARRAY_SIZE(deny));

	twin_dir(_metadata, &self->e, "t", 0755, 0, 0);
	twin_file(_metadata, &self->e, "t/a", 0644, 0, 0, CONTENT, strlen(CONTENT));
	twin_xattr(_metadata, &self->e, "t/a", "system.posix_acl_access", acl, len);

	TWIN_CALLER(tw, open_ops, "t/a");
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, -1, EACCES);
	expect_bare(_metadata, tw, 1, -1, EACCES);

	twin_run_as(_metadata, &self->e, OTHER_USER, OTHER_USER, 1, other_groups,
		    tw, open_ops, "t/a");
	twin_compare(_metadata, tw, "uid 1001");
	expect_bare(_metadata, tw, 0, 0, 0);
	expect_bare(_metadata, tw, 1, -1, EACCES);
}

TEST_F(caller, acl_through_mount)
{
	static const struct acl_ent grant[] = {
		{ ACL_USER_OBJ, 6, ACL_NO_ID },
		{ ACL_USER, 6, CALLER },
		{ ACL_GROUP_OBJ, 0, ACL_NO_ID },
		{ ACL_MASK, 6, ACL_NO_ID },
		{ ACL_OTHER, 0, ACL_NO_ID },
	};
	struct twin *tw = self->tw;
	char acl[64], m[128], b[128];
	size_t len = acl_xattr(acl, grant, ARRAY_SIZE(grant));
	ssize_t nm, nb;
	int rm, rb, em = 0, eb = 0;

	twin_dir(_metadata, &self->e, "t", 0755, 0, 0);
	twin_file(_metadata, &self->e, "t/r", 0600, 0, 0, CONTENT, strlen(CONTENT));

	/* root sets it through the mount, and bare */
	rm = setxattr(MNT("m/t/r"), "system.posix_acl_access", acl, len, 0);
	if (rm)
		em = errno;
	rb = setxattr(BACK("b/t/r"), "system.posix_acl_access", acl, len, 0);
	if (rb)
		eb = errno;
	ASSERT_EQ(0, rb) TH_LOG("bare setxattr: %s", strerror(eb));
	ASSERT_EQ(rb, rm) TH_LOG("setxattr of an ACL through the mount: %s",
				 strerror(em));

	nb = getxattr(BACK("b/t/r"), "system.posix_acl_access", b, sizeof(b));
	nm = getxattr(BACK("m/t/r"), "system.posix_acl_access", m, sizeof(m));
	ASSERT_EQ(len, nb);
	ASSERT_EQ(nb, nm) TH_LOG("the mount's backing has an ACL of %zd bytes: %s",
				 nm, nm < 0 ? strerror(errno) : "");
	EXPECT_EQ(0, memcmp(m, b, nb));
	/* the mask became the group bits */
	twin_check_node(_metadata, &self->e, "t/r", 0, 0, S_IFREG | 0660);

	TWIN_CALLER(tw, open_ops, "t/r");
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, 0, 0);
	expect_bare(_metadata, tw, 1, 0, 0);
}

struct acl_arg {
	char buf[64];
	size_t len;
};

static void set_acl_ops(const char *dir, struct outcome *o, void *arg)
{
	struct acl_arg *a = arg;

	/* root's file: only its owner may set an ACL */
	REC(o, setxattr(at(dir, "t/root"), "system.posix_acl_access", a->buf,
			a->len, 0));
	REC(o, removexattr(at(dir, "t/root"), "system.posix_acl_access"));
	/* its own file, in a group it is not in: S_ISGID goes */
	REC(o, setxattr(at(dir, "t/mine"), "system.posix_acl_access", a->buf,
			a->len, 0));
}

TEST_F(caller, acl_set_by_caller)
{
	static const struct acl_ent grant[] = {
		{ ACL_USER_OBJ, 7, ACL_NO_ID },
		{ ACL_USER, 6, OTHER_USER },
		{ ACL_GROUP_OBJ, 5, ACL_NO_ID },
		{ ACL_MASK, 7, ACL_NO_ID },
		{ ACL_OTHER, 0, ACL_NO_ID },
	};
	struct twin *tw = self->tw;
	struct env *e = &self->e;
	struct acl_arg a;

	a.len = acl_xattr(a.buf, grant, ARRAY_SIZE(grant));
	twin_dir(_metadata, e, "t", 0777, 0, 0);
	twin_file(_metadata, e, "t/root", 0644, 0, 0, CONTENT, strlen(CONTENT));
	twin_file(_metadata, e, "t/mine", 02750, CALLER, GRP_NOT_MINE, "", 0);

	TWIN_CALLER(tw, set_acl_ops, &a);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, -1, EPERM);
	expect_bare(_metadata, tw, 1, -1, EPERM);
	expect_bare(_metadata, tw, 2, 0, 0);
	twin_check_node(_metadata, e, "t/root", 0, 0, S_IFREG | 0644);
	twin_check_node(_metadata, e, "t/mine", CALLER, GRP_NOT_MINE,
			S_IFREG | 0770);
}

static void default_acl_ops(const char *dir, struct outcome *o, void *arg)
{
	long fd;

	umask(022);
	fd = REC_FD(o, open(at(dir, "t/dd/f"), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
			    0666));
	if (fd >= 0)
		close(fd);
	REC(o, mkdir(at(dir, "t/dd/sub"), 0777));
}

TEST_F(caller, acl_default)
{
	static const struct acl_ent def[] = {
		{ ACL_USER_OBJ, 7, ACL_NO_ID },
		{ ACL_GROUP_OBJ, 7, ACL_NO_ID },
		{ ACL_OTHER, 7, ACL_NO_ID },
	};
	struct twin *tw = self->tw;
	char acl[64];
	size_t len = acl_xattr(acl, def, ARRAY_SIZE(def));

	twin_dir(_metadata, &self->e, "t", 0755, 0, 0);
	twin_dir(_metadata, &self->e, "t/dd", 0777, 0, 0);
	twin_xattr(_metadata, &self->e, "t/dd", "system.posix_acl_default", acl, len);

	TWIN_CALLER(tw, default_acl_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, 0, 0);
	expect_bare(_metadata, tw, 1, 0, 0);
	/* a default ACL replaces the umask */
	twin_check_node(_metadata, &self->e, "t/dd/f", CALLER, CALLER, S_IFREG | 0666);
	twin_check_node(_metadata, &self->e, "t/dd/sub", CALLER, CALLER,
			S_IFDIR | 0777);
}

/* ---- 7. writes by the unprivileged owner kill S_ISUID and S_ISGID ---- */

enum { KILL_WRITE, KILL_FALLOCATE, KILL_COPY };

static void kill_ops(const char *dir, struct outcome *o, void *arg)
{
	long how = (long)arg;
	loff_t in_off = 0, out_off = 0;
	long fd, src;

	fd = REC_FD(o, open(at(dir, "t/s"), O_RDWR | O_CLOEXEC));
	if (fd < 0)
		return;
	switch (how) {
	case KILL_WRITE:
		REC(o, pwrite(fd, "x", 1, 0));
		break;
	case KILL_FALLOCATE:
		REC(o, fallocate(fd, 0, 0, 8192));
		break;
	case KILL_COPY:
		src = REC_FD(o, open(at(dir, "t/src"), O_RDONLY | O_CLOEXEC));
		if (src >= 0) {
			REC(o, copy_file_range(src, &in_off, fd, &out_off, 4096, 0));
			close(src);
		}
		break;
	}
	REC(o, fstat(fd, &o->st));
	close(fd);
}

static void kill_privs(struct __test_metadata *_metadata, struct env *e,
		       struct twin *tw, long how)
{
	char data[4096];

	fill_pattern(data, sizeof(data), 3);
	twin_dir(_metadata, e, "t", 0755, 0, 0);
	twin_file(_metadata, e, "t/s", 06755, CALLER, CALLER, data, sizeof(data));
	twin_file(_metadata, e, "t/src", 0644, 0, 0, data, sizeof(data));

	twin_run_as(_metadata, e, CALLER, CALLER, 1, caller_groups, tw, kill_ops,
		    (void *)how);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, 0, 0);
	twin_check_node(_metadata, e, "t/s", CALLER, CALLER, S_IFREG | 0755);
	/* and the open file saw it */
	EXPECT_EQ(tw->o[1].st.st_mode, tw->o[0].st.st_mode)
		TH_LOG("fstat after the write: mode %o through the mount, %o bare",
		       tw->o[0].st.st_mode, tw->o[1].st.st_mode);
}

TEST_F(caller, write_kills_suid)
{
	kill_privs(_metadata, &self->e, self->tw, KILL_WRITE);
	expect_bare(_metadata, self->tw, 1, 1, 0);
}

TEST_F(caller, fallocate_kills_suid)
{
	kill_privs(_metadata, &self->e, self->tw, KILL_FALLOCATE);
	expect_bare(_metadata, self->tw, 1, 0, 0);
}

TEST_F(caller, copy_range_kills_suid)
{
	kill_privs(_metadata, &self->e, self->tw, KILL_COPY);
	expect_bare(_metadata, self->tw, 2, 4096, 0);
}

/* ---- 8. trusted.* xattrs stay hidden ---- */

static void xattr_ops(const char *dir, struct outcome *o, void *arg)
{
	char buf[64];

	o->len = REC(o, listxattr(at(dir, "t/x"), o->buf, sizeof(o->buf)));
	REC(o, getxattr(at(dir, "t/x"), "trusted.secret", buf, sizeof(buf)));
	REC(o, getxattr(at(dir, "t/x"), "user.x", buf, sizeof(buf)));
	REC(o, setxattr(at(dir, "t/x"), "trusted.other", "1", 1, 0));
	REC(o, removexattr(at(dir, "t/x"), "trusted.secret"));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of a listxattr() result, sorted and joined with ' '. */
static void xattr_names(const char *buf, ssize_t len, char *out, size_t size)
{
	const char *names[32];
	ssize_t off;
	int n = 0, i;

	out[0] = '\0';
	for (off = 0; off < len && n < 32; off += strlen(buf + off) + 1)
		names[n++] = buf + off;
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		strncat(out, names[i], size - strlen(out) - 2);
		strcat(out, " ");
	}
}

TEST_F(caller, listxattr_trusted)
{
	struct twin *tw = self->tw;
	char m[OUT_BUF + 32], b[OUT_BUF + 32];

	twin_dir(_metadata, &self->e, "t", 0755, 0, 0);
	twin_file(_metadata, &self->e, "t/x", 0666, 0, 0, "", 0);
	twin_xattr(_metadata, &self->e, "t/x", "trusted.secret", "s3cr3t", 6);
	twin_xattr(_metadata, &self->e, "t/x", "user.x", "u", 1);

	TWIN_CALLER(tw, xattr_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 1, -1, ENODATA);
	expect_bare(_metadata, tw, 2, 1, 0);
	expect_bare(_metadata, tw, 3, -1, EPERM);
	expect_bare(_metadata, tw, 4, -1, EPERM);
	xattr_names(tw->o[0].buf, tw->o[0].len, m, sizeof(m));
	xattr_names(tw->o[1].buf, tw->o[1].len, b, sizeof(b));
	EXPECT_STREQ(b, m) TH_LOG("listxattr: \"%s\" through the mount, \"%s\" bare",
				  m, b);
	EXPECT_STREQ("user.x ", b);
	/* the backing keeps its xattr */
	EXPECT_EQ(6, getxattr(BACK("m/t/x"), "trusted.secret", m, sizeof(m)));
}

/*
 * ---- 10. S_ISUID and S_ISGID set in the backing behind an open file ----
 *
 * The caller opens its own 0755 files for writing, on both trees; root
 * then sets S_ISUID and S_ISGID on both backing files, directly. A write,
 * a truncate and a chown through the already open files must kill them
 * as on the bare backing: the fuse inode's mode, which no lookup
 * refreshed, is stale.
 */
enum { STALE_WRITE, STALE_TRUNCATE, STALE_CHOWN, STALE_OPS };
static const char *const stale_file[STALE_OPS] = { "t/w", "t/tr", "t/ch" };

struct stale_job {
	struct twin *tw;
	char dirs[2][PATH_MAX];
	int ready;	/* the child writes a byte once its files are open */
	int go;		/* and waits for one before using them */
};

static int stale_child(struct stale_job *j)
{
	int fd[2][STALE_OPS], i, k;
	char c = 0;

	for (i = 0; i < 2; i++)
		for (k = 0; k < STALE_OPS; k++)
			fd[i][k] = REC_FD(&j->tw->o[i],
					  open(at(j->dirs[i], stale_file[k]),
					       O_WRONLY | O_CLOEXEC));
	if (write(j->ready, &c, 1) != 1 || read(j->go, &c, 1) != 1)
		return 1;
	for (i = 0; i < 2; i++) {
		struct outcome *o = &j->tw->o[i];

		if (fd[i][STALE_WRITE] >= 0)
			REC(o, write(fd[i][STALE_WRITE], "x", 1));
		if (fd[i][STALE_TRUNCATE] >= 0)
			REC(o, ftruncate(fd[i][STALE_TRUNCATE], 0));
		if (fd[i][STALE_CHOWN] >= 0)
			REC(o, fchown(fd[i][STALE_CHOWN], -1, CALLER));
		for (k = 0; k < STALE_OPS; k++)
			if (fd[i][k] >= 0)
				close(fd[i][k]);
	}
	return 0;
}

TEST_F(caller, write_after_backing_chmod)
{
	struct stale_job j = { .tw = self->tw };
	struct env *e = &self->e;
	int ready[2], go[2], status, i, k;
	char c = 0;
	pid_t pid;

	twin_dir(_metadata, e, "t", 0755, 0, 0);
	for (k = 0; k < STALE_OPS; k++)
		twin_file(_metadata, e, stale_file[k], 0755, CALLER, CALLER,
			  CONTENT, strlen(CONTENT));
	memset(j.tw, 0, sizeof(*j.tw));
	snprintf(j.dirs[0], PATH_MAX, "%s/m", e->mnt);
	snprintf(j.dirs[1], PATH_MAX, "%s/b", e->back);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ready[0]);
		close(go[1]);
		j.ready = ready[1];
		j.go = go[0];
		if (setgroups(1, caller_groups) ||
		    setresgid(CALLER, CALLER, CALLER) ||
		    setresuid(CALLER, CALLER, CALLER))
			_exit(100);
		_exit(stale_child(&j));
	}
	close(ready[1]);
	close(go[0]);
	EXPECT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the caller did not get ready");
	/* behind the mount's back, on both trees */
	for (k = 0; k < STALE_OPS; k++)
		for (i = 0; i < 2; i++)
			EXPECT_EQ(0, chmod(twin_path(e, i, stale_file[k]), 06755));
	EXPECT_EQ(1, write(go[1], &c, 1));
	close(ready[0]);
	close(go[1]);
	status = wait_child(pid, 60000);
	ASSERT_NE(-1, status) TH_LOG("the caller hung");
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	twin_compare(_metadata, self->tw, "uid 1000");
	for (k = 0; k < STALE_OPS; k++)
		expect_bare(_metadata, self->tw, k, 0, 0);
	expect_bare(_metadata, self->tw, STALE_OPS + STALE_WRITE, 1, 0);
	expect_bare(_metadata, self->tw, STALE_OPS + STALE_TRUNCATE, 0, 0);
	expect_bare(_metadata, self->tw, STALE_OPS + STALE_CHOWN, 0, 0);
	/* the caller has no CAP_FSETID: both bits go, each time */
	for (k = 0; k < STALE_OPS; k++)
		twin_check_node(_metadata, e, stale_file[k], CALLER, CALLER,
				S_IFREG | 0755);
}

/*
 * ---- 11. a RENAME_WHITEOUT whiteout belongs to the caller ----
 *
 * Since Linux 5.8 a whiteout needs no CAP_MKNOD (vfs_mknod() makes an
 * exception of WHITEOUT_DEV), so an unprivileged caller may rename with
 * RENAME_WHITEOUT on bare tmpfs: the whiteout left in place of the
 * source is the caller's, as any new object.
 */
static void whiteout_ops(const char *dir, struct outcome *o, void *arg)
{
	REC(o, renameat2(AT_FDCWD, at(dir, "t/src"), AT_FDCWD,
			 at(dir, "t/dst"), RENAME_WHITEOUT));
}

TEST_F(caller, rename_whiteout_owner)
{
	struct twin *tw = self->tw;
	struct stat st;

	twin_dir(_metadata, &self->e, "t", 01777, 0, 0);
	/* given to the caller by root: this test is about the whiteout */
	twin_file(_metadata, &self->e, "t/src", 0644, CALLER, CALLER,
		  CONTENT, strlen(CONTENT));
	TWIN_CALLER(tw, whiteout_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, 0, 0);
	twin_check_content(_metadata, &self->e, "t/dst", CONTENT);
	twin_check_node(_metadata, &self->e, "t/dst", CALLER, CALLER,
			S_IFREG | 0644);
	/* a whiteout: a character device 0:0, mode 0 */
	twin_check_node(_metadata, &self->e, "t/src", CALLER, CALLER, S_IFCHR);
	ASSERT_EQ(0, lstat(twin_path(&self->e, 0, "t/src"), &st));
	EXPECT_EQ(0, st.st_rdev);
}

/*
 * ---- 12. listxattr into a buffer just big enough for what the caller sees ----
 *
 * The backing lists trusted.* names too (to the registered credentials);
 * the caller, who may not see them, gets "user.x" only: a buffer of its
 * size is enough.
 */
#define SMALL_LIST	"user.x"

static void small_list_ops(const char *dir, struct outcome *o, void *arg)
{
	o->len = REC(o, listxattr(at(dir, "t/x"), o->buf, sizeof(SMALL_LIST)));
}

TEST_F(caller, listxattr_small_buffer)
{
	static const char trusted[] =
		"trusted.a_name_much_longer_than_the_one_the_caller_may_see";
	struct twin *tw = self->tw;

	twin_dir(_metadata, &self->e, "t", 0755, 0, 0);
	twin_file(_metadata, &self->e, "t/x", 0666, 0, 0, "", 0);
	twin_xattr(_metadata, &self->e, "t/x", "user.x", "u", 1);
	twin_xattr(_metadata, &self->e, "t/x", trusted, "t", 1);

	TWIN_CALLER(tw, small_list_ops, NULL);
	twin_compare(_metadata, tw, "uid 1000");
	expect_bare(_metadata, tw, 0, sizeof(SMALL_LIST), 0);
	ASSERT_EQ(sizeof(SMALL_LIST), tw->o[0].len);
	EXPECT_EQ(0, memcmp(tw->o[0].buf, SMALL_LIST, sizeof(SMALL_LIST)));
	EXPECT_EQ(0, memcmp(tw->o[1].buf, SMALL_LIST, sizeof(SMALL_LIST)));
}

/* ---- 9. path walk against a directory coming and going ---- */

#define RACE_OPS	2000
#define RACE_SECONDS	15

struct race {
	int ok, enoent, other, first_err;
	int iterations;
};

struct race_arg {
	struct race *r;
	char d[PATH_MAX], x[PATH_MAX];
};

static int race_stat(void *p)
{
	struct race_arg *a = p;
	time_t end = time(NULL) + RACE_SECONDS;
	struct stat st;
	int i, j;

	for (i = 0; i < RACE_OPS && time(NULL) < end; i++) {
		for (j = 0; j < 2; j++) {
			if (!stat(j ? a->x : a->d, &st)) {
				a->r->ok++;
			} else if (errno == ENOENT) {
				a->r->enoent++;
			} else {
				if (!a->r->other++)
					a->r->first_err = errno;
			}
		}
		a->r->iterations++;
	}
	return 0;
}

TEST_F_TIMEOUT(caller, rcu_walk_race, 90)
{
	struct race_arg a;
	time_t end = time(NULL) + RACE_SECONDS;
	int i, status, fd, churn = 0;
	pid_t pid;

	a.r = mmap(NULL, sizeof(*a.r), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.r);
	memset(a.r, 0, sizeof(*a.r));
	snprintf(a.d, sizeof(a.d), "%s", MNT("m/d"));
	snprintf(a.x, sizeof(a.x), "%s", MNT("m/d/x"));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setgroups(1, caller_groups) || setresgid(CALLER, CALLER, CALLER) ||
		    setresuid(CALLER, CALLER, CALLER))
			_exit(100);
		_exit(race_stat(&a));
	}
	/* the backing changes behind the mount's back */
	for (i = 0; i < RACE_OPS && time(NULL) < end; i++) {
		if (mkdir(BACK("m/d"), 0755))
			continue;
		fd = open(BACK("m/d/x"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		unlink(BACK("m/d/x"));
		rmdir(BACK("m/d"));
		churn++;
	}
	status = wait_child(pid, 60000);
	ASSERT_NE(-1, status) TH_LOG("the stat loop hung");
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	TH_LOG("%d mkdir/rmdir rounds, %d stat rounds: %d found, %d ENOENT", churn,
	       a.r->iterations, a.r->ok, a.r->enoent);
	EXPECT_EQ(0, a.r->other) TH_LOG("%d stats failed otherwise, the first with %s",
					a.r->other, strerror(a.r->first_err));
	EXPECT_LT(0, a.r->iterations);
	munmap(a.r, sizeof(*a.r));
}

/*
 * rename must replace the target the VFS checked for the caller. In a
 * sticky directory the caller may replace its own file, never another
 * user's; the backing swaps the two under the name "target" all the time
 * (RENAME_EXCHANGE directly in the backing), so the name can change
 * between the VFS's check and the backing rename. The other user's file
 * must survive every rename the caller makes. A race: the window is
 * narrow, and a run may not hit it (the ESTALE count says whether it did);
 * filter_test's rename_stale_target hits it every time.
 */
#define SWAP_SECONDS	10

TEST_F_TIMEOUT(caller, rename_checked_target, 60)
{
	time_t end = time(NULL) + SWAP_SECONDS;
	struct stat st;
	int status, swaps = 0, fd;
	int *counts;	/* renames: done, EPERM, ESTALE */
	pid_t pid;

	counts = mmap(NULL, 3 * sizeof(int), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, counts);
	memset(counts, 0, 3 * sizeof(int));

	ASSERT_EQ(0, mkdir(BACK("m/t"), 01777));
	ASSERT_EQ(0, chmod(BACK("m/t"), 01777));
	fd = open(BACK("m/t/target"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchown(fd, CALLER, CALLER));
	close(fd);
	fd = open(BACK("m/t/other"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchown(fd, OTHER_USER, OTHER_USER));
	close(fd);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int bad = 0, n;

		if (setgroups(1, caller_groups) || setresgid(CALLER, CALLER, CALLER) ||
		    setresuid(CALLER, CALLER, CALLER))
			_exit(100);
		for (n = 0; time(NULL) < end; n++) {
			fd = open(MNT("m/t/src"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
			if (fd < 0)
				_exit(101);
			close(fd);
			if (!rename(MNT("m/t/src"), MNT("m/t/target")))
				counts[0]++;
			else if (errno == EPERM)
				counts[1]++;
			else if (errno == ESTALE)
				counts[2]++;
			else if (errno != ENOENT)
				bad++;
			unlink(MNT("m/t/src"));
		}
		_exit(bad ? 102 : 0);
	}
	/* the backing swaps the caller's and the other user's file */
	while (time(NULL) < end) {
		if (!syscall(SYS_renameat2, AT_FDCWD, BACK("m/t/target"), AT_FDCWD,
			     BACK("m/t/other"), RENAME_EXCHANGE))
			swaps++;
	}
	status = wait_child(pid, 30000);
	ASSERT_NE(-1, status) TH_LOG("the rename loop hung");
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("renames failed unexpectedly");
	TH_LOG("%d swaps in the backing; renames: %d done, %d EPERM, %d ESTALE",
	       swaps, counts[0], counts[1], counts[2]);
	munmap(counts, 3 * sizeof(int));
	EXPECT_LT(0, swaps);
	/* the other user's file is still there, under one of the names */
	if (!stat(BACK("m/t/target"), &st) && st.st_uid == OTHER_USER)
		return;
	ASSERT_EQ(0, stat(BACK("m/t/other"), &st))
		TH_LOG("uid %d's file is gone: the caller replaced it", OTHER_USER);
	EXPECT_EQ(OTHER_USER, st.st_uid)
		TH_LOG("uid %d's file is gone: the caller replaced it", OTHER_USER);
}

/* ---- idmapped mounts ---- */

static int write_map(pid_t pid, const char *map)
{
	char path[64];
	int fd, ok;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, map);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, "0 100000 1000", 13) == 13;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * A user namespace mapping ids 0-999 to 100000-100999, as an fd; -1 when
 * it cannot be made.
 */
static int userns_fd(void)
{
	int up[2], down[2], fd = -1, status;
	char path[64], c;
	pid_t pid;

	if (pipe(up))
		return -1;
	if (pipe(down)) {
		close(up[0]);
		close(up[1]);
		return -1;
	}
	pid = fork();
	if (!pid) {
		close(up[0]);
		close(down[1]);
		if (unshare(CLONE_NEWUSER) || write(up[1], "u", 1) != 1)
			_exit(1);
		/* until the parent is done with the namespace */
		_exit(read(down[0], &c, 1) < 0);
	}
	close(up[1]);
	close(down[0]);
	if (pid > 0 && read(up[0], &c, 1) == 1 && !write_map(pid, "uid_map") &&
	    !write_map(pid, "gid_map")) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	close(down[1]);
	close(up[0]);
	if (pid > 0 && (waitpid(pid, &status, 0) != pid || status) && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Try to make an idmapped mount of @mnt with the user namespace @ns: 0 or
 * the errno of open_tree() or mount_setattr().
 */
static int try_idmap(const char *mnt, int ns)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_IDMAP,
		.userns_fd = ns,
	};
	int tree, err = 0;

	tree = syscall(__NR_open_tree, AT_FDCWD, mnt,
		       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return errno;
	if (syscall(__NR_mount_setattr, tree, "", AT_EMPTY_PATH, &attr,
		    sizeof(attr)))
		err = errno;
	close(tree);
	return err;
}

static const struct ftd_entry idmap_tree[] = {
	{ "file", S_IFREG | 0644, "idmap" },
	{ NULL }
};

/*
 * fuse-bpf decides for the caller on ids without an idmap, so a fuse-bpf
 * mount must refuse to be idmapped where a classic mount of the same
 * daemon (FUSE_ALLOW_IDMAP and default_permissions) accepts it.
 */
TEST(fuse_bpf_mount_not_idmapped)
{
	struct ftd_config cfg = {
		.entries = idmap_tree,
		.init_flags = FUSE_ALLOW_IDMAP,
		.mount_opts = "default_permissions",
	};
	struct ftd *d;
	int ns;

	ns = userns_fd();
	ASSERT_LE(0, ns) TH_LOG("no user namespace to idmap with");
	/* The daemon's own mount can be idmapped: the test can tell. */
	d = ftd_start(&cfg);
	ASSERT_NE(NULL, d) TH_LOG("classic mount: %s", strerror(errno));
	EXPECT_EQ(0, try_idmap(d->mnt, ns));
	ftd_stop(d);

	cfg.mount_opts = "fuse_bpf,default_permissions";
	d = ftd_start(&cfg);
	ASSERT_NE(NULL, d) TH_LOG("fuse_bpf mount: %s", strerror(errno));
	/* mount_setattr() refuses a superblock with SB_I_NOIDMAP so */
	EXPECT_EQ(EINVAL, try_idmap(d->mnt, ns));
	ftd_stop(d);
	close(ns);
}

TEST_HARNESS_MAIN
