// SPDX-License-Identifier: GPL-2.0
/*
 * FUSE passthrough (Linux 6.9+): the server registers a backing file with
 * FUSE_DEV_IOC_BACKING_OPEN and answers OPEN with FOPEN_PASSTHROUGH and the
 * backing id; reads and writes then go to the backing file without
 * reaching the server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "fuse_test_daemon.h"

#define BACKING_CONTENT	"This text lives in the backing file on tmpfs.\n"
#define NOBODY		65534

/* What the server claims the file holds: same size, other bytes. */
static char server_content[sizeof(BACKING_CONTENT)];

static const struct ftd_entry passthrough_tree[] = {
	{ "file", S_IFREG | 0644, server_content },
	{ "plain", S_IFREG | 0644, BACKING_CONTENT },
	{ NULL }
};

#define FILE_ID		2

/* The test's state, shared with the daemon thread's hook. */
struct pt {
	struct ftd_config cfg;
	struct ftd *d;
	char dir[64];		/* backing directory on tmpfs */
	char backing[128];	/* backing file */
	char path[128];		/* the file in the FUSE mount */
	int backing_id;		/* replied to OPEN of "file" */
	int opens;
};

FIXTURE(passthrough) {
	struct pt pt;
};

/*
 * Open "file" in passthrough mode with pt->backing_id, and report the
 * size of the backing file for it: the server stays the authority on
 * attributes, and passthrough writes make the kernel ask again.
 */
static int passthrough_hook(struct ftd *d, const struct fuse_in_header *in,
			    const void *arg, size_t len, void *priv)
{
	struct pt *pt = priv;
	struct fuse_open_out open_out = {
		.fh = in->nodeid,
		.open_flags = FOPEN_PASSTHROUGH,
		.backing_id = pt->backing_id,
	};
	struct fuse_attr_out attr_out = { .attr_valid = 3600 };
	struct stat st;

	if (in->nodeid != FILE_ID)
		return FTD_DEFAULT;
	switch (in->opcode) {
	case FUSE_OPEN:
		pt->opens++;
		ftd_reply(d, in->unique, 0, &open_out, sizeof(open_out));
		return FTD_HANDLED;
	case FUSE_GETATTR:
		if (stat(pt->backing, &st))
			return -errno;
		ftd_fill_attr(d, in->nodeid, &attr_out.attr);
		attr_out.attr.size = st.st_size;
		attr_out.attr.blocks = st.st_blocks;
		ftd_reply(d, in->unique, 0, &attr_out, sizeof(attr_out));
		return FTD_HANDLED;
	default:
		return FTD_DEFAULT;
	}
}

static int backing_open(struct pt *pt)
{
	struct fuse_backing_map map = {};
	int ret;

	map.fd = open(pt->backing, O_RDWR | O_CLOEXEC);
	if (map.fd < 0)
		return -1;
	ret = ioctl(pt->d->fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	close(map.fd);
	return ret;
}

static int backing_close(struct pt *pt, int id)
{
	__u32 backing_id = id;

	return ioctl(pt->d->fd, FUSE_DEV_IOC_BACKING_CLOSE, &backing_id);
}

static void cleanup(struct pt *pt)
{
	if (pt->d && pt->backing_id > 0)
		backing_close(pt, pt->backing_id);
	ftd_stop(pt->d);
	pt->d = NULL;
	if (pt->backing[0])
		unlink(pt->backing);
	if (pt->dir[0])
		rmdir(pt->dir);
}

/* A tmpfs directory with the backing file. */
static int make_backing(struct pt *pt)
{
	size_t len = strlen(BACKING_CONTENT);
	int fd;

	snprintf(pt->dir, sizeof(pt->dir), "/tmp/fuse_backing.XXXXXX");
	if (!mkdtemp(pt->dir)) {
		pt->dir[0] = '\0';
		return -1;
	}
	snprintf(pt->backing, sizeof(pt->backing), "%s/backing", pt->dir);
	fd = open(pt->backing, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, BACKING_CONTENT, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

FIXTURE_SETUP(passthrough)
{
	struct pt *pt = &self->pt;
	const char *skip = NULL;
	int err = 0;

	memset(server_content, 's', sizeof(server_content) - 1);
	pt->cfg.entries = passthrough_tree;
	pt->cfg.init_flags = FUSE_PASSTHROUGH;
	pt->cfg.max_stack_depth = 1;
	pt->cfg.hook = passthrough_hook;
	pt->cfg.hook_priv = pt;

	/* no teardown after a failed setup: clean up before leaving */
	if (make_backing(pt)) {
		err = errno;
		cleanup(pt);
		ASSERT_EQ(0, err) TH_LOG("backing file: %s", strerror(err));
	}
	pt->d = ftd_start(&pt->cfg);
	if (!pt->d) {
		err = errno;
		cleanup(pt);
		ASSERT_EQ(0, err) TH_LOG("cannot mount: %s", strerror(err));
	}
	snprintf(pt->path, sizeof(pt->path), "%s/file", pt->d->mnt);

	if (!(pt->d->kernel_flags & FUSE_PASSTHROUGH)) {
		skip = "no FUSE_PASSTHROUGH in INIT (CONFIG_FUSE_PASSTHROUGH=n?)";
	} else {
		pt->backing_id = backing_open(pt);
		if (pt->backing_id < 0) {
			err = errno;
			if (err == ENOTTY || err == EOPNOTSUPP)
				skip = "FUSE_DEV_IOC_BACKING_OPEN not supported";
		}
	}
	if (skip || err)
		cleanup(pt);
	if (skip)
		SKIP(return, "%s", skip);
	ASSERT_EQ(0, err)
		TH_LOG("FUSE_DEV_IOC_BACKING_OPEN: %s", strerror(err));
}

FIXTURE_TEARDOWN(passthrough)
{
	cleanup(&self->pt);
}

static void read_backing(struct pt *pt, char *buf, size_t size, ssize_t *len)
{
	int fd = open(pt->backing, O_RDONLY | O_CLOEXEC);

	*len = fd < 0 ? -1 : pread(fd, buf, size, 0);
	if (fd >= 0)
		close(fd);
}

/* @path reads as BACKING_CONTENT, in one read(2). */
static void check_content(struct __test_metadata *_metadata, const char *path)
{
	size_t len = strlen(BACKING_CONTENT);
	char buf[256];
	int fd;

	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(len, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, BACKING_CONTENT, len));
	ASSERT_EQ(0, close(fd));
}

TEST_F(passthrough, read)
{
	struct pt *pt = &self->pt;
	char buf[256];
	struct stat st;
	int fd;

	ftd_log_clear(pt->d);
	fd = open(pt->path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pt->opens);
	ASSERT_EQ(strlen(BACKING_CONTENT), read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, BACKING_CONTENT, strlen(BACKING_CONTENT)));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(9, pread(fd, buf, 9, 5));
	ASSERT_EQ(0, memcmp(buf, BACKING_CONTENT + 5, 9));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(strlen(BACKING_CONTENT), st.st_size);
	ASSERT_EQ(0, close(fd));

	ASSERT_FUSE_RECEIVED(pt->d, FUSE_OPEN);
	ASSERT_FUSE_NOT_RECEIVED(pt->d, FUSE_READ);

	/* the same file without passthrough is read from the server */
	snprintf(pt->path, sizeof(pt->path), "%s/plain", pt->d->mnt);
	check_content(_metadata, pt->path);
	ASSERT_FUSE_RECEIVED(pt->d, FUSE_READ);
}

TEST_F(passthrough, write)
{
	struct pt *pt = &self->pt;
	static const char data[] = "PASSTHROUGH";
	static const char tail[] = "appended\n";
	size_t len = strlen(BACKING_CONTENT);
	char buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	ftd_log_clear(pt->d);
	fd = open(pt->path, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(strlen(data), pwrite(fd, data, strlen(data), 0));
	ASSERT_EQ(strlen(tail), pwrite(fd, tail, strlen(tail), len));

	/* the backing file has the data... */
	read_backing(pt, buf, sizeof(buf), &n);
	ASSERT_EQ(len + strlen(tail), n);
	ASSERT_EQ(0, memcmp(buf, data, strlen(data)));
	ASSERT_EQ(0, memcmp(buf + strlen(data), BACKING_CONTENT + strlen(data),
			    len - strlen(data)));
	ASSERT_EQ(0, memcmp(buf + len, tail, strlen(tail)));

	/* ...and reading through the mount sees it, with the new size */
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(len + strlen(tail), st.st_size);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(len + strlen(tail), pread(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, data, strlen(data)));
	ASSERT_EQ(0, close(fd));

	ASSERT_FUSE_RECEIVED(pt->d, FUSE_OPEN);
	ASSERT_FUSE_NOT_RECEIVED(pt->d, FUSE_WRITE);
	ASSERT_FUSE_NOT_RECEIVED(pt->d, FUSE_READ);
}

TEST_F(passthrough, backing_close)
{
	struct pt *pt = &self->pt;
	char buf[256];
	int fd;

	fd = open(pt->path, O_RDONLY);
	ASSERT_LE(0, fd);

	/* an open file keeps its backing file after the id is closed */
	ASSERT_EQ(0, backing_close(pt, pt->backing_id));
	ASSERT_EQ(strlen(BACKING_CONTENT), read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, BACKING_CONTENT, strlen(BACKING_CONTENT)));
	ASSERT_EQ(0, close(fd));

	/* the id is gone; an OPEN reply naming it fails the open with EIO */
	ASSERT_EQ(-1, backing_close(pt, pt->backing_id));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, open(pt->path, O_RDONLY));
	EXPECT_EQ(EIO, errno);
	ASSERT_FUSE_NOT_RECEIVED(pt->d, FUSE_READ);

	/* and a fresh registration works again */
	pt->backing_id = backing_open(pt);
	ASSERT_LT(0, pt->backing_id);
	check_content(_metadata, pt->path);
	ASSERT_FUSE_NOT_RECEIVED(pt->d, FUSE_READ);
}

/* Registering backing files needs CAP_SYS_ADMIN. */
TEST_F(passthrough, unprivileged_backing_open)
{
	struct pt *pt = &self->pt;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct fuse_backing_map map = {};

		map.fd = open(pt->backing, O_RDWR | O_CLOEXEC);
		if (map.fd < 0)
			_exit(2);
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(3);
		if (ioctl(pt->d->fd, FUSE_DEV_IOC_BACKING_OPEN, &map) >= 0)
			_exit(4);
		_exit(errno == EPERM ? 0 : 5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("2: open, 3: setuid, 4: no error, 5: not EPERM");
}

TEST_HARNESS_MAIN
