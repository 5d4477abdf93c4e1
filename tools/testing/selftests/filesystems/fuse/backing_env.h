/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test environment of the fuse-bpf tests (backing_test.c,
 * filter_test.c): a backing tmpfs, a fuse-bpf mount of it with or without
 * a daemon, and small file helpers that assert with the kselftest harness.
 * The harness is one translation unit per test, so the helpers are
 * static here, as in landlock/common.h.
 */
#ifndef __BACKING_ENV_H
#define __BACKING_ENV_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "fuse_test_daemon.h"

#ifndef __maybe_unused
#define __maybe_unused __attribute__((__unused__))
#endif

#define FUSE_SUPER_MAGIC	0x65735546
#define NOBODY			65534
/* node ids with this bit are the kernel's, for nodes the server never saw */
#define KERNEL_NODEID_BIT	0x8000000000000000ULL
#define EXT_SIZE		((int)sizeof(struct fuse_bpf_entry_out))

#define CONTENT		"Some text that lives in the backing tree.\n"
#define SERVER_DATA	"served by the daemon\n"
#define BFILE_DATA	"the registered backing file, not what the daemon has\n"
#define F1_DATA		"f1 in the backing directory\n"
#define NESTED_DATA	"nested two levels down\n"

#define MAX_DENTS	256
#define DIFF_OPS	2000

/* ---- small helpers ---- */

#define MNT(name)	path_in(self->e.mnt, name)
#define BACK(name)	path_in(self->e.back, name)

/* @call must fail with errno @err. */
#define ASSERT_FAILS(err, call) do {					\
	int __err = (err);						\
	long __ret;							\
	errno = 0;							\
	__ret = (long)(call);						\
	ASSERT_EQ(-1, __ret) TH_LOG("%s did not fail", #call);		\
	ASSERT_EQ(__err, errno) TH_LOG("%s: %s, expected %s", #call,	\
				       strerror(errno), strerror(__err)); \
} while (0)

#define PUT(path, str)		put_str(_metadata, path, str)
#define CHECK_FILE(path, str)	check_str(_metadata, path, str)

struct dirent64_raw {
	__u64 d_ino;
	__s64 d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct dent {
	char name[NAME_MAX + 1];
	__u64 ino;
	unsigned char type;
};

/* ---- the test environment: a backing tmpfs and a fuse-bpf mount ---- */

struct env {
	char base[64];		/* a tmpfs holding everything below */
	char back[96];		/* the backing directory, a tmpfs of its own */
	char mnt[96];		/* the fuse-bpf mount */
	bool base_mounted;
	dev_t dev;		/* st_dev of the fuse mount */
	struct ftd *d;		/* the daemon, if any */
	struct ftd_config cfg;
	char opts[96];
	char extra[48];		/* more mount options, ",a=b,..." */
	bool ops_pending;	/* ops= waits for maps: env_mount() cannot stat */
};

/* "@dir/@name" in one of a few rotating buffers. */
static __maybe_unused char *path_in(const char *dir, const char *name)
{
	static char paths[8][PATH_MAX];
	static unsigned int next;
	char *p = paths[next++ % ARRAY_SIZE(paths)];

	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

static __maybe_unused int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static __maybe_unused ssize_t read_all(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len < size) {
		n = read(fd, buf + len, size - len);
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	return len;
}

static __maybe_unused int make_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static __maybe_unused void fill_pattern(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = 'a' + (i / 7 + i * 13 + seed) % 26;
}

static __maybe_unused void put_file(struct __test_metadata *_metadata, const char *path,
				    const void *data, size_t len)
{
	ASSERT_EQ(0, make_file(path, data, len))
		TH_LOG("writing %s: %s", path, strerror(errno));
}

static __maybe_unused void check_file(struct __test_metadata *_metadata, const char *path,
				      const void *data, size_t len)
{
	char *buf = malloc(len + 16);
	ssize_t n;

	ASSERT_NE(NULL, buf);
	n = read_all(path, buf, len + 16);
	ASSERT_EQ(len, n) TH_LOG("%s: read %zd bytes (%s), expected %zu",
				 path, n, n < 0 ? strerror(errno) : "ok", len);
	ASSERT_EQ(0, memcmp(buf, data, len)) TH_LOG("%s: wrong data", path);
	free(buf);
}

static __maybe_unused void put_str(struct __test_metadata *_metadata, const char *path,
				   const char *str)
{
	put_file(_metadata, path, str, strlen(str));
}

static __maybe_unused void check_str(struct __test_metadata *_metadata, const char *path,
				     const char *str)
{
	check_file(_metadata, path, str, strlen(str));
}

/* Timestamp @what of @mnt_path is @back's, to the nanosecond. */
static __maybe_unused void check_time(struct __test_metadata *_metadata,
				      const char *mnt_path, const char *what,
				      const struct timespec *back,
				      const struct timespec *mnt)
{
	EXPECT_EQ(back->tv_sec, mnt->tv_sec) TH_LOG("%s: %s", mnt_path, what);
	EXPECT_EQ(back->tv_nsec, mnt->tv_nsec) TH_LOG("%s: %s", mnt_path, what);
}

/*
 * The node at @mnt_path must show the attributes of @back_path, with the
 * backing inode number and the fuse mount's device.
 */
static __maybe_unused void check_stat(struct __test_metadata *_metadata,
				      const char *mnt_path, const char *back_path, dev_t dev)
{
	struct stat m, b;

	ASSERT_EQ(0, lstat(mnt_path, &m))
		TH_LOG("lstat %s: %s", mnt_path, strerror(errno));
	ASSERT_EQ(0, lstat(back_path, &b))
		TH_LOG("lstat %s: %s", back_path, strerror(errno));
	EXPECT_EQ(b.st_ino, m.st_ino) TH_LOG("%s: st_ino", mnt_path);
	EXPECT_EQ(dev, m.st_dev) TH_LOG("%s: st_dev", mnt_path);
	EXPECT_NE(b.st_dev, m.st_dev) TH_LOG("%s: st_dev", mnt_path);
	EXPECT_EQ(b.st_mode, m.st_mode) TH_LOG("%s: st_mode", mnt_path);
	EXPECT_EQ(b.st_nlink, m.st_nlink) TH_LOG("%s: st_nlink", mnt_path);
	EXPECT_EQ(b.st_uid, m.st_uid) TH_LOG("%s: st_uid", mnt_path);
	EXPECT_EQ(b.st_gid, m.st_gid) TH_LOG("%s: st_gid", mnt_path);
	EXPECT_EQ(b.st_rdev, m.st_rdev) TH_LOG("%s: st_rdev", mnt_path);
	EXPECT_EQ(b.st_size, m.st_size) TH_LOG("%s: st_size", mnt_path);
	EXPECT_EQ(b.st_blocks, m.st_blocks) TH_LOG("%s: st_blocks", mnt_path);
	EXPECT_EQ(b.st_blksize, m.st_blksize)
		TH_LOG("%s: st_blksize", mnt_path);
	check_time(_metadata, mnt_path, "atime", &b.st_atim, &m.st_atim);
	check_time(_metadata, mnt_path, "mtime", &b.st_mtim, &m.st_mtim);
	check_time(_metadata, mnt_path, "ctime", &b.st_ctim, &m.st_ctim);
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
		      ((const struct dent *)b)->name);
}

/*
 * The entries of @path, sorted by name, read with getdents64 and a small
 * buffer so that a listing takes many calls. Returns the number of
 * entries, -1 with errno on failure.
 */
static __maybe_unused int list_dir(const char *path, struct dent *out, int max)
{
	__u64 words[64];	/* 512 bytes, aligned for the records */
	char *buf = (char *)words;
	long len, off;
	int fd, n = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(words))) > 0) {
		for (off = 0; off < len; ) {
			struct dirent64_raw *d = (void *)(buf + off);

			if (n == max) {
				close(fd);
				errno = E2BIG;
				return -1;
			}
			snprintf(out[n].name, sizeof(out[n].name), "%s",
				 d->d_name);
			out[n].ino = d->d_ino;
			out[n].type = d->d_type;
			n++;
			off += d->d_reclen;
		}
	}
	if (len < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	qsort(out, n, sizeof(*out), dent_cmp);
	return n;
}

static __maybe_unused bool dir_has(const char *path, const char *name)
{
	struct dent *d = calloc(MAX_DENTS, sizeof(*d));
	bool found = false;
	int i, n;

	if (!d)
		return false;
	n = list_dir(path, d, MAX_DENTS);
	for (i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			found = true;
	free(d);
	return found;
}

/* Listing @mnt_dir must give the names, d_ino and d_type of @back_dir. */
static __maybe_unused void check_same_listing(struct __test_metadata *_metadata,
					      const char *mnt_dir, const char *back_dir)
{
	struct dent *m = calloc(MAX_DENTS, sizeof(*m));
	struct dent *b = calloc(MAX_DENTS, sizeof(*b));
	int nm, nb, i;

	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, b);
	nm = list_dir(mnt_dir, m, MAX_DENTS);
	ASSERT_LE(0, nm) TH_LOG("listing %s: %s", mnt_dir, strerror(errno));
	nb = list_dir(back_dir, b, MAX_DENTS);
	ASSERT_LE(0, nb) TH_LOG("listing %s: %s", back_dir, strerror(errno));
	ASSERT_EQ(nb, nm) TH_LOG("%s: %d entries, the backing has %d",
				 mnt_dir, nm, nb);
	for (i = 0; i < nm; i++) {
		ASSERT_STREQ(b[i].name, m[i].name);
		ASSERT_EQ(b[i].ino, m[i].ino) TH_LOG("d_ino of %s", m[i].name);
		ASSERT_EQ(b[i].type, m[i].type)
			TH_LOG("d_type of %s", m[i].name);
	}
	free(m);
	free(b);
}

static __maybe_unused int evict_caches(void)
{
	/* 3, not 2: inodes with page cache are only freed without it */
	return write_str("/proc/sys/vm/drop_caches", "3");
}

/* Wait for @pid up to @timeout_ms; kill it on timeout and return -1. */
static __maybe_unused int wait_child(pid_t pid, int timeout_ms)
{
	int status, i;
	pid_t ret;

	for (i = 0; i < timeout_ms / 10; i++) {
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			return status;
		if (ret < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/*
 * The exit code of child @pid, waited for up to @timeout_ms; -1 when it
 * was not started (@pid < 0), timed out or was killed.
 */
static __maybe_unused int child_status(pid_t pid, int timeout_ms)
{
	int status;

	if (pid < 0)
		return -1;
	status = wait_child(pid, timeout_ms);
	if (status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static __maybe_unused int private_mounts(void)
{
	if (unshare(CLONE_NEWNS))
		return -1;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static __maybe_unused bool is_mounted(const char *dir)
{
	struct stat st, parent;

	return !stat(dir, &st) && !stat(path_in(dir, ".."), &parent) &&
	       st.st_dev != parent.st_dev;
}

/* Mount @root (a file descriptor of it) on @mnt with "@opts,root_dir=N". */
static __maybe_unused int mount_root_dir(const char *root, const char *mnt, const char *opts)
{
	char buf[128];
	int fd, ret, err;

	fd = open(root, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s%sroot_dir=%d", opts, *opts ? "," : "",
		 fd);
	ret = mount("fuse_bpf_test", mnt, "fuse", 0, buf);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

static __maybe_unused int backing_register(struct ftd *d, const char *path, int flags)
{
	struct fuse_backing_map map = {};
	int ret, err;

	map.fd = open(path, flags | O_CLOEXEC);
	if (map.fd < 0)
		return -1;
	ret = ioctl(d->fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	err = errno;
	close(map.fd);
	errno = err;
	return ret;
}

static __maybe_unused int backing_unregister(struct ftd *d, int id)
{
	__u32 backing_id = id;

	return ioctl(d->fd, FUSE_DEV_IOC_BACKING_CLOSE, &backing_id);
}

static __maybe_unused void env_cleanup(struct env *e)
{
	if (e->d)
		ftd_stop(e->d);
	e->d = NULL;
	if (e->base_mounted)
		umount2(e->base, MNT_DETACH);
	e->base_mounted = false;
	if (e->base[0])
		rmdir(e->base);
	e->base[0] = '\0';
}

static __maybe_unused int env_backing(struct env *e)
{
	memset(e, 0, sizeof(*e));
	if (private_mounts())
		return -1;
	snprintf(e->base, sizeof(e->base), "/tmp/fuse_bpf.XXXXXX");
	if (!mkdtemp(e->base)) {
		e->base[0] = '\0';
		return -1;
	}
	if (mount("fuse_bpf_test", e->base, "tmpfs", 0, "size=16m,mode=0755"))
		return -1;
	e->base_mounted = true;
	snprintf(e->back, sizeof(e->back), "%s/back", e->base);
	snprintf(e->mnt, sizeof(e->mnt), "%s/mnt", e->base);
	if (mkdir(e->back, 0755) || mkdir(e->mnt, 0755))
		return -1;
	return mount("fuse_bpf_back", e->back, "tmpfs", 0,
		     "size=64m,mode=0755");
}

static __maybe_unused int env_mount(struct env *e, bool daemon)
{
	struct stat st;
	int fd, err;

	if (!daemon) {
		char opts[64];

		snprintf(opts, sizeof(opts), "no_daemon%s", e->extra);
		if (mount_root_dir(e->back, e->mnt, opts))
			return -1;
	} else {
		fd = open(e->back, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		snprintf(e->opts, sizeof(e->opts), "fuse_bpf,root_dir=%d%s", fd,
			 e->extra);
		e->cfg.mount_opts = e->opts;
		e->d = ftd_start(&e->cfg);
		err = errno;
		close(fd);
		if (!e->d) {
			errno = err;
			return -1;
		}
		snprintf(e->mnt, sizeof(e->mnt), "%s", e->d->mnt);
	}
	if (e->ops_pending)
		return 0;
	if (stat(e->mnt, &st))
		return -1;
	e->dev = st.st_dev;
	return 0;
}

/* Returns 0 or an errno; cleans up after itself on failure. */
static __maybe_unused int env_setup(struct env *e, bool daemon)
{
	int err = 0;

	if (env_backing(e) || env_mount(e, daemon)) {
		err = errno;
		env_cleanup(e);
	}
	return err;
}

/*
 * After a passing test, both the mount and the backing file system must
 * come apart without MNT_DETACH: nothing may still hold them.
 */
static __maybe_unused void env_check_shutdown(struct __test_metadata *_metadata,
					      struct env *e)
{
	EXPECT_EQ(0, umount2(e->mnt, 0))
		TH_LOG("umount %s: %s", e->mnt, strerror(errno));
	if (e->d)
		ftd_stop(e->d);
	e->d = NULL;
	EXPECT_EQ(0, umount2(e->back, 0))
		TH_LOG("umount of the backing %s: %s (still referenced?)",
		       e->back, strerror(errno));
}

/*
 * A fixture's teardown: after a passing test the mounts must come apart
 * cleanly (env_check_shutdown()); everything is cleaned up in any case.
 */
static __maybe_unused void env_teardown(struct __test_metadata *_metadata,
					struct env *e)
{
	if (_metadata->exit_code == KSFT_PASS)
		env_check_shutdown(_metadata, e);
	env_cleanup(e);
}

/* The daemon must have seen INIT and nothing else. */
static __maybe_unused void expect_only_init(struct __test_metadata *_metadata, struct ftd *d)
{
	struct ftd_log_entry first;
	char buf[FTD_LOG_BUF];
	int n = ftd_log_get(d, &first, 1);

	EXPECT_EQ(ftd_count(d, FUSE_INIT), n)
		TH_LOG("requests for backed nodes reached the daemon: %s",
		       ftd_log_str(d, buf, sizeof(buf)));
}

#endif
