// SPDX-License-Identifier: GPL-2.0
/*
 * A classic FUSE mount served by fuse_test_daemon: what a user sees, and
 * which requests reach the server for common system calls.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "fuse_test_daemon.h"

#define FILE_CONTENT	"Hello from the FUSE test daemon!\n"
#define NESTED_CONTENT	"nested"
#define HOOK_CONTENT	"from the hook"

static const struct ftd_entry classic_tree[] = {
	{ "file", S_IFREG | 0644, FILE_CONTENT },
	{ "dir", S_IFDIR | 0755 },
	{ "dir/nested", S_IFREG | 0600, NESTED_CONTENT },
	{ "die", S_IFREG | 0644 },
	{ NULL }
};

/* Node ids the daemon gives the entries above (table index + 2). */
#define FILE_ID		2
#define DIR_ID		3
#define NESTED_ID	4
#define DIE_ID		5

FIXTURE(classic) {
	struct ftd_config cfg;
	struct ftd *d;
	int hook_calls;
};

FIXTURE_SETUP(classic)
{
	self->cfg.entries = classic_tree;
	self->d = ftd_start(&self->cfg);
	ASSERT_NE(NULL, self->d) TH_LOG("cannot mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(classic)
{
	ftd_stop(self->d);
}

/* @rel inside the mount; the result is valid until the next call. */
static const char *mnt_path(struct ftd *d, const char *rel)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", d->mnt, rel);
	return path;
}

TEST_F(classic, read_file)
{
	char buf[256];
	ssize_t n;
	int fd;

	fd = open(mnt_path(self->d, "file"), O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf));
	ASSERT_EQ(strlen(FILE_CONTENT), n);
	ASSERT_EQ(0, memcmp(buf, FILE_CONTENT, n));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(5, pread(fd, buf, 5, 6));
	ASSERT_EQ(0, memcmp(buf, FILE_CONTENT + 6, 5));
	ASSERT_EQ(0, close(fd));

	fd = open(mnt_path(self->d, "dir/nested"), O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf));
	ASSERT_EQ(strlen(NESTED_CONTENT), n);
	ASSERT_EQ(0, memcmp(buf, NESTED_CONTENT, n));
	ASSERT_EQ(0, close(fd));
}

TEST_F(classic, stat)
{
	struct stat st;

	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	EXPECT_EQ(S_IFREG | 0644, st.st_mode);
	EXPECT_EQ(strlen(FILE_CONTENT), st.st_size);
	EXPECT_EQ(1, st.st_nlink);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
	EXPECT_EQ(FILE_ID, st.st_ino);

	ASSERT_EQ(0, stat(mnt_path(self->d, "dir"), &st));
	EXPECT_EQ(S_IFDIR | 0755, st.st_mode);
	EXPECT_EQ(2, st.st_nlink);
	EXPECT_EQ(DIR_ID, st.st_ino);

	ASSERT_EQ(0, stat(mnt_path(self->d, "dir/nested"), &st));
	EXPECT_EQ(S_IFREG | 0600, st.st_mode);
	EXPECT_EQ(strlen(NESTED_CONTENT), st.st_size);

	ASSERT_EQ(0, stat(self->d->mnt, &st));
	EXPECT_EQ(S_IFDIR | 0755, st.st_mode);
	EXPECT_EQ(3, st.st_nlink);
	EXPECT_EQ(FUSE_ROOT_ID, st.st_ino);

	ASSERT_EQ(-1, stat(mnt_path(self->d, "missing"), &st));
	EXPECT_EQ(ENOENT, errno);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char **)a, *(const char **)b);
}

/* Sorted names of the entries of @path, at most @max of them. */
static int list_dir(const char *path, char **names, int max)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)) && n < max)
		names[n++] = strdup(de->d_name);
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_names);
	return n;
}

TEST_F(classic, readdir)
{
	/* sorted with strcmp */
	const char * const root[] = { ".", "..", "die", "dir", "file" };
	const char * const dir[] = { ".", "..", "nested" };
	char *names[16];
	int i, n;

	n = list_dir(self->d->mnt, names, 16);
	ASSERT_EQ(5, n);
	for (i = 0; i < n; i++) {
		EXPECT_STREQ(root[i], names[i]);
		free(names[i]);
	}

	n = list_dir(mnt_path(self->d, "dir"), names, 16);
	ASSERT_EQ(3, n);
	for (i = 0; i < n; i++) {
		EXPECT_STREQ(dir[i], names[i]);
		free(names[i]);
	}
}

/*
 * The request sequences below hold on 6.12 and 6.18 (both checked): the
 * daemon hands out 1h entry/attr timeouts, so nothing is revalidated, and
 * INIT, FORGET, BATCH_FORGET, STATFS and INTERRUPT are ignored by the
 * comparison (FORGETs come whenever the kernel evicts an inode).
 */
TEST_F(classic, stat_sequence)
{
	struct stat st;

	ftd_log_clear(self->d);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	/* a fresh name: one LOOKUP, whose attributes serve the stat */
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_LOOKUP);

	/* cached dentry and attributes: the server is not asked again */
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_LOOKUP);

	/* a nested path looks up each component once */
	ftd_log_clear(self->d);
	ASSERT_EQ(0, stat(mnt_path(self->d, "dir/nested"), &st));
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_LOOKUP, FUSE_LOOKUP);

	/* failed lookups are not cached (no negative entry was given) */
	ftd_log_clear(self->d);
	ASSERT_EQ(-1, stat(mnt_path(self->d, "missing"), &st));
	ASSERT_EQ(-1, stat(mnt_path(self->d, "missing"), &st));
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_LOOKUP, FUSE_LOOKUP);
}

TEST_F(classic, lookup_log)
{
	struct ftd_log_entry log[8];
	struct stat st;
	int n;

	ftd_log_clear(self->d);
	ASSERT_EQ(0, stat(mnt_path(self->d, "dir/nested"), &st));
	n = ftd_log_get(self->d, log, 8);
	ASSERT_EQ(2, n);
	EXPECT_EQ(FUSE_LOOKUP, log[0].opcode);
	EXPECT_EQ(FUSE_ROOT_ID, log[0].nodeid);
	EXPECT_STREQ("dir", log[0].name);
	EXPECT_EQ(FUSE_LOOKUP, log[1].opcode);
	EXPECT_EQ(DIR_ID, log[1].nodeid);
	EXPECT_STREQ("nested", log[1].name);
}

TEST_F(classic, open_read_close_sequence)
{
	size_t len = strlen(FILE_CONTENT);
	char buf[256];
	struct stat st;
	int fd;

	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ftd_log_clear(self->d);

	fd = open(mnt_path(self->d, "file"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_OPEN);
	/* one READ fills the page cache; EOF comes from the cached size */
	ASSERT_EQ(len, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, FILE_CONTENT, len));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_OPEN, FUSE_READ);
	ASSERT_EQ(10, pread(fd, buf, 10, 0));
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_OPEN, FUSE_READ);

	/* reading invalidated the cached atime: one GETATTR refreshes it */
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(len, st.st_size);
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_OPEN, FUSE_READ, FUSE_GETATTR);

	/* FLUSH is synchronous in close(), RELEASE is sent in background */
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(ftd_wait_count(self->d, FUSE_RELEASE, 1, 5000));
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_OPEN, FUSE_READ, FUSE_GETATTR,
			     FUSE_FLUSH, FUSE_RELEASE);
}

TEST_F(classic, readdir_sequence)
{
	char *names[16];
	struct stat st;
	int i, n;

	/*
	 * The root's attributes are never cached after mount, and glibc's
	 * opendir() calls fstat(): fetch them first.
	 */
	ASSERT_EQ(0, stat(self->d->mnt, &st));
	ftd_log_clear(self->d);
	n = list_dir(self->d->mnt, names, 16);
	ASSERT_EQ(5, n);
	for (i = 0; i < n; i++)
		free(names[i]);
	ASSERT_TRUE(ftd_wait_count(self->d, FUSE_RELEASEDIR, 1, 5000));
	/*
	 * The second READDIR starts after the last entry and gets an empty
	 * reply: that is how the server tells the end of the directory.
	 * READDIR does not look names up (READDIRPLUS is not negotiated).
	 */
	ASSERT_FUSE_SEQUENCE(self->d, FUSE_OPENDIR, FUSE_READDIR, FUSE_READDIR,
			     FUSE_RELEASEDIR);
}

/* Replace some replies: fail opens of "dir/nested", serve READ ourselves. */
static int serve_hook(struct ftd *d, const struct fuse_in_header *in,
		      const void *arg, size_t len, void *priv)
{
	int *calls = priv;
	struct iovec iov[2] = {
		{ .iov_base = "from the ", .iov_len = 9 },
		{ .iov_base = "hook", .iov_len = 4 },
	};

	(*calls)++;
	if (in->opcode == FUSE_OPEN && in->nodeid == NESTED_ID)
		return -EACCES;
	if (in->opcode == FUSE_READ && in->nodeid == FILE_ID) {
		ftd_reply_iov(d, in->unique, 0, iov, 2);
		return FTD_HANDLED;
	}
	if (in->opcode == FUSE_LOOKUP && in->nodeid == FUSE_ROOT_ID &&
	    !strcmp(arg, "die"))
		return FTD_DIE;
	return FTD_DEFAULT;
}

TEST_F(classic, hook)
{
	char buf[256];
	int fd;

	self->cfg.hook = serve_hook;
	self->cfg.hook_priv = &self->hook_calls;

	ASSERT_EQ(-1, open(mnt_path(self->d, "dir/nested"), O_RDONLY));
	ASSERT_EQ(EACCES, errno);

	/* a short READ reply marks the end of the file */
	fd = open(mnt_path(self->d, "file"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(strlen(HOOK_CONTENT), read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, HOOK_CONTENT, strlen(HOOK_CONTENT)));
	ASSERT_EQ(0, close(fd));
	ASSERT_LT(0, self->hook_calls);
}

/* A server that stops answering must not leave the test hanging. */
TEST_F(classic, daemon_dies)
{
	struct stat st;

	self->cfg.hook = serve_hook;
	self->cfg.hook_priv = &self->hook_calls;

	ASSERT_EQ(-1, stat(mnt_path(self->d, "die"), &st));
	EXPECT_TRUE(errno == ENOTCONN || errno == ECONNABORTED)
		TH_LOG("stat: %s", strerror(errno));
	ASSERT_EQ(-1, stat(mnt_path(self->d, "file"), &st));
	EXPECT_EQ(ENOTCONN, errno);
}

static int count_entries(const char *path)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* ftd_stop() leaves no fd, thread, mount or mount point behind. */
TEST(start_stop_no_leaks)
{
	struct ftd_config cfg = { .entries = classic_tree };
	int fds = count_entries("/proc/self/fd");
	int tasks = count_entries("/proc/self/task");
	char mnt[128];
	struct stat st;
	struct ftd *d;

	d = ftd_start(&cfg);
	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, stat(mnt_path(d, "file"), &st));
	ASSERT_EQ(tasks + 1, count_entries("/proc/self/task"));
	snprintf(mnt, sizeof(mnt), "%s", d->mnt);
	ftd_stop(d);

	ASSERT_EQ(fds, count_entries("/proc/self/fd"));
	ASSERT_EQ(tasks, count_entries("/proc/self/task"));
	ASSERT_EQ(-1, stat(mnt, &st));
	ASSERT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
