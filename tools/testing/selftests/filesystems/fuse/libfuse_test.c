// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf with a daemon on libfuse 3 (Debian's 3.14, low-level API):
 * the daemon mounts /dev/fuse itself with the fuse_bpf option, hands the
 * mount to libfuse as /dev/fd/N, registers a backing directory with an
 * ioctl on fuse_session_fd() and names it in a LOOKUP reply built with
 * fuse_reply_iov(). No INIT flag beyond what libfuse 3.14 negotiates.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <linux/fuse.h>

#include "../../kselftest_harness.h"

#define DIR_INO		2
#define F1_DATA		"served from the backing directory\n"

struct lf {
	char tmp[64];
	char mnt[96];
	char back[96];
	struct fuse_session *se;
	pthread_t thread;
	int fuse_fd;
	int backing_id;
	int lookups;		/* LOOKUP requests the daemon got */
	int others;		/* any other request but INIT/GETATTR of root */
};

static void lf_init(void *userdata, struct fuse_conn_info *conn)
{
}

static void lf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct lf *lf = fuse_req_userdata(req);
	struct fuse_backing_map map = {};
	struct fuse_bpf_entry_out ext = {};
	struct fuse_entry_out eo = {};
	struct iovec iov[2];
	int fd;

	lf->lookups++;
	if (parent != FUSE_ROOT_ID || strcmp(name, "dir")) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fd = open(lf->back, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	map.fd = fd;
	lf->backing_id = ioctl(fuse_session_fd(lf->se),
			       FUSE_DEV_IOC_BACKING_OPEN, &map);
	close(fd);
	if (lf->backing_id <= 0) {
		fuse_reply_err(req, EIO);
		return;
	}

	eo.nodeid = DIR_INO;
	eo.entry_valid = 3600;
	eo.attr_valid = 3600;
	eo.attr.ino = DIR_INO;
	eo.attr.mode = S_IFDIR | 0755;
	eo.attr.nlink = 2;
	ext.entry_type = FUSE_BPF_ENTRY_BACKING;
	ext.backing_id = lf->backing_id;
	iov[0].iov_base = &eo;
	iov[0].iov_len = sizeof(eo);
	iov[1].iov_base = &ext;
	iov[1].iov_len = sizeof(ext);
	fuse_reply_iov(req, iov, 2);
}

static void lf_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct lf *lf = fuse_req_userdata(req);
	struct stat st = { .st_ino = ino, .st_mode = S_IFDIR | 0755,
			   .st_nlink = 2 };

	if (ino != FUSE_ROOT_ID) {
		lf->others++;
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_attr(req, &st, 3600);
}

static void lf_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fuse_reply_none(req);
}

static const struct fuse_lowlevel_ops lf_ops = {
	.init = lf_init,
	.lookup = lf_lookup,
	.getattr = lf_getattr,
	.forget = lf_forget,
};

static void *lf_loop(void *arg)
{
	struct lf *lf = arg;

	fuse_session_loop(lf->se);
	return NULL;
}

FIXTURE(libfuse) {
	struct lf lf;
};

FIXTURE_SETUP(libfuse)
{
	struct lf *lf = &self->lf;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char opts[128], devfd[32];
	FILE *f;

	snprintf(lf->tmp, sizeof(lf->tmp), "/tmp/fuse-bpf-libfuse.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(lf->tmp));
	snprintf(lf->mnt, sizeof(lf->mnt), "%s/mnt", lf->tmp);
	snprintf(lf->back, sizeof(lf->back), "%s/back", lf->tmp);
	ASSERT_EQ(0, mkdir(lf->mnt, 0755));
	ASSERT_EQ(0, mkdir(lf->back, 0755));
	snprintf(opts, sizeof(opts), "%s/f1", lf->back);
	f = fopen(opts, "w");
	ASSERT_NE(NULL, f);
	fputs(F1_DATA, f);
	fclose(f);

	lf->fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, lf->fuse_fd);
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,fuse_bpf",
		 lf->fuse_fd);
	if (mount("libfuse_test", lf->mnt, "fuse", 0, opts)) {
		if (errno == EINVAL)
			SKIP(return, "no fuse-bpf (mount option fuse_bpf)");
		ASSERT_EQ(0, errno);
	}

	ASSERT_EQ(0, fuse_opt_add_arg(&args, "libfuse_test"));
	lf->se = fuse_session_new(&args, &lf_ops, sizeof(lf_ops), lf);
	fuse_opt_free_args(&args);
	ASSERT_NE(NULL, lf->se);
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", lf->fuse_fd);
	ASSERT_EQ(0, fuse_session_mount(lf->se, devfd));
	ASSERT_EQ(0, pthread_create(&lf->thread, NULL, lf_loop, lf));
}

FIXTURE_TEARDOWN(libfuse)
{
	struct lf *lf = &self->lf;
	char path[128];

	if (lf->se) {
		umount2(lf->mnt, MNT_DETACH);
		pthread_join(lf->thread, NULL);
		fuse_session_destroy(lf->se);
	}
	snprintf(path, sizeof(path), "%s/f1", lf->back);
	unlink(path);
	rmdir(lf->back);
	rmdir(lf->mnt);
	rmdir(lf->tmp);
}

TEST_F(libfuse, lookup_reply_backs_a_directory)
{
	struct lf *lf = &self->lf;
	char path[160], buf[128];
	struct stat st, bst;
	struct dirent *de;
	int fd, n, found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/dir/f1", lf->mnt);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	ASSERT_EQ(strlen(F1_DATA), n);
	ASSERT_EQ(0, memcmp(buf, F1_DATA, n));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, close(fd));
	snprintf(buf, sizeof(buf), "%s/f1", lf->back);
	ASSERT_EQ(0, stat(buf, &bst));
	ASSERT_EQ(bst.st_ino, st.st_ino);
	ASSERT_EQ(bst.st_size, st.st_size);

	/* a file created through the mount lands in the backing directory */
	snprintf(path, sizeof(path), "%s/dir/new", lf->mnt);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	snprintf(buf, sizeof(buf), "%s/new", lf->back);
	ASSERT_EQ(0, stat(buf, &bst));
	ASSERT_EQ(0, unlink(path));

	snprintf(path, sizeof(path), "%s/dir", lf->mnt);
	d = opendir(path);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		found += !strcmp(de->d_name, "f1");
	closedir(d);
	ASSERT_EQ(1, found);

	/* the daemon answered one LOOKUP ("dir") and nothing below it */
	ASSERT_EQ(1, lf->lookups);
	ASSERT_EQ(0, lf->others);
	ASSERT_LT(0, lf->backing_id);
}

TEST_HARNESS_MAIN
