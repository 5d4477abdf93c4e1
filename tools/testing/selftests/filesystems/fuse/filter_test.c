// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf filters: BPF struct_ops programs (progs/filters.bpf.c) and the
 * server's userspace filters deciding what operations on backed nodes do.
 *
 * filter.*	filters attached at mount, on a no_daemon mount and on a
 *		daemon mount; every test checks what a user of the mount
 *		sees and what the backing tree holds afterwards.
 * filter_ops.*	filters set, removed and inherited by LOOKUP replies.
 * The plain tests check mount options and programs the verifier refuses.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/param.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <bpf/libbpf.h>

#include "backing_env.h"
#include "progs/filters.h"
#include "conn_fd.h"
#include "filters.skel.h"
#include "bad_rdonly.skel.h"
#include "bad_oob.skel.h"
#include "bad_write_in.skel.h"
#include "bad_field.skel.h"
#include "bad_readdir_size.skel.h"
#include "bad_kfunc.skel.h"
#include "verifier_log.h"
#include "request.skel.h"

#define VISIBLE_DATA	"visible data\n"
#define TARGET_DATA	"target data\n"

/* Bind @map (before load) to the connection at CONN_FD, ops id @id. */
static void bind_map(struct bpf_map *map, __u32 id)
{
	/* Both filter types lay out these members after 33 callbacks. */
	struct filters__hide__fuse_bpf_prefilters *v;

	v = bpf_map__initial_value(map, NULL);
	v->fuse_fd = CONN_FD;
	v->ops_id = id;
}

/* Bind every filter map of @skel (opened, not loaded) to ops id @id. */
static void bind_maps(struct filters *skel, __u32 id)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, skel->obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			bind_map(map, id);
}

/* The filters, every map bound to ops id @id, loaded; NULL if not. */
static struct filters *filters_load_id(__u32 id)
{
	struct filters *skel = filters__open();

	if (!skel)
		return NULL;
	bind_maps(skel, id);
	if (filters__load(skel)) {
		filters__destroy(skel);
		return NULL;
	}
	return skel;
}

static struct filters *filters_load(void)
{
	return filters_load_id(1);
}

/* Attach @map to the connection of @e; NULL and errno on failure. */
static struct bpf_link *attach(struct env *e, struct bpf_map *map)
{
	return e->d ? conn_attach(e->d->fd, map) : conn_attach_mnt(e->mnt, map);
}

/* Move @link to @map (bound as the old one is): 0, or -errno and errno. */
static int update(struct env *e, struct bpf_link *link, struct bpf_map *map)
{
	int fd, ret, err;

	if (e->d)
		return conn_update(e->d->fd, link, map);
	fd = open(e->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = conn_update(fd, link, map);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

FIXTURE(filter) {
	struct env e;
	struct filters *skel;
	struct bpf_link *pre;
	struct bpf_link *post;
};

FIXTURE_VARIANT(filter) {
	bool daemon;
};

FIXTURE_VARIANT_ADD(filter, no_daemon) {
	.daemon = false,
};

FIXTURE_VARIANT_ADD(filter, daemon) {
	.daemon = true,
};

FIXTURE_SETUP(filter)
{
	int err = 0;

	umask(022);
	if (env_backing(&self->e))
		err = errno;
	ASSERT_EQ(0, err) TH_LOG("backing tmpfs: %s", strerror(err));
	put_str(_metadata, BACK("visible"), VISIBLE_DATA);
	put_str(_metadata, BACK("secret1"), "hidden\n");
	put_str(_metadata, BACK("target"), TARGET_DATA);
	ASSERT_EQ(0, mkdir(BACK("d"), 0755));
	self->skel = filters_load();
	ASSERT_NE(NULL, self->skel) TH_LOG("cannot load progs/filters.bpf.o");
}

FIXTURE_TEARDOWN(filter)
{
	if (_metadata->exit_code == KSFT_PASS && self->e.mnt[0] &&
	    is_mounted(self->e.mnt))
		env_check_shutdown(_metadata, &self->e);
	env_cleanup(&self->e);
	bpf_link__destroy(self->pre);
	bpf_link__destroy(self->post);
	filters__destroy(self->skel);
}

/*
 * Mount with @pre and @post (either may be NULL) as the root's filters,
 * ops id 1: the root refuses every operation until they are attached,
 * right after the mount. Logs why not.
 */
static int filter_mount(struct __test_metadata *_metadata,
			FIXTURE_DATA(filter) *self, bool daemon,
			struct bpf_map *pre, struct bpf_map *post,
			struct ftd_config *cfg)
{
	struct stat st;

	/* The root's filters are ops id 1: the maps bound in setup. */
	if (pre || post) {
		strcat(self->e.extra, ",ops=1");
		self->e.ops_pending = true;
	}
	if (cfg)
		self->e.cfg = *cfg;
	if (env_mount(&self->e, daemon)) {
		TH_LOG("mount with filters: %s", strerror(errno));
		return -1;
	}
	if (pre) {
		self->pre = attach(&self->e, pre);
		if (!self->pre) {
			TH_LOG("attach prefilters: %s", strerror(errno));
			return -1;
		}
	}
	if (post) {
		self->post = attach(&self->e, post);
		if (!self->post) {
			TH_LOG("attach postfilters: %s", strerror(errno));
			return -1;
		}
	}
	if (stat(self->e.mnt, &st))
		return -1;
	self->e.dev = st.st_dev;
	return 0;
}

#define FILTER_MOUNT(pre, post, cfg)					\
	ASSERT_EQ(0, filter_mount(_metadata, self, variant->daemon, pre,	\
				  post, cfg))

/*
 * The listing of @back without the names starting with "secret" must be
 * the listing of @mnt: same names, inode numbers and types.
 */
static void check_listing_without_secrets(struct __test_metadata *_metadata,
					  const char *mnt, const char *back)
{
	static struct dent m[MAX_DENTS * 4], b[MAX_DENTS * 4];
	int nm, nb, i, j = 0;

	nm = list_dir(mnt, m, ARRAY_SIZE(m));
	ASSERT_LE(0, nm) TH_LOG("listing %s: %s", mnt, strerror(errno));
	nb = list_dir(back, b, ARRAY_SIZE(b));
	ASSERT_LE(0, nb) TH_LOG("listing %s: %s", back, strerror(errno));
	for (i = 0; i < nb; i++) {
		if (!strncmp(b[i].name, "secret", 6))
			continue;
		ASSERT_LT(j, nm) TH_LOG("%s missing in %s", b[i].name, mnt);
		ASSERT_STREQ(b[i].name, m[j].name);
		ASSERT_EQ(b[i].ino, m[j].ino) TH_LOG("%s: d_ino", b[i].name);
		ASSERT_EQ(b[i].type, m[j].type) TH_LOG("%s: d_type", b[i].name);
		j++;
	}
	ASSERT_EQ(j, nm) TH_LOG("%s lists more than its backing", mnt);
}

TEST_F(filter, hide)
{
	struct stat st;

	FILTER_MOUNT(self->skel->maps.hide, self->skel->maps.hide_post, NULL);
	ASSERT_FAILS(ENOENT, stat(MNT("secret1"), &st));
	ASSERT_FAILS(ENOENT, open(MNT("secret1"), O_RDONLY));
	ASSERT_FAILS(ENOENT, open(MNT("secret2"), O_CREAT | O_WRONLY, 0644));
	CHECK_FILE(MNT("visible"), VISIBLE_DATA);
	ASSERT_LT(0, self->skel->bss->lookup_calls);
	/* a listing does not show them either */
	ASSERT_TRUE(dir_has(MNT(""), "visible"));
	ASSERT_FALSE(dir_has(MNT(""), "secret1"));
	check_listing_without_secrets(_metadata, self->e.mnt, self->e.back);
	ASSERT_LE(1, self->skel->bss->readdir_removed);
	/* the backing is untouched */
	CHECK_FILE(BACK("secret1"), "hidden\n");
	ASSERT_FAILS(ENOENT, stat(BACK("secret2"), &st));
}

/*
 * A directory larger than what one backing read gives a postfilter, with
 * reads in which every entry is hidden: the listing goes on past them.
 */
TEST_F(filter, hide_readdir_large)
{
	char name[32];
	int i, fd;

	ASSERT_EQ(0, mkdir(BACK("big"), 0755));
	for (i = 0; i < 3 * MAX_DENTS; i++) {
		snprintf(name, sizeof(name), "big/%s%04d",
			 i % 50 == 49 ? "shown" : "secret", i);
		fd = open(BACK(name), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		close(fd);
	}
	FILTER_MOUNT(self->skel->maps.hide, self->skel->maps.hide_post, NULL);
	check_listing_without_secrets(_metadata, MNT("big"), BACK("big"));
	/* at least once each: a re-read may see some twice */
	ASSERT_LE(3 * MAX_DENTS - 3 * MAX_DENTS / 50,
		  self->skel->bss->readdir_removed);
	ASSERT_TRUE(dir_has(MNT("big"), "shown0049"));
	ASSERT_FALSE(dir_has(MNT("big"), "secret0000"));
}

/* Postfilters rewriting a link target, an xattr value and an xattr list. */
TEST_F(filter, rewrite_output)
{
	const char *value = FILTERS_XATTR_VALUE;
	char buf[256], back[256], want[256];
	ssize_t n, i, len;

	ASSERT_EQ(0, symlink("visible", BACK("link")));
	ASSERT_EQ(0, setxattr(BACK("visible"), "user.x", "original", 8, 0));
	ASSERT_EQ(0, setxattr(BACK("visible"), "user.hidden", "h", 1, 0));
	ASSERT_EQ(0, setxattr(BACK("visible"), "user.y", "y", 1, 0));
	FILTER_MOUNT(self->skel->maps.rewrite_pre,
		     self->skel->maps.rewrite_post, NULL);

	/* readlink and path resolution see the rewritten target */
	n = readlink(MNT("link"), buf, sizeof(buf));
	ASSERT_EQ(6, n);
	ASSERT_EQ(0, memcmp(buf, "target", 6));
	CHECK_FILE(MNT("link"), TARGET_DATA);

	/* getxattr: the value, its size, and ERANGE for a short buffer */
	ASSERT_EQ(strlen(value), getxattr(MNT("visible"), "user.x", NULL, 0));
	n = getxattr(MNT("visible"), "user.x", buf, sizeof(buf));
	ASSERT_EQ(strlen(value), n);
	ASSERT_EQ(0, memcmp(buf, value, n));
	ASSERT_FAILS(ERANGE, getxattr(MNT("visible"), "user.x", buf, 10));
	ASSERT_EQ(1, getxattr(MNT("visible"), "user.y", buf, sizeof(buf)));
	ASSERT_FAILS(ENODATA, getxattr(MNT("visible"), "user.none", buf,
				       sizeof(buf)));

	/*
	 * listxattr: the backing's list, in its order, without user.hidden;
	 * the size says so too
	 */
	n = listxattr(BACK("visible"), back, sizeof(back));
	ASSERT_LT(0, n);
	for (i = 0, len = 0; i < n; i += strlen(back + i) + 1) {
		if (strcmp(back + i, "user.hidden")) {
			memcpy(want + len, back + i, strlen(back + i) + 1);
			len += strlen(back + i) + 1;
		}
	}
	ASSERT_EQ(14, len);
	ASSERT_EQ(len, listxattr(MNT("visible"), NULL, 0));
	n = listxattr(MNT("visible"), buf, sizeof(buf));
	ASSERT_EQ(len, n);
	ASSERT_EQ(0, memcmp(buf, want, len));

	/* the backing is what it was */
	n = readlink(BACK("link"), buf, sizeof(buf));
	ASSERT_EQ(7, n);
	ASSERT_EQ(0, memcmp(buf, "visible", 7));
	ASSERT_EQ(8, getxattr(BACK("visible"), "user.x", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "original", 8));
	ASSERT_EQ(26, listxattr(BACK("visible"), buf, sizeof(buf)));
}

TEST_F(filter, readonly)
{
	struct stat st;
	char buf[64];

	FILTER_MOUNT(self->skel->maps.readonly, NULL, NULL);
	CHECK_FILE(MNT("visible"), VISIBLE_DATA);
	ASSERT_EQ(0, stat(MNT("d"), &st));
	ASSERT_FAILS(EROFS, open(MNT("visible"), O_WRONLY));
	ASSERT_FAILS(EROFS, open(MNT("visible"), O_RDWR));
	ASSERT_FAILS(EROFS, open(MNT("new"), O_CREAT | O_WRONLY, 0644));
	ASSERT_FAILS(EROFS, mkdir(MNT("newdir"), 0755));
	ASSERT_FAILS(EROFS, mknod(MNT("fifo"), S_IFIFO | 0644, 0));
	ASSERT_FAILS(EROFS, unlink(MNT("visible")));
	ASSERT_FAILS(EROFS, rmdir(MNT("d")));
	ASSERT_FAILS(EROFS, rename(MNT("visible"), MNT("moved")));
	ASSERT_FAILS(EROFS, symlink("visible", MNT("sym")));
	ASSERT_FAILS(EROFS, chmod(MNT("visible"), 0600));
	ASSERT_FAILS(EROFS, truncate(MNT("visible"), 0));
	ASSERT_FAILS(EROFS, setxattr(MNT("visible"), "user.a", "1", 1, 0));
	ASSERT_FAILS(EROFS, removexattr(MNT("visible"), "user.a"));
	/* nothing changed in the backing tree */
	CHECK_FILE(BACK("visible"), VISIBLE_DATA);
	ASSERT_EQ(0, stat(BACK("visible"), &st));
	ASSERT_EQ(S_IFREG | 0644, st.st_mode);
	ASSERT_EQ(0, stat(BACK("d"), &st));
	ASSERT_FAILS(ENOENT, stat(BACK("new"), &st));
	ASSERT_FAILS(ENOENT, stat(BACK("newdir"), &st));
	ASSERT_FAILS(ENOENT, stat(BACK("moved"), &st));
	ASSERT_FAILS(ENOENT, lstat(BACK("sym"), &st));
	ASSERT_FAILS(ENODATA, getxattr(BACK("visible"), "user.a", buf,
				       sizeof(buf)));
}

TEST_F(filter, redirect)
{
	struct stat st, back;

	FILTER_MOUNT(self->skel->maps.redirect, NULL, NULL);
	CHECK_FILE(MNT("alias"), TARGET_DATA);
	ASSERT_EQ(0, stat(MNT("alias"), &st));
	ASSERT_EQ(0, stat(BACK("target"), &back));
	ASSERT_EQ(back.st_ino, st.st_ino);
	ASSERT_EQ(back.st_size, st.st_size);
	CHECK_FILE(MNT("visible"), VISIBLE_DATA);
	ASSERT_FAILS(ENOENT, stat(BACK("alias"), &st));
}

/*
 * A getxattr prefilter that renames the attribute and lets the call go on:
 * the backing is asked for the new name (the operation's direct hook,
 * which reads the caller's name, must not run).
 */
TEST_F(filter, redirect_xattr)
{
	char buf[16];

	ASSERT_EQ(0, setxattr(BACK("visible"), "user.real", "real", 4, 0));
	ASSERT_EQ(0, setxattr(BACK("visible"), "user.alias", "alias", 5, 0));
	FILTER_MOUNT(self->skel->maps.redirect, NULL, NULL);
	ASSERT_EQ(4, getxattr(MNT("visible"), "user.alias", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "real", 4));
	/* the size query too */
	ASSERT_EQ(4, getxattr(MNT("visible"), "user.alias", NULL, 0));
	ASSERT_EQ(4, getxattr(MNT("visible"), "user.real", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "real", 4));
	/* without the filter, the backing has both */
	ASSERT_EQ(5, getxattr(BACK("visible"), "user.alias", buf, sizeof(buf)));
}

TEST_F(filter, postfilter_getattr)
{
	struct stat st, back;
	struct statfs sfs;

	FILTER_MOUNT(self->skel->maps.post_pre, self->skel->maps.post, NULL);
	ASSERT_EQ(0, stat(MNT("visible"), &st));
	ASSERT_EQ(FILTERS_FAKE_SIZE, st.st_size);
	ASSERT_EQ(FILTERS_FAKE_UID, st.st_uid);
	ASSERT_EQ(S_IFREG | 0644, st.st_mode);
	ASSERT_EQ(0, stat(BACK("visible"), &back));
	ASSERT_EQ(strlen(VISIBLE_DATA), back.st_size);
	ASSERT_EQ(back.st_ino, st.st_ino);
	ASSERT_LT(0, self->skel->bss->getattr_calls);

	/* a lookup postfilter sees what was found: "secret1" is 7 bytes */
	ASSERT_FAILS(ENOENT, stat(MNT("secret1"), &st));
	ASSERT_EQ(0, stat(BACK("secret1"), &back));
	ASSERT_EQ(FILTERS_HIDE_SIZE, back.st_size);
	ASSERT_FAILS(ENOENT, stat(MNT("none"), &st));
	ASSERT_EQ(0, mkdir(MNT("newdir"), 0755));
	ASSERT_EQ(0, stat(BACK("newdir"), &back));

	/* statfs output, too */
	ASSERT_EQ(0, statfs(self->e.mnt, &sfs));
	ASSERT_EQ(FILTERS_FAKE_NAMELEN, sfs.f_namelen);
	ASSERT_EQ(0, statfs(self->e.back, &sfs));
	ASSERT_NE(FILTERS_FAKE_NAMELEN, sfs.f_namelen);
}

TEST_F(filter, postfilter_errno)
{
	struct stat st;

	ASSERT_EQ(0, mkdir(BACK("d/x"), 0755));
	FILTER_MOUNT(self->skel->maps.post_pre, self->skel->maps.post, NULL);
	/* the postfilter turns ENOTEMPTY into EPERM */
	ASSERT_FAILS(EPERM, rmdir(MNT("d")));
	ASSERT_EQ(-ENOTEMPTY, self->skel->bss->last_post_error);
	ASSERT_EQ(0, stat(BACK("d/x"), &st));
	ASSERT_EQ(0, rmdir(MNT("d/x")));
	ASSERT_EQ(0, self->skel->bss->last_post_error);
	ASSERT_EQ(0, rmdir(MNT("d")));
	ASSERT_FAILS(ENOENT, stat(BACK("d"), &st));
}

TEST_F(filter, garbage_return)
{
	struct stat st;

	FILTER_MOUNT(self->skel->maps.garbage, NULL, NULL);
	ASSERT_FAILS(EIO, stat(MNT("visible"), &st));
	ASSERT_FAILS(EIO, stat(MNT("d"), &st));
	/* errnos a caller may not see are I/O errors too */
	ASSERT_FAILS(EIO, stat(MNT("d/x"), &st));
	ASSERT_FAILS(EIO, stat(MNT("d/x"), &st));
	ASSERT_FAILS(EIO, stat(MNT("restart"), &st));
	/* other operations are not affected */
	CHECK_FILE(MNT("visible"), VISIBLE_DATA);
}

/*
 * Detaching the prefilters (a server that died, unless it pinned its
 * links): no program runs any more, and the nodes refuse every operation
 * rather than be served unfiltered, until a map serves the id again.
 */
TEST_F(filter, detach)
{
	struct stat st;
	__u32 calls;
	int fd;

	FILTER_MOUNT(self->skel->maps.count, NULL, NULL);
	ASSERT_EQ(0, stat(MNT("visible"), &st));
	fd = open(MNT("visible"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	calls = self->skel->bss->getattr_calls;
	ASSERT_LT(0, calls);
	ASSERT_EQ(0, bpf_link__destroy(self->pre));
	self->pre = NULL;
	ASSERT_FAILS(ENOTCONN, stat(MNT("visible"), &st));
	ASSERT_FAILS(ENOTCONN, open(MNT("visible"), O_RDONLY));
	ASSERT_FAILS(ENOTCONN, mkdir(MNT("new"), 0755));
	ASSERT_FAILS(ENOENT, stat(BACK("new"), &st));
	ASSERT_EQ(calls, self->skel->bss->getattr_calls);
	/* a postfilters map alone does not open it: no prefilter asks for it */
	self->post = attach(&self->e, self->skel->maps.post);
	ASSERT_NE(NULL, self->post) TH_LOG("attach: %s", strerror(errno));
	ASSERT_FAILS(ENOTCONN, stat(MNT("visible"), &st));
	/* a prefilters map with the id serves the nodes again */
	self->pre = attach(&self->e, self->skel->maps.count);
	ASSERT_NE(NULL, self->pre) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(0, stat(MNT("visible"), &st));
	ASSERT_LT(calls, self->skel->bss->getattr_calls);
	ASSERT_EQ(0, close(fd));
}

/* Moving the link to another map: the nodes follow at once. */
TEST_F(filter, replace)
{
	struct stat st;
	__u32 calls;

	FILTER_MOUNT(self->skel->maps.count, NULL, NULL);
	ASSERT_EQ(0, stat(MNT("visible"), &st));
	calls = self->skel->bss->getattr_calls;
	ASSERT_LT(0, calls);
	ASSERT_EQ(0, mkdir(MNT("before"), 0755));
	ASSERT_EQ(0, update(&self->e, self->pre, self->skel->maps.readonly))
		TH_LOG("BPF_LINK_UPDATE: %s", strerror(errno));
	ASSERT_FAILS(EROFS, mkdir(MNT("after"), 0755));
	ASSERT_FAILS(EROFS, open(MNT("visible"), O_WRONLY));
	ASSERT_EQ(0, stat(MNT("visible"), &st));
	ASSERT_EQ(calls, self->skel->bss->getattr_calls);
	ASSERT_EQ(0, stat(BACK("before"), &st));
	ASSERT_FAILS(ENOENT, stat(BACK("after"), &st));
	/* a map of the other type is refused */
	ASSERT_NE(0, update(&self->e, self->pre, self->skel->maps.post));
}

struct stat_loop {
	const char *path;
	volatile bool stop;
	int errors;		/* wrong results, or errors but ENOTCONN */
	int refused;		/* ENOTCONN: no map serves the filters */
	int refused_then_served; /* a success after an ENOTCONN */
	int loops;
};

static void *stat_loop(void *arg)
{
	struct stat_loop *l = arg;
	char buf[64];
	struct stat st;
	ssize_t n;
	int fd;

	while (!l->stop) {
		if (stat(l->path, &st)) {
			if (errno == ENOTCONN)
				l->refused++;
			else
				l->errors++;
		} else if (st.st_size != strlen(VISIBLE_DATA)) {
			l->errors++;
		} else if (l->refused) {
			l->refused_then_served++;
		}
		fd = open(l->path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		if (n < 0 && errno == ENOTCONN)
			l->refused++;
		else if (n != strlen(VISIBLE_DATA))
			l->errors++;
		if (fd >= 0)
			close(fd);
		l->loops++;
	}
	return NULL;
}

/*
 * Detaching while a thread stats and reads through the filters: every
 * call is served (filtered) or refused, none fails otherwise or crashes,
 * and once refused none is served unfiltered.
 */
TEST_F(filter, detach_while_busy)
{
	struct stat_loop l = {};
	char path[PATH_MAX];
	pthread_t t;
	int i;

	/* after the mount: a daemon mount has its own mount point */
	FILTER_MOUNT(self->skel->maps.count, NULL, NULL);
	snprintf(path, sizeof(path), "%s", MNT("visible"));
	l.path = path;
	ASSERT_EQ(0, pthread_create(&t, NULL, stat_loop, &l));
	for (i = 0; i < 10000 && self->skel->bss->getattr_calls < 20; i++)
		usleep(1000);
	ASSERT_LE(20, self->skel->bss->getattr_calls)
		TH_LOG("the loop made %d rounds, %d errors", l.loops, l.errors);
	ASSERT_EQ(0, bpf_link__destroy(self->pre));
	self->pre = NULL;
	usleep(100 * 1000);
	l.stop = true;
	ASSERT_EQ(0, pthread_join(t, NULL));
	/* served filtered, then refused: never wrong, never unfiltered */
	ASSERT_EQ(0, l.errors);
	ASSERT_LT(0, l.refused);
	ASSERT_EQ(0, l.refused_then_served);
	ASSERT_LT(20, l.loops);
}

/* ---- read, write, release and locks ---- */

#define RW_SIZE	64
#define TEST_IOCTL	_IO(0xfb, 1)	/* a command no file system has */
#define TEST_IOCTL_RESULT 42

TEST_F(filter, read)
{
	char data[RW_SIZE], buf[RW_SIZE];
	off_t off = 0;
	size_t total;
	__u32 calls;
	ssize_t n;
	int fd, out;

	fill_pattern(data, sizeof(data), 1);
	put_file(_metadata, BACK("data"), data, sizeof(data));
	FILTER_MOUNT(self->skel->maps.rw, self->skel->maps.rw_post, NULL);
	fd = open(MNT("data"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* the prefilter cuts each read; the file position follows */
	ASSERT_EQ(FILTERS_READ_CAP, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, data, FILTERS_READ_CAP));
	ASSERT_EQ(FILTERS_READ_CAP, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, data + FILTERS_READ_CAP, FILTERS_READ_CAP));
	ASSERT_EQ(2 * FILTERS_READ_CAP, lseek(fd, 0, SEEK_CUR));
	/* the postfilter tells of one byte less at FILTERS_SHORT_OFF */
	ASSERT_EQ(FILTERS_READ_CAP - 1,
		  pread(fd, buf, sizeof(buf), FILTERS_SHORT_OFF));
	ASSERT_EQ(0, memcmp(buf, data + FILTERS_SHORT_OFF, FILTERS_READ_CAP - 1));
	ASSERT_EQ(2 * FILTERS_READ_CAP, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(3, self->skel->bss->read_calls);
	ASSERT_EQ(3 * FILTERS_READ_CAP, self->skel->bss->read_bytes);

	/* sendfile (splice) reads through the filters too */
	calls = self->skel->bss->read_calls;
	out = open(BACK("copy"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, out);
	for (total = 0; total < RW_SIZE; total += n) {
		n = sendfile(out, fd, &off, RW_SIZE - total);
		ASSERT_LT(0, n) TH_LOG("sendfile: %s", strerror(errno));
	}
	close(out);
	ASSERT_LE(calls + RW_SIZE / FILTERS_READ_CAP,
		  self->skel->bss->read_calls);
	check_file(_metadata, BACK("copy"), data, sizeof(data));

	/* the release is seen, once, when the file is closed */
	calls = self->skel->bss->release_calls;
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(calls + 1, self->skel->bss->release_calls);
}

TEST_F(filter, write)
{
	char data[RW_SIZE];
	struct stat st;
	int fd;

	fill_pattern(data, sizeof(data), 2);
	FILTER_MOUNT(self->skel->maps.rw, self->skel->maps.rw_post, NULL);
	fd = open(MNT("new"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(10, write(fd, data, 10));
	/* cut short at FILTERS_WRITE_LIMIT, then refused */
	ASSERT_EQ(FILTERS_WRITE_LIMIT - 10, write(fd, data + 10, 20));
	ASSERT_EQ(FILTERS_WRITE_LIMIT, lseek(fd, 0, SEEK_CUR));
	ASSERT_FAILS(EFBIG, write(fd, data, 1));
	ASSERT_FAILS(EFBIG, pwrite(fd, data, 1, 100));
	ASSERT_EQ(4, pwrite(fd, "abcd", 4, 2));
	ASSERT_EQ(0, close(fd));
	memcpy(data + 2, "abcd", 4);
	check_file(_metadata, BACK("new"), data, FILTERS_WRITE_LIMIT);
	ASSERT_EQ(0, stat(MNT("new"), &st));
	ASSERT_EQ(FILTERS_WRITE_LIMIT, st.st_size);
}

TEST_F(filter, locks)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, status;
	__u32 calls;
	pid_t pid;

	FILTER_MOUNT(self->skel->maps.rw, self->skel->maps.rw_post, NULL);
	fd = open(MNT("visible"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	calls = self->skel->bss->lock_calls;
	ASSERT_FAILS(ENOLCK, fcntl(fd, F_SETLK, &fl));
	fl.l_type = F_RDLCK;
	ASSERT_EQ(0, fcntl(fd, F_SETLK, &fl));
	ASSERT_EQ(calls + 2, self->skel->bss->lock_calls);
	/* the read lock is the backing file's: another process sees it */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct flock t = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int bfd = open(BACK("visible"), O_RDWR);

		if (bfd < 0 || fcntl(bfd, F_GETLK, &t))
			_exit(2);
		_exit(t.l_type == F_RDLCK && t.l_pid == getppid() ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("no read lock on the backing");
	/* flock is not refused */
	ASSERT_EQ(0, flock(fd, LOCK_EX | LOCK_NB));
	ASSERT_EQ(calls + 3, self->skel->bss->lock_calls);
	ASSERT_EQ(0, close(fd));
}

TEST_F(filter, ioctl)
{
	int fd, flags = 0, back = 0;

	FILTER_MOUNT(self->skel->maps.rw, self->skel->maps.rw_post, NULL);
	fd = open(MNT("visible"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* getting the attributes is let through to the backing inode */
	ASSERT_EQ(0, ioctl(fd, FS_IOC_GETFLAGS, &flags))
		TH_LOG("FS_IOC_GETFLAGS: %s", strerror(errno));
	/* setting them is refused */
	flags |= FS_NOATIME_FL;
	ASSERT_FAILS(EPERM, ioctl(fd, FS_IOC_SETFLAGS, &flags));
	/* other commands are not the backing file's */
	ASSERT_FAILS(ENOTTY, ioctl(fd, TEST_IOCTL, 0));
	ASSERT_EQ(0, close(fd));
	fd = open(BACK("visible"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, FS_IOC_GETFLAGS, &back));
	ASSERT_EQ(0, back & FS_NOATIME_FL);
	ASSERT_EQ(0, close(fd));
}

/* The daemon's side of the user_rw filters. */
struct user_rw {
	int ioctls;
	int reads;
	int write_posts;
	int write_error;
	__u32 write_size;
	int release_posts;
	int open_pres;
};

#define USER_READ_DATA	"read from the daemon\n"

static int user_rw_hook(struct ftd *d, const struct fuse_in_header *in,
			const void *arg, size_t len, void *priv)
{
	const struct fuse_bpf_post_in *post = arg;
	struct user_rw *u = priv;
	struct fuse_write_out wout;
	struct fuse_open_in open_in;
	const struct fuse_read_in *r = arg;
	const struct fuse_write_in *w;

	switch (in->opcode) {
	case FUSE_IOCTL: {
		const struct fuse_ioctl_in *i = arg;
		struct fuse_ioctl_out out = { .result = TEST_IOCTL_RESULT };

		u->ioctls++;
		if (len < sizeof(*i) || i->cmd != TEST_IOCTL)
			return -EINVAL;
		return ftd_reply(d, in->unique, 0, &out, sizeof(out)) ?:
		       FTD_HANDLED;
	}
	case FUSE_READ:
		u->reads++;
		if (len < sizeof(*r) || r->offset)
			return -EINVAL;
		return ftd_reply(d, in->unique, 0, USER_READ_DATA,
				 MIN(r->size, strlen(USER_READ_DATA))) ?:
		       FTD_HANDLED;
	case FUSE_WRITE | FUSE_POSTFILTER:
		u->write_posts++;
		w = (const void *)(post + 1);
		if (len != sizeof(*post) + sizeof(*w) + sizeof(wout) ||
		    post->in_numargs != 1 || post->out_numargs != 1 ||
		    post->in_sizes[0] != sizeof(*w) ||
		    post->out_sizes[0] != sizeof(wout))
			return -EINVAL;
		memcpy(&wout, w + 1, sizeof(wout));
		u->write_error = post->error;
		u->write_size = wout.size;
		/* the caller is told of one byte less */
		wout.size--;
		return ftd_reply(d, in->unique, 0, &wout, sizeof(wout)) ?:
		       FTD_HANDLED;
	case FUSE_RELEASE | FUSE_POSTFILTER:
		u->release_posts++;
		return ftd_reply(d, in->unique, 0, NULL, 0) ?: FTD_HANDLED;
	case FUSE_OPEN | FUSE_PREFILTER:
		u->open_pres++;
		if (len != sizeof(open_in))
			return -EINVAL;
		memcpy(&open_in, arg, sizeof(open_in));
		/* honoured: O_RDWR opens the backing file read-only */
		if ((open_in.flags & O_ACCMODE) == O_RDWR)
			open_in.flags &= ~O_ACCMODE;
		/* not honoured: the open fails */
		if (open_in.flags & O_DSYNC)
			open_in.open_flags = 1;
		return ftd_reply(d, in->unique, 0, &open_in, sizeof(open_in)) ?:
		       FTD_HANDLED;
	}
	return FTD_DEFAULT;
}

TEST_F(filter, user_rw)
{
	struct user_rw u = {};
	struct ftd_config cfg = {
		.hook = user_rw_hook,
		.hook_priv = &u,
	};
	char data[8192], buf[256];
	int fd;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	fill_pattern(data, sizeof(data), 3);
	put_file(_metadata, BACK("big"), data, sizeof(data));
	FILTER_MOUNT(self->skel->maps.user_rw, NULL, &cfg);

	/* FUSE_BPF_USER: the first page comes from the daemon */
	fd = open(MNT("big"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(strlen(USER_READ_DATA), read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, USER_READ_DATA, strlen(USER_READ_DATA)));
	ASSERT_EQ(1, u.reads);
	ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), 4096));
	ASSERT_EQ(0, memcmp(buf, data + 4096, sizeof(buf)));
	ASSERT_EQ(1, u.reads);
	/* FUSE_BPF_USER: the daemon answers an ioctl */
	ASSERT_EQ(TEST_IOCTL_RESULT, ioctl(fd, TEST_IOCTL, 0));
	ASSERT_EQ(1, u.ioctls);
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(ftd_wait_count(self->e.d, FUSE_RELEASE | FUSE_POSTFILTER,
				   1, 5000));

	/* a userspace postfilter sees the write and shortens its result */
	fd = open(MNT("big"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "abcd", 4));
	ASSERT_EQ(1, u.write_posts);
	ASSERT_EQ(0, u.write_error);
	ASSERT_EQ(4, u.write_size);
	ASSERT_EQ(3, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, close(fd));
	/* the four bytes stay written */
	memcpy(data, "abcd", 4);
	check_file(_metadata, BACK("big"), data, sizeof(data));

	/* a userspace prefilter's honoured change, and one not honoured */
	fd = open(MNT("big"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_FAILS(EBADF, write(fd, "x", 1));
	ASSERT_EQ(0, close(fd));
	ASSERT_FAILS(EIO, open(MNT("big"), O_RDONLY | O_DSYNC | O_CLOEXEC));
	ASSERT_EQ(4, u.open_pres);
	check_file(_metadata, BACK("big"), data, sizeof(data));
}

/* The daemon's side of FUSE_BPF_USER_PREFILTER and USER_POSTFILTER. */
struct user_filters {
	int post_error;		/* error the unlink postfilter saw */
	int post_calls;
	int pre_calls;
	char pre_name[32];
	int readdir_calls;
	int readdir_added;
};

#define USER_ADDED	"from_the_daemon"
#define USER_ADDED_INO	424242

/*
 * READDIR's userspace postfilter: the first read of a directory gets an
 * entry the backing does not have, put first, at the offset the read
 * started at.
 */
static int user_readdir_post(struct ftd *d, const struct fuse_in_header *in,
			     const void *arg, size_t len,
			     struct user_filters *u)
{
	const struct fuse_bpf_post_in *post = arg;
	const struct fuse_read_in *read_in = (const void *)(post + 1);
	const char *dirents = (const char *)(read_in + 1);
	static char reply[2 * 4096];
	struct fuse_dirent *de = (void *)reply;
	size_t size, add;

	u->readdir_calls++;
	if (len < sizeof(*post) + sizeof(*read_in) || post->in_numargs != 1 ||
	    post->out_numargs != 1 || post->in_sizes[0] != sizeof(*read_in))
		return -EINVAL;
	size = post->out_sizes[0];
	if (len != sizeof(*post) + sizeof(*read_in) + size || post->error)
		return -EINVAL;
	if (read_in->offset)
		return ftd_reply(d, in->unique, 0, NULL, 0) ?: FTD_HANDLED;
	add = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + strlen(USER_ADDED));
	if (add + size > sizeof(reply))
		return -EINVAL;
	memset(reply, 0, add);
	de->ino = USER_ADDED_INO;
	de->off = read_in->offset;
	de->namelen = strlen(USER_ADDED);
	de->type = DT_REG;
	memcpy(de->name, USER_ADDED, de->namelen);
	memcpy(reply + add, dirents, size);
	u->readdir_added++;
	return ftd_reply(d, in->unique, 0, reply, add + size) ?: FTD_HANDLED;
}

static int user_filter_hook(struct ftd *d, const struct fuse_in_header *in,
			    const void *arg, size_t len, void *priv)
{
	struct user_filters *u = priv;

	if (in->opcode == (FUSE_LOOKUP | FUSE_PREFILTER)) {
		u->pre_calls++;
		snprintf(u->pre_name, sizeof(u->pre_name), "%.*s", (int)len,
			 (const char *)arg);
		/* every "ask*" name is looked up as "visible" */
		return ftd_reply(d, in->unique, 0, "visible", 8) ?: FTD_HANDLED;
	}
	if (in->opcode == (FUSE_READDIR | FUSE_POSTFILTER))
		return user_readdir_post(d, in, arg, len, u);
	if (in->opcode == (FUSE_RMDIR | FUSE_POSTFILTER)) {
		const struct fuse_bpf_post_in *post = arg;

		u->post_calls++;
		if (len < sizeof(*post))
			return -EINVAL;
		u->post_error = post->error;
		/* keep success, turn errors into EACCES */
		return ftd_reply(d, in->unique, post->error ? -EACCES : 0,
				 NULL, 0) ?: FTD_HANDLED;
	}
	return FTD_DEFAULT;
}

TEST_F(filter, user)
{
	struct user_filters u = {};
	struct ftd_config cfg = {
		.hook = user_filter_hook,
		.hook_priv = &u,
	};
	struct stat st, back;
	struct statx stx;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	ASSERT_EQ(0, mkdir(BACK("d/x"), 0755));
	FILTER_MOUNT(self->skel->maps.user, NULL, &cfg);

	/* FUSE_BPF_USER: getattr of the root reaches the daemon */
	ftd_log_clear(self->e.d);
	ASSERT_EQ(0, statx(AT_FDCWD, self->e.mnt, AT_STATX_FORCE_SYNC,
			   STATX_BASIC_STATS, &stx));
	ASSERT_FUSE_RECEIVED(self->e.d, FUSE_GETATTR);

	/* a userspace prefilter rewrites the name */
	ASSERT_EQ(0, stat(MNT("askme"), &st));
	ASSERT_EQ(1, u.pre_calls);
	ASSERT_STREQ("askme", u.pre_name);
	ASSERT_EQ(0, stat(BACK("visible"), &back));
	ASSERT_EQ(back.st_ino, st.st_ino);
	CHECK_FILE(MNT("asktoo"), VISIBLE_DATA);

	/* a userspace postfilter sees the backing error */
	ASSERT_FAILS(EACCES, rmdir(MNT("d")));
	ASSERT_EQ(-ENOTEMPTY, u.post_error);
	ASSERT_EQ(0, rmdir(MNT("d/x")));
	ASSERT_EQ(0, u.post_error);
	ASSERT_EQ(2, u.post_calls);
	ASSERT_FAILS(ENOENT, stat(BACK("d/x"), &st));
}

/*
 * A backed node's operation that a prefilter sends to the server is a
 * request like any other: the connection's request program answers it,
 * and without one the server does.
 */
TEST_F(filter, user_through_request_program)
{
	struct fuse_attr_out a = {};
	__u64 id = FUSE_ROOT_ID;
	struct bpf_link *link;
	struct request *req;
	struct bpf_map *map;
	struct statx stx;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	FILTER_MOUNT(self->skel->maps.user, NULL, NULL);
	req = request__open();
	ASSERT_NE(NULL, req);
	bpf_object__for_each_map(map, req->obj) {
		struct request__serve__fuse_bpf_request_ops *v;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		v = bpf_map__initial_value(map, NULL);
		v->fuse_fd = CONN_FD;
	}
	ASSERT_EQ(0, request__load(req));
	a.attr.ino = FUSE_ROOT_ID;
	a.attr.mode = S_IFDIR | 0751;
	a.attr.nlink = 2;
	a.attr.uid = FILTERS_FAKE_UID;
	ASSERT_EQ(0, bpf_map__update_elem(req->maps.attrs, &id, sizeof(id), &a,
					  sizeof(a), BPF_ANY));
	link = attach(&self->e, req->maps.serve);
	ASSERT_NE(NULL, link) TH_LOG("attach: %s", strerror(errno));

	ftd_log_clear(self->e.d);
	ASSERT_EQ(0, statx(AT_FDCWD, self->e.mnt, AT_STATX_FORCE_SYNC,
			   STATX_BASIC_STATS, &stx));
	EXPECT_EQ(FILTERS_FAKE_UID, stx.stx_uid);
	EXPECT_EQ(S_IFDIR | 0751, stx.stx_mode);
	EXPECT_LE(1, req->bss->served);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_GETATTR);

	bpf_link__destroy(link);
	request__destroy(req);
	ASSERT_EQ(0, statx(AT_FDCWD, self->e.mnt, AT_STATX_FORCE_SYNC,
			   STATX_BASIC_STATS, &stx));
	ASSERT_FUSE_RECEIVED(self->e.d, FUSE_GETATTR);
	EXPECT_NE(FILTERS_FAKE_UID, stx.stx_uid);
}

/* A userspace readdir postfilter adds an entry to a listing. */
TEST_F(filter, user_readdir_adds)
{
	static struct dent m[MAX_DENTS], b[MAX_DENTS];
	struct user_filters u = {};
	struct ftd_config cfg = {
		.hook = user_filter_hook,
		.hook_priv = &u,
	};
	int nm, nb, i, j;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	FILTER_MOUNT(self->skel->maps.user, NULL, &cfg);
	nm = list_dir(self->e.mnt, m, ARRAY_SIZE(m));
	ASSERT_LE(0, nm);
	nb = list_dir(self->e.back, b, ARRAY_SIZE(b));
	ASSERT_LE(0, nb);
	ASSERT_EQ(nb + 1, nm);
	ASSERT_LE(1, u.readdir_calls);
	ASSERT_EQ(1, u.readdir_added);
	/* the backing's entries, and the daemon's in its place by name */
	for (i = 0, j = 0; i < nm; i++) {
		if (!strcmp(m[i].name, USER_ADDED)) {
			ASSERT_EQ(USER_ADDED_INO, m[i].ino);
			ASSERT_EQ(DT_REG, m[i].type);
			continue;
		}
		ASSERT_LT(j, nb);
		ASSERT_STREQ(b[j].name, m[i].name);
		ASSERT_EQ(b[j].ino, m[i].ino);
		j++;
	}
	ASSERT_EQ(nb, j);
	ASSERT_FALSE(dir_has(self->e.back, USER_ADDED));
}

/*
 * The daemon answers the userspace prefilter with a malformed reply, or
 * with an errno: one a caller may see ("askperm"), -ECHILD ("askchild"),
 * one that is none ("askhuge").
 */
static int bad_user_filter_hook(struct ftd *d, const struct fuse_in_header *in,
				const void *arg, size_t len, void *priv)
{
	int err = 0;

	if (in->opcode != (FUSE_LOOKUP | FUSE_PREFILTER))
		return FTD_DEFAULT;
	if (len == sizeof("askperm") && !memcmp(arg, "askperm", len))
		err = -EPERM;
	else if (len == sizeof("askchild") && !memcmp(arg, "askchild", len))
		err = -ECHILD;
	else if (len == sizeof("askhuge") && !memcmp(arg, "askhuge", len))
		err = -300;
	if (err)
		return ftd_reply(d, in->unique, err, NULL, 0) ?: FTD_HANDLED;
	/* no NUL: not a name */
	return ftd_reply(d, in->unique, 0, "visible", 7) ?: FTD_HANDLED;
}

TEST_F(filter, user_bad_reply)
{
	struct ftd_config cfg = { .hook = bad_user_filter_hook };
	struct stat st;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	FILTER_MOUNT(self->skel->maps.user, NULL, &cfg);
	ASSERT_FAILS(EIO, stat(MNT("askme"), &st));
	ASSERT_FAILS(EPERM, stat(MNT("askperm"), &st));
	ASSERT_FAILS(EIO, stat(MNT("askchild"), &st));
	ASSERT_FAILS(EIO, stat(MNT("askhuge"), &st));
	CHECK_FILE(MNT("visible"), VISIBLE_DATA);
}

/*
 * The daemon's side of lookup_in_kernel_dir_needs_ops: LOOKUPs of "ask*"
 * are answered with a node backed by the registered backing file of that
 * name in "sub"; "askme" without saying which filters it gets (flags 0),
 * "askset" with FUSE_BPF_ENTRY_SET_OPS.
 */
static const struct ftd_entry ask_tree[] = {
	{ "askme", S_IFREG | 0644 },
	{ "askset", S_IFREG | 0644 },
	{ NULL }
};

struct ask_replies {
	int me_id;		/* backing id of sub/askme */
	int set_id;		/* backing id of sub/askset */
	int ops_id;		/* the mount's filters, as an ops id */
	int lookups;		/* LOOKUPs of "ask*" received */
	__u64 parent;		/* the directory of the last one */
};

/*
 * Answer the LOOKUP @in of @name, a node in the root of the daemon's
 * tree, with its entry and an extension backing it by @backing_id, with
 * @flags and @ops_id. Returns what a hook returns.
 */
static int reply_backed(struct ftd *d, const struct fuse_in_header *in,
			const char *name, int backing_id, __u32 flags,
			__u64 ops_id)
{
	struct {
		struct fuse_entry_out entry;
		struct fuse_bpf_entry_out ext;
	} reply = {
		.ext = {
			.entry_type = FUSE_BPF_ENTRY_BACKING,
			.flags = flags,
			.backing_id = backing_id,
			.ops_id = ops_id,
		},
	};
	__u64 id = ftd_lookup(d, FUSE_ROOT_ID, name);

	if (!id)
		return -ENOENT;
	ftd_fill_entry(d, id, &reply.entry);
	return ftd_reply(d, in->unique, 0, &reply, sizeof(reply)) ?:
	       FTD_HANDLED;
}

static int ask_hook(struct ftd *d, const struct fuse_in_header *in,
		    const void *arg, size_t len, void *priv)
{
	struct ask_replies *a = priv;
	const char *name = arg;

	if (in->opcode != FUSE_LOOKUP || strncmp(name, "ask", 3))
		return FTD_DEFAULT;
	a->lookups++;
	a->parent = in->nodeid;
	if (!strcmp(name, "askset"))
		return reply_backed(d, in, name, a->set_id,
				    FUSE_BPF_ENTRY_SET_OPS, a->ops_id);
	return reply_backed(d, in, name, a->me_id, 0, 0);
}

#define ASK_DATA	"only for those the filters let read\n"

/* What the server got of a create of "ask*" in the root. */
struct ask_create {
	int lookups;		/* LOOKUPs */
	int creates;		/* CREATEs and MKNODs */
};

/* The server knows no "ask*" and refuses to create one. */
static int ask_create_hook(struct ftd *d, const struct fuse_in_header *in,
			   const void *arg, size_t len, void *priv)
{
	struct ask_create *a = priv;
	const char *name = arg;

	if (in->nodeid != 1)
		return FTD_DEFAULT;
	switch (in->opcode) {
	case FUSE_LOOKUP:
		if (strncmp(name, "ask", 3))
			return FTD_DEFAULT;
		a->lookups++;
		return -ENOENT;
	case FUSE_CREATE:
		name += sizeof(struct fuse_create_in);
		break;
	case FUSE_MKNOD:
		name += sizeof(struct fuse_mknod_in);
		break;
	default:
		return FTD_DEFAULT;
	}
	if (strncmp(name, "ask", 3) && strncmp(name, "mk", 2))
		return FTD_DEFAULT;
	a->creates++;
	return -EPERM;
}

/*
 * An open with O_CREAT of a name whose lookup (ask_noread: "ask*") or
 * whose create (mk_to_server: "mk*") a filter sends to the server: the
 * server is asked, and its word holds; nothing is made in the backing
 * directory behind it.
 */
TEST_F(filter, create_after_lookup_to_server)
{
	struct ask_create a = {};
	struct ftd_config cfg = {
		.hook = ask_create_hook,
		.hook_priv = &a,
	};
	struct stat st;
	int fd;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	FILTER_MOUNT(self->skel->maps.ask_noread, NULL, &cfg);
	fd = open(MNT("asknew"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_EQ(-1, fd) TH_LOG("the create did not go to the server");
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(1, a.lookups);
	ASSERT_EQ(1, a.creates);
	ASSERT_FAILS(ENOENT, stat(BACK("asknew"), &st));
	/* a name the filter lets through is created in the backing */
	fd = open(MNT("plainnew"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("open plainnew: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(BACK("plainnew"), &st));
	ASSERT_EQ(1, a.lookups);
	ASSERT_EQ(1, a.creates);
}

TEST_F(filter, create_to_server)
{
	struct ask_create a = {};
	struct ftd_config cfg = {
		.hook = ask_create_hook,
		.hook_priv = &a,
	};
	struct stat st;
	int fd;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	FILTER_MOUNT(self->skel->maps.mk_to_server, NULL, &cfg);
	fd = open(MNT("mknew"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_EQ(-1, fd) TH_LOG("the create did not go to the server");
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(1, a.creates);
	ASSERT_FAILS(ENOENT, stat(BACK("mknew"), &st));
	/* mknod(2) goes the same way */
	ASSERT_FAILS(EPERM, mknod(MNT("mkfifo"), S_IFIFO | 0644, 0));
	ASSERT_EQ(2, a.creates);
	ASSERT_FAILS(ENOENT, stat(BACK("mkfifo"), &st));
	/* other names are created in the backing */
	fd = open(MNT("plainnew"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("open plainnew: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(BACK("plainnew"), &st));
	ASSERT_EQ(2, a.creates);
	ASSERT_EQ(0, a.lookups);
}

/*
 * A lookup filter sends "ask*" in "sub", a directory the kernel found
 * (node id with KERNEL_NODEID_BIT), to the server. The node of a reply
 * that does not say which filters it gets would inherit those of "sub",
 * which cannot be found by its node id: the lookup fails with EIO rather
 * than give a node without the read refusal. A reply naming the filters
 * (FUSE_BPF_ENTRY_SET_OPS) is taken, and the refusal holds for its node.
 */
TEST_F(filter, lookup_in_kernel_dir_needs_ops)
{
	struct ask_replies a = {};
	struct ftd_config cfg = {
		.entries = ask_tree,
		.hook = ask_hook,
		.hook_priv = &a,
	};
	struct stat st, back;
	int fd, ret, err, lookups;
	char buf[64];
	__u32 calls;
	ssize_t n;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	ASSERT_EQ(0, mkdir(BACK("sub"), 0755));
	PUT(BACK("sub/plain"), ASK_DATA);
	PUT(BACK("sub/askme"), ASK_DATA);
	PUT(BACK("sub/askset"), ASK_DATA);
	FILTER_MOUNT(self->skel->maps.ask_noread, NULL, &cfg);
	a.me_id = backing_register(self->e.d, BACK("sub/askme"), O_RDONLY);
	ASSERT_LT(0, a.me_id) TH_LOG("BACKING_OPEN: %s", strerror(errno));
	a.set_id = backing_register(self->e.d, BACK("sub/askset"), O_RDONLY);
	ASSERT_LT(0, a.set_id) TH_LOG("BACKING_OPEN: %s", strerror(errno));
	/* the root's filters, by the id their map was attached with */
	a.ops_id = 1;

	/* the policy, on a file the kernel found in "sub" */
	fd = open(MNT("sub/plain"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open sub/plain: %s", strerror(errno));
	ASSERT_FAILS(EACCES, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, a.lookups);

	/* flags 0: the filters of "sub" cannot be inherited */
	errno = 0;
	ret = stat(MNT("sub/askme"), &st);
	err = errno;
	ASSERT_EQ(1, a.lookups) TH_LOG("the LOOKUP of askme did not reach the daemon");
	ASSERT_EQ(1, self->skel->bss->ask_lookup_calls);
	ASSERT_NE(0, a.parent & KERNEL_NODEID_BIT)
		TH_LOG("LOOKUP in node %#llx, not one the kernel found",
		       (unsigned long long)a.parent);
	if (!ret) {
		calls = self->skel->bss->ask_read_calls;
		n = read_all(MNT("sub/askme"), buf, sizeof(buf));
		TH_LOG("stat(sub/askme) succeeded; reading it: %s (%u read filter calls)",
		       n < 0 ? strerror(errno) :
		       n == (ssize_t)strlen(ASK_DATA) &&
		       !memcmp(buf, ASK_DATA, n) ?
		       "the file's data: the node escaped the read refusal" :
		       "other data",
		       self->skel->bss->ask_read_calls - calls);
	}
	EXPECT_EQ(-1, ret) TH_LOG("a reply without the node's filters was taken");
	if (ret) {
		EXPECT_EQ(EIO, err) TH_LOG("stat(sub/askme): %s, expected %s",
					   strerror(err), strerror(EIO));
		/* nothing is left in the cache: the next walk asks again */
		ASSERT_FAILS(EIO, stat(MNT("sub/askme"), &st));
		ASSERT_EQ(2, a.lookups);
	}
	CHECK_FILE(BACK("sub/askme"), ASK_DATA);

	/* FUSE_BPF_ENTRY_SET_OPS: taken, and the node has the filters */
	lookups = a.lookups;
	ASSERT_EQ(0, stat(MNT("sub/askset"), &st))
		TH_LOG("stat(sub/askset): %s", strerror(errno));
	ASSERT_EQ(lookups + 1, a.lookups);
	ASSERT_NE(0, a.parent & KERNEL_NODEID_BIT);
	ASSERT_EQ(0, stat(BACK("sub/askset"), &back));
	ASSERT_EQ(back.st_ino, st.st_ino);
	ASSERT_EQ(back.st_size, st.st_size);
	fd = open(MNT("sub/askset"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open sub/askset: %s", strerror(errno));
	calls = self->skel->bss->ask_read_calls;
	ASSERT_FAILS(EACCES, read(fd, buf, sizeof(buf)));
	ASSERT_LT(calls, self->skel->bss->ask_read_calls);
	ASSERT_EQ(0, close(fd));
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_OPEN);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_READ);
}

/* Drop CAP_SYS_ADMIN and keep the rest (CAP_BPF among them). */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~(1U << CAP_SYS_ADMIN);
	d[0].permitted &= ~(1U << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &h, d);
}

/*
 * Attaching a map binds it to the ops id it names on the connection it
 * names; what is refused, and that an id serves again after a detach.
 */
TEST_F(filter, ops_attach)
{
	struct bpf_link *count, *post, *hide;
	struct filters *zero;
	struct stat stat_buf;
	int fd, status;
	pid_t pid;

	FILTER_MOUNT(NULL, NULL, NULL);

	/* CONN_FD is not open */
	close(CONN_FD);
	ASSERT_EQ(NULL, bpf_map__attach_struct_ops(self->skel->maps.count));
	ASSERT_EQ(EBADF, errno);
	/* not a descriptor of a fuse-bpf connection */
	fd = open(self->e.back, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_EQ(CONN_FD, dup2(fd, CONN_FD));
	close(fd);
	ASSERT_EQ(NULL, bpf_map__attach_struct_ops(self->skel->maps.count));
	ASSERT_EQ(EINVAL, errno);
	close(CONN_FD);
	/* ops id 0 */
	zero = filters_load_id(0);
	ASSERT_NE(NULL, zero);
	ASSERT_EQ(NULL, attach(&self->e, zero->maps.count));
	ASSERT_EQ(EINVAL, errno);
	filters__destroy(zero);

	/* one prefilters map and one postfilters map per id */
	count = attach(&self->e, self->skel->maps.count);
	ASSERT_NE(NULL, count) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(NULL, attach(&self->e, self->skel->maps.hide));
	ASSERT_EQ(EEXIST, errno);
	post = attach(&self->e, self->skel->maps.post);
	ASSERT_NE(NULL, post) TH_LOG("attach: %s", strerror(errno));
	/* a map has one binding: a second link of it is refused */
	ASSERT_EQ(NULL, attach(&self->e, self->skel->maps.count));
	ASSERT_EQ(EBUSY, errno);
	/* moving a link to its own map changes nothing */
	ASSERT_EQ(0, update(&self->e, count, self->skel->maps.count))
		TH_LOG("update: %s", strerror(errno));
	ASSERT_EQ(0, stat(MNT("visible"), &stat_buf));

	/* attaching needs CAP_SYS_ADMIN, as registering a backing does */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (drop_sys_admin())
			_exit(2);
		_exit(!attach(&self->e, self->skel->maps.readonly) &&
		      errno == EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("attach without CAP_SYS_ADMIN");

	/* a detached map's id takes another map */
	bpf_link__destroy(count);
	hide = attach(&self->e, self->skel->maps.hide);
	ASSERT_NE(NULL, hide) TH_LOG("attach after detach: %s",
				     strerror(errno));
	bpf_link__destroy(hide);
	bpf_link__destroy(post);
}

/*
 * The mount option ops= names the root's ops id before any map serves
 * it: until one is attached, the root refuses every operation, so that
 * nothing is seen unfiltered; then the filters apply.
 */
TEST_F(filter, ops_pending)
{
	struct bpf_link *hide, *post;
	struct filters *three;
	struct stat st;

	strcat(self->e.extra, ",ops=3");
	self->e.ops_pending = true;
	ASSERT_EQ(0, env_mount(&self->e, variant->daemon))
		TH_LOG("mount: %s", strerror(errno));
	ASSERT_FAILS(ENOTCONN, stat(self->e.mnt, &st));
	ASSERT_FAILS(ENOTCONN, stat(MNT("secret1"), &st));
	ASSERT_FAILS(ENOTCONN, open(MNT("visible"), O_RDONLY | O_CLOEXEC));

	three = filters_load_id(3);
	ASSERT_NE(NULL, three);
	/* postfilters alone do not open it: only a prefilter calls them */
	post = attach(&self->e, three->maps.hide_post);
	ASSERT_NE(NULL, post) TH_LOG("attach: %s", strerror(errno));
	ASSERT_FAILS(ENOTCONN, stat(self->e.mnt, &st));
	hide = attach(&self->e, three->maps.hide);
	ASSERT_NE(NULL, hide) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(0, stat(self->e.mnt, &st));
	ASSERT_EQ(0, stat(MNT("visible"), &st));
	ASSERT_FAILS(ENOENT, stat(MNT("secret1"), &st));
	CHECK_FILE(MNT("visible"), VISIBLE_DATA);
	bpf_link__destroy(hide);
	bpf_link__destroy(post);
	filters__destroy(three);
}

/* ---- what a filter changes is still checked against the caller ---- */

#define CALLER		1000	/* uid and gid of an unprivileged caller */
#define GRP_NOT_MINE	2000	/* a group the caller is not in */

static int caller_result(pid_t pid)
{
	int status = child_status(pid, 30000);

	return status == 255 ? -1 : status;
}

/*
 * Make @call in a child running as CALLER:CALLER, groups { CALLER }: the
 * errno it fails with, 0 when it succeeds, -1 when the child failed.
 */
#define AS_CALLER(call) caller_result(({				\
	pid_t __pid = fork();						\
									\
	if (!__pid) {							\
		gid_t __g = CALLER;					\
									\
		if (setgroups(1, &__g) ||				\
		    setresgid(CALLER, CALLER, CALLER) ||		\
		    setresuid(CALLER, CALLER, CALLER))			\
			_exit(255);					\
		_exit((long)(call) < 0 ? errno : 0);			\
	}								\
	__pid;								\
}))

/* The mount is shared with the caller. */
#define ALLOW_OTHER()	strcat(self->e.extra, ",allow_other")

/*
 * A setattr prefilter sees the valid bits and times a server's SETATTR
 * would carry: FUSE's FATTR_* bits (not the kernel's ATTR_* ones), made
 * by fuse's own fuse_iattr_to_fattr(), so no ctime (the kernel's times
 * are not the ones that count on a backed node). FATTR_FH and
 * FATTR_LOCKOWNER, which name fuse's own file, are not among them.
 */
TEST_F(filter, setattr_valid_bits)
{
	struct timespec mtime_only[2] = {
		{ .tv_nsec = UTIME_OMIT },
		{ .tv_sec = 12345 },
	};
	struct stat st;
	int fd;

	FILTER_MOUNT(self->skel->maps.rec, NULL, NULL);
	ASSERT_EQ(0, utimensat(AT_FDCWD, MNT("visible"), mtime_only, 0));
	ASSERT_EQ(FATTR_MTIME, self->skel->bss->setattr_valid);
	ASSERT_EQ(12345, self->skel->bss->setattr_mtime);
	ASSERT_EQ(0, stat(BACK("visible"), &st));
	ASSERT_EQ(12345, st.st_mtime);
	ASSERT_EQ(0, utimensat(AT_FDCWD, MNT("visible"), NULL, 0));
	ASSERT_EQ(FATTR_ATIME | FATTR_ATIME_NOW | FATTR_MTIME |
		  FATTR_MTIME_NOW, self->skel->bss->setattr_valid);
	ASSERT_EQ(0, chmod(MNT("visible"), 0640));
	ASSERT_EQ(FATTR_MODE, self->skel->bss->setattr_valid);
	/* truncate(2) asks for the size only: the file system sets the times */
	ASSERT_EQ(0, truncate(MNT("visible"), 3));
	ASSERT_EQ(FATTR_SIZE, self->skel->bss->setattr_valid);
	ASSERT_EQ(0, stat(BACK("visible"), &st));
	ASSERT_EQ(3, st.st_size);
	/* ftruncate(2) asks for the times too, which a SETATTR leaves out */
	fd = open(MNT("visible"), O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(FATTR_SIZE, self->skel->bss->setattr_valid);
	ASSERT_EQ(0, stat(BACK("visible"), &st));
	ASSERT_EQ(4, st.st_size);
	ASSERT_EQ(0640, st.st_mode & 07777);
}

/*
 * A setattr prefilter that gives a chown's file to group 0: the caller
 * could not ask for that itself (the bare backing says EPERM), so neither
 * can the filter for it. Root can, which shows the filter runs.
 */
TEST_F(filter, setattr_recheck_gid)
{
	struct stat st;

	put_str(_metadata, BACK("f"), VISIBLE_DATA);
	ASSERT_EQ(0, chown(BACK("f"), CALLER, CALLER));
	put_str(_metadata, BACK("bare"), VISIBLE_DATA);
	ASSERT_EQ(0, chown(BACK("bare"), CALLER, CALLER));
	ALLOW_OTHER();
	FILTER_MOUNT(self->skel->maps.sgid_root, NULL, NULL);

	/* bare: the caller may keep its group, not give the file to 0 */
	ASSERT_EQ(0, AS_CALLER(chown(BACK("bare"), -1, CALLER)));
	ASSERT_EQ(EPERM, AS_CALLER(chown(BACK("bare"), -1, 0)));

	/* through the mount, the filter asks for group 0 */
	EXPECT_EQ(EPERM, AS_CALLER(chown(MNT("f"), -1, CALLER)));
	ASSERT_EQ(0, stat(BACK("f"), &st));
	EXPECT_EQ(CALLER, st.st_uid);
	ASSERT_EQ(CALLER, st.st_gid)
		TH_LOG("the caller's chown gave its file to group %u",
		       st.st_gid);
	ASSERT_EQ(0, stat(MNT("f"), &st));
	ASSERT_EQ(CALLER, st.st_gid);

	ASSERT_EQ(0, chown(MNT("f"), -1, CALLER));
	ASSERT_EQ(0, stat(BACK("f"), &st));
	ASSERT_EQ(0, st.st_gid);
}

/*
 * A setattr prefilter that sets S_ISGID in a chmod: for an owner outside
 * the file's group, S_ISGID goes as it goes on the bare backing. Root
 * keeps it, which shows the filter runs.
 */
TEST_F(filter, setattr_recheck_sgid)
{
	struct stat st, bare;

	put_str(_metadata, BACK("g"), VISIBLE_DATA);
	ASSERT_EQ(0, chown(BACK("g"), CALLER, GRP_NOT_MINE));
	put_str(_metadata, BACK("bare"), VISIBLE_DATA);
	ASSERT_EQ(0, chown(BACK("bare"), CALLER, GRP_NOT_MINE));
	ALLOW_OTHER();
	FILTER_MOUNT(self->skel->maps.sgid_root, NULL, NULL);

	/* bare: what the filter makes of the chmod */
	ASSERT_EQ(0, AS_CALLER(chmod(BACK("bare"), 02755)));
	ASSERT_EQ(0, stat(BACK("bare"), &bare));
	ASSERT_EQ(S_IFREG | 0755, bare.st_mode);

	ASSERT_EQ(0, AS_CALLER(chmod(MNT("g"), 0755)));
	ASSERT_EQ(0, stat(BACK("g"), &st));
	ASSERT_EQ(bare.st_mode, st.st_mode)
		TH_LOG("mode %o through the mount, %o bare", st.st_mode,
		       bare.st_mode);
	ASSERT_EQ(GRP_NOT_MINE, st.st_gid);
	ASSERT_EQ(0, stat(MNT("g"), &st));
	ASSERT_EQ(bare.st_mode, st.st_mode);

	ASSERT_EQ(0, chmod(MNT("g"), 0700));
	ASSERT_EQ(0, stat(BACK("g"), &st));
	ASSERT_EQ(S_IFREG | 02700, st.st_mode);
}

/* ---- rename replaces only the target the VFS checked ---- */

#define OTHER_USER	1001	/* another unprivileged user */
#define STALE_MINE	"the caller's own file\n"
#define STALE_OTHERS	"another user's file\n"
#define STALE_SRC	"what the caller moves\n"

/* The daemon's side of user_rename: it swaps "target" under the rename. */
struct stale_swap {
	char dir[PATH_MAX];	/* the sticky directory, in the backing */
	int requests;		/* RENAME2 | FUSE_PREFILTER received */
	int swap_error;		/* errno of the exchange, 0 when done */
	bool swapped;
};

static int stale_swap_hook(struct ftd *d, const struct fuse_in_header *in,
			   const void *arg, size_t len, void *priv)
{
	static const char names[] = "src\0target";	/* both NULs sent */
	const struct fuse_rename2_in *r = arg;
	char target[PATH_MAX + 16], other[PATH_MAX + 16];
	struct stale_swap *s = priv;

	if (in->opcode != (FUSE_RENAME2 | FUSE_PREFILTER))
		return FTD_DEFAULT;
	s->requests++;
	if (len != sizeof(*r) + sizeof(names) ||
	    memcmp(r + 1, names, sizeof(names)))
		return -EINVAL;
	/*
	 * The VFS has checked "target" (the caller's own file) for the
	 * caller; the other user's file takes its name now. Only once: a
	 * second rename must see the name as it is.
	 */
	if (!s->swapped) {
		snprintf(target, sizeof(target), "%s/target", s->dir);
		snprintf(other, sizeof(other), "%s/other", s->dir);
		s->swap_error = renameat2(AT_FDCWD, target, AT_FDCWD, other,
					  RENAME_EXCHANGE) ? errno : 0;
		s->swapped = true;
	}
	/* the in-arguments, unchanged */
	return ftd_reply(d, in->unique, 0, arg, len) ?: FTD_HANDLED;
}

/*
 * In a sticky directory, the caller renames its "src" over its own
 * "target". Between the VFS's checks (sticky bit, may_delete()) and the
 * backing rename, the daemon's userspace prefilter exchanges "target"
 * with another user's file in the backing directory: the rename must not
 * replace a file the caller could not have removed. fuse-bpf fails it
 * with -ESTALE; the VFS then retries the rename once (retry_estale(),
 * LOOKUP_REVAL), the dentry of "target" no longer names its backing
 * dentry, and the new lookup finds the other user's file, which the
 * sticky bit keeps: the caller gets EPERM, as on the bare backing.
 */
TEST_F(filter, rename_stale_target)
{
	struct stale_swap s = {};
	struct ftd_config cfg = {
		.hook = stale_swap_hook,
		.hook_priv = &s,
	};
	struct stat mine, others, src, st;
	int ret;

	if (!variant->daemon)
		SKIP(return, "needs a daemon");
	ASSERT_EQ(0, mkdir(BACK("t"), 0755));
	ASSERT_EQ(0, chmod(BACK("t"), 01777));
	put_str(_metadata, BACK("t/target"), STALE_MINE);
	ASSERT_EQ(0, chown(BACK("t/target"), CALLER, CALLER));
	put_str(_metadata, BACK("t/other"), STALE_OTHERS);
	ASSERT_EQ(0, chown(BACK("t/other"), OTHER_USER, OTHER_USER));
	/*
	 * Made by root and given to the caller, not created through the
	 * mount: this test is about the target, whoever creates files.
	 */
	put_str(_metadata, BACK("t/src"), STALE_SRC);
	ASSERT_EQ(0, chown(BACK("t/src"), CALLER, CALLER));
	ASSERT_EQ(0, stat(BACK("t/target"), &mine));
	ASSERT_EQ(0, stat(BACK("t/other"), &others));
	ASSERT_EQ(0, stat(BACK("t/src"), &src));
	snprintf(s.dir, sizeof(s.dir), "%s", BACK("t"));
	ALLOW_OTHER();
	FILTER_MOUNT(self->skel->maps.user_rename, NULL, &cfg);

	/* the caller may replace its own file: the VFS lets it through */
	ret = AS_CALLER(rename(MNT("t/src"), MNT("t/target")));

	/* the prefilter ran once, and the daemon made the exchange */
	ASSERT_EQ(1, s.requests);
	ASSERT_EQ(1, self->skel->bss->rename_calls);
	ASSERT_TRUE(s.swapped);
	ASSERT_EQ(0, s.swap_error) TH_LOG("RENAME_EXCHANGE: %s",
					  strerror(s.swap_error));

	/* the other user's file is intact, now named "target" */
	ASSERT_EQ(0, stat(BACK("t/target"), &st));
	ASSERT_EQ(others.st_ino, st.st_ino)
		TH_LOG("the rename (result: %s) replaced the other user's file with %s",
		       ret < 0 ? "child failed" : strerror(ret),
		       st.st_ino == src.st_ino ? "the caller's \"src\"" :
						 "another file");
	ASSERT_EQ(OTHER_USER, st.st_uid);
	CHECK_FILE(BACK("t/target"), STALE_OTHERS);
	/* the caller's files are where the exchange left them */
	ASSERT_EQ(0, stat(BACK("t/other"), &st));
	ASSERT_EQ(mine.st_ino, st.st_ino);
	CHECK_FILE(BACK("t/other"), STALE_MINE);
	ASSERT_EQ(0, stat(BACK("t/src"), &st));
	ASSERT_EQ(src.st_ino, st.st_ino);
	CHECK_FILE(BACK("t/src"), STALE_SRC);

	/* the caller is told what the bare backing tells it now */
	ASSERT_EQ(EPERM, AS_CALLER(rename(BACK("t/src"), BACK("t/target"))));
	ASSERT_EQ(EPERM, ret) TH_LOG("rename: %s, expected %s",
				     ret < 0 ? "child failed" : strerror(ret),
				     strerror(EPERM));
	/* and it reached no filter again */
	ASSERT_EQ(1, s.requests);
	ASSERT_EQ(1, self->skel->bss->rename_calls);
}

/* The type of a write lock on the backing "visible" that @checker sees. */
static short backing_lock(int checker)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(checker, F_OFD_GETLK, &fl))
		return -1;
	return fl.l_type;
}

/*
 * A POSIX lock taken through the mount is on the backing file: it must go
 * with the close, whatever the flush filter returned. The close must fail
 * with @close_err (0: succeed).
 */
static void flush_drops_locks(struct __test_metadata *_metadata,
			      FIXTURE_DATA(filter) *self, int close_err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, checker, ret, err;
	short type;

	/*
	 * Opened before the close: a leaked lock's file is freed then, and
	 * an OFD owner allocated after it could be at its address.
	 */
	checker = open(BACK("visible"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, checker);
	fd = open(MNT("visible"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETLK, &fl));
	ASSERT_EQ(F_WRLCK, backing_lock(checker))
		TH_LOG("the lock is not on the backing file");

	errno = 0;
	ret = close(fd);
	err = ret ? errno : 0;
	type = backing_lock(checker);
	/*
	 * A leaked lock is still ours (current->files): unlock it here, so
	 * that /proc/locks never shows a lock whose file is gone.
	 */
	if (type != F_UNLCK) {
		fl.l_type = F_UNLCK;
		fcntl(checker, F_SETLK, &fl);
	}
	EXPECT_EQ(close_err, err) TH_LOG("close: %s, expected %s",
					 strerror(err), strerror(close_err));
	ASSERT_EQ(F_UNLCK, type) TH_LOG("the lock outlived the close");
	ASSERT_EQ(0, close(checker));
}

/* The flush filter fails: the close says so, and the lock goes. */
TEST_F(filter, flush_error_unlocks)
{
	FILTER_MOUNT(self->skel->maps.flush_fail, NULL, NULL);
	flush_drops_locks(_metadata, self, EIO);
}

/*
 * The flush filter sends the flush to the server (which answers 0), or
 * without a daemon to nobody (ENOTCONN): the lock goes.
 */
TEST_F(filter, flush_user_unlocks)
{
	FILTER_MOUNT(self->skel->maps.flush_user, NULL, NULL);
	flush_drops_locks(_metadata, self, variant->daemon ? 0 : ENOTCONN);
}

/*
 * A lookup filter deciding by the caller holds for a dentry another
 * caller left in the cache: revalidation runs it again.
 */
TEST_F(filter, revalidate_by_caller)
{
	struct stat st, back;

	ALLOW_OTHER();
	FILTER_MOUNT(self->skel->maps.hide_nonroot, NULL, NULL);
	ASSERT_EQ(0, AS_CALLER(stat(MNT("visible"), &st)));
	/* not cached: the lookup filter decides */
	ASSERT_EQ(ENOENT, AS_CALLER(stat(MNT("secret1"), &st)));
	/* root finds it, and the dentry stays in the cache */
	ASSERT_EQ(0, stat(MNT("secret1"), &st));
	ASSERT_EQ(0, stat(BACK("secret1"), &back));
	ASSERT_EQ(back.st_ino, st.st_ino);
	ASSERT_EQ(ENOENT, AS_CALLER(stat(MNT("secret1"), &st)));
	ASSERT_EQ(ENOENT, AS_CALLER(open(MNT("secret1"), O_RDONLY)));
	ASSERT_EQ(0, stat(MNT("secret1"), &st));
	CHECK_FILE(MNT("secret1"), "hidden\n");
}

/*
 * An access filter deciding by the caller holds on every walk, those of
 * paths already in the cache (RCU walk) included, and is asked for each
 * directory searched.
 */
TEST_F(filter, access_by_caller)
{
	struct stat st;
	__u32 n;

	ALLOW_OTHER();
	put_str(_metadata, BACK("d/f"), VISIBLE_DATA);
	FILTER_MOUNT(self->skel->maps.nosearch, NULL, NULL);
	ASSERT_EQ(0, stat(MNT("d/f"), &st));
	ASSERT_EQ(0, stat(MNT("d/f"), &st));
	n = self->skel->bss->access_calls;
	ASSERT_EQ(0, stat(MNT("d/f"), &st));
	/* the root and d searched */
	ASSERT_EQ(n + 2, self->skel->bss->access_calls);
	ASSERT_EQ(EACCES, AS_CALLER(stat(MNT("d/f"), &st)));
	ASSERT_EQ(EACCES, AS_CALLER(stat(MNT("visible"), &st)));
	/* the backing lets the caller search */
	ASSERT_EQ(0, AS_CALLER(stat(BACK("d/f"), &st)));
	ASSERT_EQ(0, stat(MNT("d/f"), &st));
}

/*
 * A prefilter that changes an operation's fixed in-argument and lets it
 * go on: the backing check is of what the filter left. exec_too adds
 * search/execute to every access check; the registered credentials (root)
 * have it on directories, not on a file without an x bit, which the
 * caller may read in the backing.
 */
TEST_F(filter, prefilter_changes_mask)
{
	struct stat st;
	__u32 n;

	ALLOW_OTHER();
	put_str(_metadata, BACK("d/f"), VISIBLE_DATA);
	ASSERT_EQ(0, chmod(BACK("d/f"), 0644));
	FILTER_MOUNT(self->skel->maps.exec_too, NULL, NULL);
	n = self->skel->bss->access_calls;
	/* directories are searched, twice (the second walk may be RCU's) */
	ASSERT_EQ(0, AS_CALLER(stat(MNT("d/f"), &st)));
	ASSERT_EQ(0, AS_CALLER(stat(MNT("d/f"), &st)));
	ASSERT_LE(n + 4, self->skel->bss->access_calls);
	/* the file: read asked, read and execute checked */
	ASSERT_EQ(EACCES, AS_CALLER(access(MNT("d/f"), R_OK)));
	ASSERT_EQ(EACCES, AS_CALLER(open(MNT("d/f"), O_RDONLY)));
	ASSERT_EQ(0, AS_CALLER(access(BACK("d/f"), R_OK)));
	/* with an x bit the changed check passes */
	ASSERT_EQ(0, chmod(BACK("d/f"), 0755));
	ASSERT_EQ(0, AS_CALLER(access(MNT("d/f"), R_OK)));
	CHECK_FILE(MNT("d/f"), VISIBLE_DATA);
}

/*
 * A lookup filter's refusal for one caller fails that caller's walk: it
 * does not invalidate the dentry, which would detach whatever is mounted
 * on it for everybody (d_invalidate()). Root mounts a tmpfs on "secret1",
 * which uid 1000 may not see.
 */
TEST_F(filter, revalidate_keeps_mounts)
{
	struct stat st, fuse_st, tmp_st;
	int ret;

	/* a directory, to mount on */
	ASSERT_EQ(0, unlink(BACK("secret1")));
	ASSERT_EQ(0, mkdir(BACK("secret1"), 0755));
	ALLOW_OTHER();
	FILTER_MOUNT(self->skel->maps.hide_nonroot, NULL, NULL);
	ASSERT_EQ(0, stat(MNT("secret1"), &fuse_st));
	ASSERT_EQ(self->e.dev, fuse_st.st_dev);
	ASSERT_EQ(0, mount("fuse_bpf_over", MNT("secret1"), "tmpfs", 0,
			   "size=1m,mode=0755"))
		TH_LOG("mount on secret1: %s", strerror(errno));
	put_str(_metadata, MNT("secret1/marker"), "on top\n");
	/* root sees the tmpfs, through the cached dentry */
	ASSERT_EQ(0, stat(MNT("secret1"), &tmp_st));
	ASSERT_NE(self->e.dev, tmp_st.st_dev);

	ret = AS_CALLER(stat(MNT("secret1"), &st));
	EXPECT_EQ(ENOENT, ret) TH_LOG("uid 1000's stat: %s",
				      ret < 0 ? "child failed" : strerror(ret));
	ASSERT_EQ(ENOENT, AS_CALLER(stat(MNT("secret1/marker"), &st)));

	/* the tmpfs is still mounted there, for root */
	ASSERT_EQ(0, stat(MNT("secret1"), &st));
	EXPECT_EQ(tmp_st.st_dev, st.st_dev)
		TH_LOG("uid 1000's stat detached the mount on secret1");
	EXPECT_EQ(0, stat(MNT("secret1/marker"), &st));
	ASSERT_EQ(0, umount2(MNT("secret1"), 0))
		TH_LOG("umount secret1: %s", strerror(errno));
	/* and the dentry is root's, as before */
	ASSERT_EQ(0, stat(MNT("secret1"), &st));
	ASSERT_EQ(fuse_st.st_ino, st.st_ino);
	ASSERT_EQ(self->e.dev, st.st_dev);
}

/* ---- a prefilter may narrow what a caller asks for, never widen it ---- */

/* Is there anything at @path (lstat)? */
static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/*
 * The "widen" prefilters (progs/filters.bpf.c) try to give the caller's
 * new objects more than it asked for: the backing call runs with the
 * registered credentials' capabilities (CAP_MKNOD, CAP_FSETID), so what
 * they add must be refused, not done for the caller. In a set-group-ID
 * directory of a group the caller is not in, bare, the caller can make
 * no device and its new files no S_ISGID.
 */
TEST_F(filter, prefilter_cannot_widen)
{
	struct stat st, src1, src2, exch2;
	__u32 calls;
	int ret;

	ASSERT_EQ(0, mkdir(BACK("g"), 0755));
	ASSERT_EQ(0, chown(BACK("g"), 0, GRP_NOT_MINE));
	ASSERT_EQ(0, chmod(BACK("g"), 02777));
	/* given to the caller by root: this test is not about new owners */
	put_str(_metadata, BACK("g/src1"), VISIBLE_DATA);
	put_str(_metadata, BACK("g/src2"), VISIBLE_DATA);
	put_str(_metadata, BACK("g/exch2"), TARGET_DATA);
	put_str(_metadata, BACK("g/src3"), VISIBLE_DATA);
	ASSERT_EQ(0, chown(BACK("g/src1"), CALLER, CALLER));
	ASSERT_EQ(0, chown(BACK("g/src2"), CALLER, CALLER));
	ASSERT_EQ(0, chown(BACK("g/exch2"), CALLER, CALLER));
	ASSERT_EQ(0, chown(BACK("g/src3"), CALLER, CALLER));
	ASSERT_EQ(0, lstat(BACK("g/src1"), &src1));
	ASSERT_EQ(0, lstat(BACK("g/src2"), &src2));
	ASSERT_EQ(0, lstat(BACK("g/exch2"), &exch2));

	/*
	 * bare: the caller may not make a device, nor keep S_ISGID (with
	 * S_IXGRP: without, it marks mandatory locking) in a group not its own
	 */
	ASSERT_EQ(EPERM, AS_CALLER(mknod(BACK("g/bare_dev"), S_IFCHR | 0644,
					 makedev(1, 3))));
	ASSERT_EQ(0, AS_CALLER(mknod(BACK("g/bare_fifo"), S_IFIFO | 06755, 0)));
	ASSERT_EQ(0, lstat(BACK("g/bare_fifo"), &st));
	ASSERT_EQ(S_IFIFO | 04755, st.st_mode);

	ALLOW_OTHER();
	FILTER_MOUNT(self->skel->maps.widen, NULL, NULL);

	/* (a) a FIFO turned into a character device */
	calls = self->skel->bss->widen_calls;
	ret = AS_CALLER(mknod(MNT("g/dev"), S_IFIFO | 0644, 0));
	ASSERT_LT(calls, self->skel->bss->widen_calls);
	if (!lstat(BACK("g/dev"), &st))
		TH_LOG("made g/dev: mode %o, rdev %u:%u, owner %u:%u",
		       st.st_mode, major(st.st_rdev), minor(st.st_rdev),
		       st.st_uid, st.st_gid);
	EXPECT_EQ(EPERM, ret) TH_LOG("mknod: %s",
				     ret < 0 ? "child failed" : strerror(ret));
	EXPECT_FALSE(exists(BACK("g/dev")));
	EXPECT_FALSE(exists(MNT("g/dev")));

	/* (b) S_ISUID | S_ISGID added to mknod, create and mkdir */
	ret = AS_CALLER(mknod(MNT("g/suid_fifo"), S_IFIFO | 0755, 0));
	if (!lstat(BACK("g/suid_fifo"), &st))
		TH_LOG("made g/suid_fifo: mode %o, owner %u:%u", st.st_mode,
		       st.st_uid, st.st_gid);
	EXPECT_EQ(EPERM, ret) TH_LOG("mknod: %s",
				     ret < 0 ? "child failed" : strerror(ret));
	EXPECT_FALSE(exists(BACK("g/suid_fifo")));

	ret = AS_CALLER(open(MNT("g/suid_file"),
			     O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0755));
	if (!lstat(BACK("g/suid_file"), &st))
		TH_LOG("made g/suid_file: mode %o, owner %u:%u", st.st_mode,
		       st.st_uid, st.st_gid);
	EXPECT_EQ(EPERM, ret) TH_LOG("open(O_CREAT): %s",
				     ret < 0 ? "child failed" : strerror(ret));
	EXPECT_FALSE(exists(BACK("g/suid_file")));

	/* the backing's vfs_mkdir() drops them: refused all the same */
	ret = AS_CALLER(mkdir(MNT("g/suid_dir"), 0755));
	if (!lstat(BACK("g/suid_dir"), &st))
		TH_LOG("made g/suid_dir: mode %o, owner %u:%u", st.st_mode,
		       st.st_uid, st.st_gid);
	EXPECT_EQ(EPERM, ret) TH_LOG("mkdir: %s",
				     ret < 0 ? "child failed" : strerror(ret));
	EXPECT_FALSE(exists(BACK("g/suid_dir")));

	/* (c) RENAME_WHITEOUT and RENAME_EXCHANGE added to a plain rename */
	ret = AS_CALLER(rename(MNT("g/src1"), MNT("g/white1")));
	if (!lstat(BACK("g/src1"), &st) && S_ISCHR(st.st_mode))
		TH_LOG("a whiteout in place of g/src1, owner %u:%u",
		       st.st_uid, st.st_gid);
	EXPECT_EQ(EPERM, ret) TH_LOG("rename to white1: %s",
				     ret < 0 ? "child failed" : strerror(ret));
	EXPECT_FALSE(exists(BACK("g/white1")));
	EXPECT_EQ(0, lstat(BACK("g/src1"), &st));
	EXPECT_EQ(src1.st_ino, st.st_ino);

	ret = AS_CALLER(rename(MNT("g/src2"), MNT("g/exch2")));
	EXPECT_EQ(EPERM, ret) TH_LOG("rename to exch2: %s",
				     ret < 0 ? "child failed" : strerror(ret));
	EXPECT_EQ(0, lstat(BACK("g/src2"), &st));
	EXPECT_EQ(src2.st_ino, st.st_ino) TH_LOG("src2 and exch2 exchanged");
	EXPECT_EQ(0, lstat(BACK("g/exch2"), &st));
	EXPECT_EQ(exch2.st_ino, st.st_ino);

	/* what they leave alone or narrow is done */
	ASSERT_EQ(0, AS_CALLER(rename(MNT("g/src3"), MNT("g/plain3"))));
	CHECK_FILE(BACK("g/plain3"), VISIBLE_DATA);
	EXPECT_FALSE(exists(BACK("g/src3")));
	ASSERT_EQ(0, AS_CALLER(mknod(MNT("g/fifo"), S_IFIFO | 0644, 0)));
	ASSERT_EQ(0, lstat(BACK("g/fifo"), &st));
	EXPECT_EQ(S_IFIFO | 0644, st.st_mode);
	ASSERT_EQ(0, AS_CALLER(mknod(MNT("g/narrow_fifo"), S_IFIFO | 0644, 0)));
	ASSERT_EQ(0, lstat(BACK("g/narrow_fifo"), &st));
	EXPECT_EQ(S_IFIFO | 0600, st.st_mode);
	ASSERT_EQ(0, AS_CALLER(mkdir(MNT("g/narrow_dir"), 0755)));
	ASSERT_EQ(0, lstat(BACK("g/narrow_dir"), &st));
	/* S_ISGID from the directory */
	EXPECT_EQ(S_IFDIR | 02700, st.st_mode);
}

/*
 * Revalidation runs a lookup filter once per walk (without leaving RCU
 * walk when the filter lets the name through as it is) and keeps the node
 * while its backing is in place; a rename in the backing tree still
 * invalidates it.
 */
TEST_F(filter, revalidate_filter_once)
{
	struct stat st, first;
	__u32 n;

	FILTER_MOUNT(self->skel->maps.count_lookups, NULL, NULL);
	ASSERT_EQ(0, stat(MNT("visible"), &first));
	n = self->skel->bss->lookup_calls;
	ASSERT_LE(1, n);
	ASSERT_EQ(0, stat(MNT("visible"), &st));
	ASSERT_EQ(n + 1, self->skel->bss->lookup_calls);
	ASSERT_EQ(first.st_ino, st.st_ino);
	ASSERT_EQ(0, rename(BACK("visible"), BACK("moved")));
	ASSERT_FAILS(ENOENT, stat(MNT("visible"), &st));
	ASSERT_EQ(0, stat(MNT("moved"), &st));
	ASSERT_EQ(first.st_ino, st.st_ino);
	CHECK_FILE(MNT("moved"), VISIBLE_DATA);
}

/* A policy that replaces another holds for the dentries in the cache. */
TEST_F(filter, revalidate_after_update)
{
	struct stat st;
	int fd;

	FILTER_MOUNT(self->skel->maps.count, NULL, NULL);
	ASSERT_EQ(0, stat(MNT("secret1"), &st));
	fd = open(MNT("secret1"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, update(&self->e, self->pre, self->skel->maps.hide))
		TH_LOG("BPF_LINK_UPDATE: %s", strerror(errno));
	ASSERT_FAILS(ENOENT, stat(MNT("secret1"), &st));
	ASSERT_FAILS(ENOENT, open(MNT("secret1"), O_RDONLY));
	CHECK_FILE(MNT("visible"), VISIBLE_DATA);
	/* a file open before stays open */
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, close(fd));
}

/*
 * A symlink prefilter shrinking the target after opening it for writing:
 * the link holds the shrunk target, not the old bytes past its end.
 */
TEST_F(filter, symlink_shrunk_target)
{
	char buf[64];
	ssize_t n;

	FILTER_MOUNT(self->skel->maps.shrink_symlink, NULL, NULL);
	ASSERT_EQ(0, symlink("abcdefgh", MNT("link")));
	n = readlink(MNT("link"), buf, sizeof(buf));
	ASSERT_EQ(FILTERS_SHRUNK_LEN, n)
		TH_LOG("readlink through the mount: \"%.*s\"", (int)MAX(n, 0),
		       buf);
	ASSERT_EQ(0, memcmp(buf, "abc", FILTERS_SHRUNK_LEN));
	n = readlink(BACK("link"), buf, sizeof(buf));
	ASSERT_EQ(FILTERS_SHRUNK_LEN, n)
		TH_LOG("readlink of the backing: \"%.*s\"", (int)MAX(n, 0),
		       buf);
	ASSERT_EQ(0, memcmp(buf, "abc", FILTERS_SHRUNK_LEN));
	/* a target no longer than that is not touched */
	ASSERT_EQ(0, symlink("ab", MNT("link2")));
	ASSERT_EQ(2, readlink(BACK("link2"), buf, sizeof(buf)));
}

/* ---- filters set, removed and inherited by LOOKUP replies ---- */

/*
 * The daemon serves the root, which has the hide filters of the mount
 * options but no backing. Its LOOKUP replies back "dir*" by the same
 * backing directory, with the filters the test asks for.
 */
static const struct ftd_entry ops_tree[] = {
	{ "inherit", S_IFDIR | 0755 },
	{ "none", S_IFDIR | 0755 },
	{ "set", S_IFDIR | 0755 },
	{ "closed", S_IFDIR | 0755 },
	{ NULL }
};

struct ops_replies {
	int backing_id;
	int ops_id;		/* for "set" and "closed" */
};

static int ops_hook(struct ftd *d, const struct fuse_in_header *in,
		    const void *arg, size_t len, void *priv)
{
	struct ops_replies *r = priv;
	const char *name = arg;

	if (in->opcode != FUSE_LOOKUP || in->nodeid != FUSE_ROOT_ID)
		return FTD_DEFAULT;
	if (!strcmp(name, "none"))
		return reply_backed(d, in, name, r->backing_id,
				    FUSE_BPF_ENTRY_NO_OPS, 0);
	if (!strcmp(name, "set") || !strcmp(name, "closed"))
		return reply_backed(d, in, name, r->backing_id,
				    FUSE_BPF_ENTRY_SET_OPS, r->ops_id);
	return reply_backed(d, in, name, r->backing_id, 0, 0);
}

FIXTURE(filter_ops) {
	struct env e;
	struct filters *skel;
	struct bpf_link *hide;
	struct bpf_link *hide_post;
	struct bpf_link *ro;
	struct ops_replies r;
};

FIXTURE_SETUP(filter_ops)
{
	int err = 0;

	umask(022);
	ASSERT_EQ(0, env_backing(&self->e))
		TH_LOG("backing tmpfs: %s", strerror(errno));
	put_str(_metadata, BACK("visible"), VISIBLE_DATA);
	put_str(_metadata, BACK("secret1"), "hidden\n");
	ASSERT_EQ(0, mkdir(BACK("sub"), 0755));
	put_str(_metadata, BACK("sub/secret2"), "hidden too\n");
	put_str(_metadata, BACK("sub/shown"), VISIBLE_DATA);
	/* the root's: hide and hide_post, id 1; readonly is id 2 */
	self->skel = filters__open();
	ASSERT_NE(NULL, self->skel);
	bind_maps(self->skel, 1);
	bind_map(self->skel->maps.readonly, 2);
	bind_map(self->skel->maps.noread, 3);
	ASSERT_EQ(0, filters__load(self->skel));

	snprintf(self->e.opts, sizeof(self->e.opts), "fuse_bpf,ops=1");
	self->e.cfg.entries = ops_tree;
	self->e.cfg.mount_opts = self->e.opts;
	self->e.cfg.hook = ops_hook;
	self->e.cfg.hook_priv = &self->r;
	self->e.d = ftd_start(&self->e.cfg);
	if (!self->e.d)
		err = errno;
	ASSERT_EQ(0, err) TH_LOG("daemon mount with filters: %s",
				 strerror(err));
	snprintf(self->e.mnt, sizeof(self->e.mnt), "%s", self->e.d->mnt);
	self->hide = attach(&self->e, self->skel->maps.hide);
	self->hide_post = attach(&self->e, self->skel->maps.hide_post);
	self->ro = attach(&self->e, self->skel->maps.readonly);
	ASSERT_TRUE(self->hide && self->hide_post && self->ro)
		TH_LOG("attach: %s", strerror(errno));

	self->r.backing_id = backing_register(self->e.d, self->e.back,
					      O_RDONLY | O_DIRECTORY);
	ASSERT_LT(0, self->r.backing_id) TH_LOG("%s", strerror(errno));
	self->r.ops_id = 2;
	ftd_log_clear(self->e.d);
}

FIXTURE_TEARDOWN(filter_ops)
{
	if (_metadata->exit_code == KSFT_PASS && self->e.d)
		env_check_shutdown(_metadata, &self->e);
	env_cleanup(&self->e);
	bpf_link__destroy(self->hide);
	bpf_link__destroy(self->hide_post);
	bpf_link__destroy(self->ro);
	filters__destroy(self->skel);
}

/* Only the LOOKUPs of the root's children reached the daemon. */
static void check_only_root_lookups(struct __test_metadata *_metadata,
				    struct ftd *d)
{
	static struct ftd_log_entry log[FTD_LOG_MAX];
	char buf[FTD_LOG_BUF];
	int i, n = ftd_log_get(d, log, FTD_LOG_MAX);

	for (i = 0; i < n && i < FTD_LOG_MAX; i++) {
		if (log[i].opcode == FUSE_LOOKUP &&
		    log[i].nodeid == FUSE_ROOT_ID)
			continue;
		if (log[i].opcode == FUSE_FORGET ||
		    log[i].opcode == FUSE_BATCH_FORGET)
			continue;
		ASSERT_TRUE(false) TH_LOG("requests for backed nodes: %s",
					  ftd_log_str(d, buf, sizeof(buf)));
	}
}

/* A reply without flags: the node gets the filters of its directory. */
TEST_F(filter_ops, inherit)
{
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", MNT("inherit"));
	ASSERT_FAILS(ENOENT, stat(MNT("inherit/secret1"), &st));
	CHECK_FILE(MNT("inherit/visible"), VISIBLE_DATA);
	check_listing_without_secrets(_metadata, dir, self->e.back);
	/* and the nodes found below it, by the kernel, get them too */
	ASSERT_FAILS(ENOENT, stat(MNT("inherit/sub/secret2"), &st));
	CHECK_FILE(MNT("inherit/sub/shown"), VISIBLE_DATA);
	ASSERT_FALSE(dir_has(MNT("inherit/sub"), "secret2"));
	ASSERT_TRUE(dir_has(MNT("inherit/sub"), "shown"));
	ASSERT_LT(0, self->skel->bss->lookup_calls);
	check_only_root_lookups(_metadata, self->e.d);
}

/* FUSE_BPF_ENTRY_NO_OPS: no filters, not even the inherited ones. */
TEST_F(filter_ops, no_ops)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", MNT("none"));
	CHECK_FILE(MNT("none/secret1"), "hidden\n");
	CHECK_FILE(MNT("none/sub/secret2"), "hidden too\n");
	check_same_listing(_metadata, dir, self->e.back);
	ASSERT_EQ(0, self->skel->bss->lookup_calls);
	ASSERT_EQ(0, self->skel->bss->readdir_calls);
	check_only_root_lookups(_metadata, self->e.d);
}

/*
 * FUSE_BPF_ENTRY_SET_OPS: the filters of the ops id replace the
 * inherited ones, for the node and the nodes below it.
 */
TEST_F(filter_ops, set_ops)
{
	struct stat st;

	CHECK_FILE(MNT("set/secret1"), "hidden\n");
	ASSERT_FAILS(EROFS, open(MNT("set/visible"), O_WRONLY));
	ASSERT_FAILS(EROFS, mkdir(MNT("set/new"), 0755));
	ASSERT_FAILS(EROFS, unlink(MNT("set/sub/shown")));
	ASSERT_FAILS(EROFS, open(MNT("set/sub/new"), O_CREAT | O_WRONLY,
				 0644));
	ASSERT_EQ(0, self->skel->bss->lookup_calls);
	/* the mount's own filters still hold where they were inherited */
	ASSERT_FAILS(ENOENT, stat(MNT("inherit/secret1"), &st));
	/* and nothing reached the backing tree */
	ASSERT_FAILS(ENOENT, stat(BACK("new"), &st));
	ASSERT_FAILS(ENOENT, stat(BACK("sub/new"), &st));
	CHECK_FILE(BACK("sub/shown"), VISIBLE_DATA);
	check_only_root_lookups(_metadata, self->e.d);
}

/*
 * No rename or link between directories with different filters: neither
 * side's filters could decide for the other (mv falls back to a copy,
 * which the read-only side refuses).
 */
TEST_F(filter_ops, cross_policy)
{
	struct stat st;

	ASSERT_FAILS(EXDEV, rename(MNT("none/visible"), MNT("set/moved")));
	ASSERT_FAILS(EXDEV, link(MNT("none/visible"), MNT("set/hard")));
	ASSERT_FAILS(EXDEV, rename(MNT("set/visible"), MNT("none/moved")));
	ASSERT_FAILS(EROFS, open(MNT("set/moved"), O_CREAT | O_WRONLY, 0644));
	ASSERT_FAILS(ENOENT, stat(BACK("moved"), &st));
	ASSERT_FAILS(ENOENT, stat(BACK("hard"), &st));
	CHECK_FILE(BACK("visible"), VISIBLE_DATA);
	/* within one policy they work */
	ASSERT_EQ(0, rename(MNT("none/sub/shown"), MNT("none/shown2")));
	ASSERT_EQ(0, link(MNT("none/shown2"), MNT("none/sub/shown")));
	ASSERT_EQ(0, stat(BACK("shown2"), &st));
	ASSERT_EQ(2, st.st_nlink);
}

/*
 * An ops id no map was attached with (and no mount option names) is not
 * one of the connection's: a reply naming it fails the lookup with
 * ENOENT, and nodes that have other ids keep theirs.
 */
TEST_F(filter_ops, unknown_id)
{
	struct stat st;

	ASSERT_EQ(0, stat(MNT("set"), &st));
	self->r.ops_id = 99;
	ASSERT_FAILS(ENOENT, stat(MNT("closed"), &st));
	ASSERT_FAILS(EROFS, mkdir(MNT("set/new"), 0755));
	ASSERT_FAILS(ENOENT, stat(BACK("new"), &st));
	/* the root and its other children are not affected */
	CHECK_FILE(MNT("none/secret1"), "hidden\n");
}

/*
 * Detaching the filters a node has by an ops id: the node refuses every
 * operation (never unfiltered), a LOOKUP naming the id gives such a node
 * too, and the mount's own filters are not affected.
 */
TEST_F(filter_ops, detach_set)
{
	struct stat st;

	ASSERT_FAILS(EROFS, mkdir(MNT("set/new"), 0755));
	ASSERT_EQ(0, bpf_link__destroy(self->ro));
	self->ro = NULL;
	ASSERT_FAILS(ENOTCONN, mkdir(MNT("set/new"), 0755));
	ASSERT_FAILS(ENOENT, stat(BACK("new"), &st));
	ASSERT_FAILS(ENOTCONN, stat(MNT("closed/visible"), &st));
	ASSERT_FAILS(ENOENT, stat(MNT("inherit/secret1"), &st));
	CHECK_FILE(MNT("none/secret1"), "hidden\n");
}

/*
 * copy_file_range from a directory whose filters refuse reads to one
 * without filters: the source's filters cannot be gone around; the copy
 * is refused (a copy by read and write, or splice, as cp falls back to,
 * runs them).
 */
TEST_F(filter_ops, copy_range_cross_policy)
{
	struct bpf_link *noread;
	char buf[64];
	int src, dst;
	struct stat st;

	put_str(_metadata, BACK("src"), VISIBLE_DATA);
	put_file(_metadata, BACK("dst"), "", 0);
	put_str(_metadata, BACK("src2"), VISIBLE_DATA);
	put_file(_metadata, BACK("dst2"), "", 0);
	noread = attach(&self->e, self->skel->maps.noread);
	ASSERT_NE(NULL, noread) TH_LOG("attach: %s", strerror(errno));
	/* "set" gets the noread filters, ops id 3 */
	self->r.ops_id = 3;

	src = open(MNT("set/src"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, src);
	ASSERT_FAILS(EACCES, read(src, buf, sizeof(buf)));
	dst = open(MNT("none/dst"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, dst);
	ASSERT_FAILS(EXDEV, copy_file_range(src, NULL, dst, NULL, sizeof(buf),
					    0));
	ASSERT_FAILS(EACCES, sendfile(dst, src, NULL, sizeof(buf)));
	ASSERT_EQ(0, fstat(dst, &st));
	ASSERT_EQ(0, st.st_size);
	ASSERT_EQ(0, close(src));
	ASSERT_EQ(0, close(dst));
	ASSERT_EQ(0, stat(BACK("dst"), &st));
	ASSERT_EQ(0, st.st_size) TH_LOG("the copy got the refused data");

	/* within one policy, the copy is the backing's */
	src = open(MNT("none/src2"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, src);
	dst = open(MNT("none/dst2"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, dst);
	ASSERT_EQ(strlen(VISIBLE_DATA),
		  copy_file_range(src, NULL, dst, NULL, sizeof(buf), 0));
	ASSERT_EQ(0, close(src));
	ASSERT_EQ(0, close(dst));
	CHECK_FILE(BACK("dst2"), VISIBLE_DATA);
	bpf_link__destroy(noread);
}

TEST(filter_mount_errors)
{
	struct env e;
	char opts[64];

	ASSERT_EQ(0, env_backing(&e));
	/* not an ops id */
	snprintf(opts, sizeof(opts), "no_daemon,ops=%d", 0);
	ASSERT_FAILS(EINVAL, mount_root_dir(e.back, e.mnt, opts));
	snprintf(opts, sizeof(opts), "no_daemon,ops=%u", 1U << 31);
	ASSERT_FAILS(EINVAL, mount_root_dir(e.back, e.mnt, opts));
	/* the old options are gone */
	snprintf(opts, sizeof(opts), "no_daemon,prefilters=%d", 3);
	ASSERT_FAILS(EINVAL, mount_root_dir(e.back, e.mnt, opts));
	env_cleanup(&e);
}

/* Run @cmd; its output, up to @size bytes, in @out. -1 if it failed. */
static int run_output(const char *cmd, char *out, size_t size)
{
	size_t len = 0, n;
	FILE *f = popen(cmd, "r");

	if (!f)
		return -1;
	while (len < size - 1 && (n = fread(out + len, 1, size - 1 - len, f)))
		len += n;
	out[len] = '\0';
	return pclose(f) ? -1 : 0;
}

/* Has the "ID: NAME TYPE" listing of bpftool a line for @name of @type? */
static bool listed(const char *out, const char *name, const char *type)
{
	char id[16], n[64], t[64];
	const char *line;

	for (line = out; line && *line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (sscanf(line, "%15s %63s %63s", id, n, t) == 3 &&
		    !strcmp(n, name) && !strcmp(t, type))
			return true;
	}
	return false;
}

/* bpftool lists loaded fuse-bpf maps and dumps their programs. */
TEST(filter_bpftool)
{
	static char out[65536];
	struct bpf_link *link;
	struct filters *skel;
	struct env e;

	if (system("command -v bpftool >/dev/null 2>&1"))
		SKIP(return, "no bpftool");
	/*
	 * bpftool (6.12's too) looks struct_ops value types up in vmlinux's
	 * BTF only; with fuse a module they are in fuse.ko's (and Debian's
	 * bpftool 7.1 crashes there).
	 */
	if (!access("/sys/kernel/btf/fuse", F_OK))
		SKIP(return, "fuse is a module: bpftool cannot show its struct_ops");
	ASSERT_EQ(0, env_backing(&e));
	ASSERT_EQ(0, mount_root_dir(e.back, e.mnt, "no_daemon,ops=1"));
	skel = filters_load();
	ASSERT_NE(NULL, skel);
	link = attach(&e, skel->maps.hide);
	ASSERT_NE(NULL, link) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(0, run_output("bpftool struct_ops show 2>&1", out,
				sizeof(out))) TH_LOG("%s", out);
	ASSERT_TRUE(listed(out, "hide", "fuse_bpf_prefilters"))
		TH_LOG("bpftool struct_ops show:\n%s", out);
	ASSERT_TRUE(listed(out, "hide_post", "fuse_bpf_postfilters"))
		TH_LOG("bpftool struct_ops show:\n%s", out);
	ASSERT_EQ(0, run_output("bpftool struct_ops dump name hide 2>&1", out,
				sizeof(out))) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "fuse_bpf_prefilters"))
		TH_LOG("bpftool struct_ops dump:\n%s", out);
	/* each member with the program in it */
	ASSERT_NE(NULL, strstr(out, ") hide_lookup/prog_id:"))
		TH_LOG("bpftool struct_ops dump:\n%s", out);
	ASSERT_NE(NULL, strstr(out, ") hide_readdir_pre/prog_id:"))
		TH_LOG("bpftool struct_ops dump:\n%s", out);
	bpf_link__destroy(link);
	filters__destroy(skel);
	env_cleanup(&e);
}

/* Programs the verifier must refuse, each for its own reason. */
TEST(filter_verifier)
{
	libbpf_print_fn_t old = libbpf_set_print(collect_log);

	/* a read-only name passed where a writable one is expected */
	ASSERT_REFUSED(bad_rdonly, "fuse_bpf_rdonly_buf");
	/* a read past the 4 bytes of a dynptr slice */
	ASSERT_REFUSED(bad_oob, "invalid access to memory");
	/* a postfilter writing an in-argument */
	ASSERT_REFUSED(bad_write_in, "a postfilter may not write fuse_access_in");
	/* a prefilter writing a field its operation does not use */
	ASSERT_REFUSED(bad_field, "a prefilter may not write fuse_getxattr_in at 0");
	/*
	 * READDIR's prefilter writing the size READ may write: the verifier
	 * tells them apart by type
	 */
	ASSERT_REFUSED(bad_readdir_size,
		       "a prefilter may not write fuse_bpf_readdir_in at 16");
	/* a program that is not a fuse filter calling a fuse-bpf kfunc */
	ASSERT_REFUSED(bad_kfunc, "calling kernel function bpf_fuse_buf_dynptr is not allowed");
	libbpf_set_print(old);
}

TEST_HARNESS_MAIN
