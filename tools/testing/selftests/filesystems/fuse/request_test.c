// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf request programs on a classic FUSE mount: a program attached
 * to the server's own connection answers requests (the server never sees
 * them), fails them, or lets them through and edits the server's reply.
 * Every test checks what a caller sees and which requests reached the
 * server (fuse_test_daemon logs each one).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../kselftest_harness.h"
#include "fuse_test_daemon.h"

#include "backing_env.h"

#include "progs/request.h"
#include "conn_fd.h"
#include "request.skel.h"
#include "request_backing.skel.h"
#include "bad_req_leak.skel.h"
#include "bad_req_uaf.skel.h"
#include "bad_req_nosleep.skel.h"
#include "bad_req_write.skel.h"
#include "bad_req_sleep.skel.h"
#include "bad_req_kfunc.skel.h"
#include "verifier_log.h"

#define FILE_CONTENT	"the server's content\n"

static const struct ftd_entry req_tree[] = {
	{ "file", S_IFREG | 0644, FILE_CONTENT },
	{ "dir", S_IFDIR | 0755 },
	{ "link", S_IFLNK | 0777 },
	{ "other", S_IFREG | 0600, "x" },
	{ "a", S_IFREG | 0644, "the server's a" },
	{ "b", S_IFREG | 0644, "the server's b" },
	{ NULL }
};

/* Node ids the daemon gives the entries above (table index + 2). */
#define FILE_ID		2
#define DIR_ID		3
#define LINK_ID		4
#define OTHER_ID	5
#define A_ID		6
#define B_ID		7

/* What the program says about "file", unlike what the server says. */
#define PROG_SIZE	424242
#define PROG_UID		1234
#define PROG_GID		5678
#define PROG_MODE	(S_IFREG | 0640)

FIXTURE(req) {
	struct ftd_config cfg;
	struct ftd *d;
	struct request *skel;
	struct bpf_link *link;
};

FIXTURE_SETUP(req)
{
	struct bpf_map *map;

	self->cfg.entries = req_tree;
	/* Every stat asks again: LOOKUP and GETATTR each time. */
	self->cfg.uncached = true;
	self->cfg.mount_opts = "allow_other";
	self->d = ftd_start(&self->cfg);
	ASSERT_NE(NULL, self->d) TH_LOG("cannot mount: %s", strerror(errno));

	self->skel = request__open();
	ASSERT_NE(NULL, self->skel);
	bpf_object__for_each_map(map, self->skel->obj) {
		/* Every request map has this layout. */
		struct request__serve__fuse_bpf_request_ops *v;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		v = bpf_map__initial_value(map, NULL);
		v->fuse_fd = CONN_FD;
	}
	ASSERT_EQ(0, request__load(self->skel))
		TH_LOG("cannot load progs/request.bpf.o");
}

FIXTURE_TEARDOWN(req)
{
	bpf_link__destroy(self->link);
	request__destroy(self->skel);
	ftd_stop(self->d);
}

#define ATTACH(map) do {						\
	self->link = conn_attach(self->d->fd, self->skel->maps.map);	\
	ASSERT_NE(NULL, self->link)					\
		TH_LOG("cannot attach " #map ": %s", strerror(errno));	\
} while (0)

static const char *mnt_path(struct ftd *d, const char *rel)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", d->mnt, rel);
	return path;
}

static void fill_attr(struct fuse_attr *a, __u64 ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->size = PROG_SIZE;
	a->mode = PROG_MODE;
	a->nlink = 1;
	a->uid = PROG_UID;
	a->gid = PROG_GID;
	a->blksize = 4096;
}

/* The program's attributes of FILE_ID, and its entry for "file". */
static int put_file_attrs(struct request *skel)
{
	struct req_entry_key key = { .parent = FUSE_ROOT_ID };
	struct fuse_entry_out e = { .nodeid = FILE_ID, .generation = 1 };
	struct fuse_attr_out a = {};
	__u64 id = FILE_ID;

	fill_attr(&a.attr, FILE_ID);
	fill_attr(&e.attr, FILE_ID);
	strcpy(key.name, "file");
	if (bpf_map__update_elem(skel->maps.attrs, &id, sizeof(id), &a,
				 sizeof(a), BPF_ANY))
		return -1;
	return bpf_map__update_elem(skel->maps.entries, &key, sizeof(key), &e,
				    sizeof(e), BPF_ANY);
}

/* In a child with uid and gid @id: stat @path into @st; errno or 0. */
static int stat_as(const char *path, uid_t id, struct stat *st)
{
	struct stat *shared;
	int status, ret;
	pid_t pid;

	shared = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return errno;
	pid = fork();
	if (pid == 0) {
		if (setresgid(id, id, id) || setresuid(id, id, id))
			_exit(100);
		_exit(stat(path, shared) ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		ret = -1;
	else
		ret = WEXITSTATUS(status);
	*st = *shared;
	munmap(shared, sizeof(*st));
	return ret;
}

/*
 * The stat loop of the request model: the program answers LOOKUP and
 * GETATTR of "file" from its maps, and the server sees none of them.
 */
TEST_F(req, stat_served_from_maps)
{
	struct stat st;
	char buf[FTD_LOG_BUF];
	int i;

	/* Without the program: the server's attributes. */
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(strlen(FILE_CONTENT), st.st_size);

	ASSERT_EQ(0, put_file_attrs(self->skel));
	ATTACH(serve);
	ftd_log_clear(self->d);
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
		ASSERT_EQ(PROG_SIZE, st.st_size);
		ASSERT_EQ(PROG_MODE, st.st_mode);
		ASSERT_EQ(PROG_UID, st.st_uid);
		ASSERT_EQ(PROG_GID, st.st_gid);
	}
	ASSERT_EQ(0, ftd_log_match(self->d, NULL, 0))
		TH_LOG("the server saw: %s",
		       ftd_log_str(self->d, buf, sizeof(buf)));
	ASSERT_LE(20, self->skel->bss->served);

	/* Nodes the maps do not hold still go to the server. */
	ASSERT_EQ(0, stat(mnt_path(self->d, "other"), &st));
	ASSERT_EQ(1, st.st_size);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_LOOKUP);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_GETATTR);
}

/* The program sees who asks, in the connection's terms. */
TEST_F(req, caller_ids)
{
	struct stat st;

	ASSERT_EQ(0, put_file_attrs(self->skel));
	ATTACH(serve);
	ASSERT_EQ(0, stat_as(mnt_path(self->d, "file"), 1000, &st));
	ASSERT_EQ(PROG_UID, st.st_uid);
	ASSERT_EQ(1000, self->skel->bss->last_uid);
	ASSERT_NE(0, self->skel->bss->last_pid);
	ASSERT_NE(getpid(), self->skel->bss->last_pid);
}

/* A kfunc refuses a wrong size of a fixed argument and a missing arg. */
TEST_F(req, kfunc_bounds)
{
	struct stat st;

	ASSERT_EQ(0, put_file_attrs(self->skel));
	ATTACH(serve);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(-EINVAL, self->skel->bss->small_out_err);
	ASSERT_EQ(-EINVAL, self->skel->bss->in_err);
}

/* An error the program returns is the caller's; the server sees nothing. */
TEST_F(req, error)
{
	int fd;

	self->skel->bss->deny_nodeid = FILE_ID;
	ATTACH(serve);
	ftd_log_clear(self->d);
	fd = open(mnt_path(self->d, "file"), O_RDONLY);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EACCES, errno);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_OPEN);

	/* Another node opens, from the server. */
	fd = open(mnt_path(self->d, "other"), O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_OPEN);
}

/* A value that is neither a decision nor an errno: -EIO, and a warning. */
TEST_F(req, bad_return_value)
{
	struct statfs sfs;

	self->skel->bss->bad_ret = 1;
	ATTACH(serve);
	ftd_log_clear(self->d);
	ASSERT_EQ(-1, statfs(self->d->mnt, &sfs));
	ASSERT_EQ(EIO, errno);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_STATFS);

	/* Kernel-internal errnos, which no server may reply, are refused. */
	self->skel->bss->bad_ret = 2;
	ASSERT_EQ(-1, statfs(self->d->mnt, &sfs));
	ASSERT_EQ(EIO, errno);
	self->skel->bss->bad_ret = 3;
	ASSERT_EQ(-1, statfs(self->d->mnt, &sfs));
	ASSERT_EQ(EIO, errno);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_STATFS);

	self->skel->bss->bad_ret = 0;
	ASSERT_EQ(0, statfs(self->d->mnt, &sfs));
	ASSERT_EQ(255, sfs.f_namelen);
}

/*
 * A variable-size reply: GETXATTR's value is bounded by the caller's
 * buffer. A size query gets the size, a buffer too small -ERANGE (the
 * kfunc refused the larger size with -E2BIG), a large one the value.
 */
TEST_F(req, reply_size_limits)
{
	const char *value = REQ_XATTR_VALUE;
	char buf[64] = {};
	ssize_t n;

	ATTACH(serve);
	ftd_log_clear(self->d);
	n = getxattr(mnt_path(self->d, "file"), REQ_XATTR_NAME, NULL, 0);
	ASSERT_EQ(strlen(value), n);

	n = getxattr(mnt_path(self->d, "file"), REQ_XATTR_NAME, buf, 4);
	ASSERT_EQ(-1, n);
	ASSERT_EQ(ERANGE, errno);
	ASSERT_EQ(-E2BIG, self->skel->bss->big_out_err);

	n = getxattr(mnt_path(self->d, "file"), REQ_XATTR_NAME, buf,
		     sizeof(buf));
	ASSERT_EQ(strlen(value), n);
	ASSERT_EQ(0, memcmp(buf, value, n));
	ASSERT_EQ(0, self->skel->bss->big_out_err);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_GETXATTR);

	/* Other names go to the server, which has no xattrs. */
	n = getxattr(mnt_path(self->d, "file"), "user.other", buf,
		     sizeof(buf));
	ASSERT_EQ(-1, n);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_GETXATTR);
}

/* A reply in the request's page: READLINK, which the server lacks. */
TEST_F(req, readlink_in_page)
{
	char buf[256] = {};
	ssize_t n;

	n = readlink(mnt_path(self->d, "link"), buf, sizeof(buf));
	ASSERT_EQ(-1, n) TH_LOG("the server answers READLINK?");

	ATTACH(serve);
	ftd_log_clear(self->d);
	n = readlink(mnt_path(self->d, "link"), buf, sizeof(buf));
	ASSERT_EQ(strlen(REQ_READLINK_TARGET), n) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, memcmp(buf, REQ_READLINK_TARGET, n));
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_READLINK);
}

/* The reply callback edits the server's reply: the server is asked. */
TEST_F(req, edit_reply)
{
	struct stat st;
	int fd;

	ATTACH(watch);
	ftd_log_clear(self->d);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(REQ_WATCH_UID, st.st_uid);
	ASSERT_EQ(strlen(FILE_CONTENT), st.st_size);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_GETATTR);
	ASSERT_LE(1, self->skel->bss->replies);
	ASSERT_EQ(sizeof(struct fuse_attr_out), self->skel->bss->reply_size);

	/* A lookup of a missing name: the callback sees the server's error. */
	ASSERT_EQ(-1, stat(mnt_path(self->d, "missing"), &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-ENOENT, self->skel->bss->reply_error);
	ASSERT_EQ(0, self->skel->bss->reply_size);

	/* The callback fails an open the server allowed. */
	fd = open(mnt_path(self->d, "file"), O_RDONLY);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EROFS, errno);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_OPEN);
}

/* Whether the listing of the mount's root has @name. */
static bool listed(struct ftd *d, const char *name)
{
	DIR *dir = opendir(d->mnt);
	struct dirent *de;
	bool found = false;

	while (dir && (de = readdir(dir)))
		found |= !strcmp(de->d_name, name);
	if (dir)
		closedir(dir);
	return found;
}

/*
 * A reply callback edits a listing in the reply's page: the server lists
 * REQ_HIDDEN, the caller does not see it, the other names stay.
 */
TEST_F(req, edit_listing)
{
	ASSERT_TRUE(listed(self->d, REQ_HIDDEN));
	ATTACH(watch);
	ftd_log_clear(self->d);
	ASSERT_FALSE(listed(self->d, REQ_HIDDEN));
	ASSERT_FUSE_RECEIVED(self->d, FUSE_READDIR);
	ASSERT_LE(1, self->skel->bss->hidden_seen);
	ASSERT_TRUE(listed(self->d, "file"));
	ASSERT_TRUE(listed(self->d, "dir"));
	ASSERT_TRUE(listed(self->d, "link"));
	ASSERT_TRUE(listed(self->d, "b"));
}

/* Detached, the program answers nothing: the server is asked again. */
TEST_F(req, detach)
{
	struct stat st;

	ASSERT_EQ(0, put_file_attrs(self->skel));
	ATTACH(serve);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(PROG_SIZE, st.st_size);
	ASSERT_EQ(0, bpf_link__destroy(self->link));
	self->link = NULL;
	ftd_log_clear(self->d);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(strlen(FILE_CONTENT), st.st_size);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_GETATTR);
}

/*
 * A link moved to another map of the connection (BPF_LINK_UPDATE): the
 * new program answers from then on, the old one no more.
 */
TEST_F(req, update)
{
	struct stat st;
	int err;

	ASSERT_EQ(0, put_file_attrs(self->skel));
	ATTACH(serve);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(PROG_SIZE, st.st_size);

	ASSERT_LE(0, dup2(self->d->fd, CONN_FD));
	err = bpf_link__update_map(self->link, self->skel->maps.empty);
	close(CONN_FD);
	ASSERT_EQ(0, err) TH_LOG("update: %s", strerror(-err));
	ftd_log_clear(self->d);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(strlen(FILE_CONTENT), st.st_size);
	ASSERT_FUSE_RECEIVED(self->d, FUSE_GETATTR);
}

/* One program per connection; only the server's /dev/fuse names one. */
TEST_F(req, attach_rules)
{
	struct bpf_link *link;
	int fd;

	ATTACH(serve);
	link = conn_attach(self->d->fd, self->skel->maps.empty);
	ASSERT_EQ(NULL, link);
	ASSERT_EQ(EEXIST, errno);

	/* A file of the mount is not the server's handle. */
	fd = open(mnt_path(self->d, "other"), O_RDONLY);
	ASSERT_LE(0, fd);
	bpf_link__destroy(self->link);
	self->link = NULL;
	link = conn_attach(fd, self->skel->maps.empty);
	ASSERT_EQ(NULL, link);
	ASSERT_EQ(EINVAL, errno);
	close(fd);

	/* Nor is any other file. */
	fd = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, fd);
	link = conn_attach(fd, self->skel->maps.empty);
	ASSERT_EQ(NULL, link);
	ASSERT_EQ(EINVAL, errno);
	close(fd);

	/* Unprivileged: refused. */
	if (fork() == 0) {
		if (setresuid(1000, 1000, 1000))
			_exit(100);
		link = conn_attach(self->d->fd, self->skel->maps.empty);
		_exit(link ? 0 : errno);
	} else {
		int status;

		ASSERT_LT(0, wait(&status));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(EPERM, WEXITSTATUS(status));
	}
}

/* The daemon's hook: a GETATTR of "other" kills the server. */
static int die_on_other(struct ftd *d, const struct fuse_in_header *in,
			const void *arg, size_t len, void *priv)
{
	if (in->opcode == FUSE_GETATTR && in->nodeid == OTHER_ID)
		return FTD_DIE;
	return FTD_DEFAULT;
}

/*
 * The server dies: the request in flight fails with ECONNABORTED, later
 * ones with ENOTCONN, those the program would answer too (a connection
 * that is gone answers nothing).
 */
TEST_F(req, server_gone)
{
	struct stat st;

	ASSERT_EQ(0, put_file_attrs(self->skel));
	ATTACH(serve);
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(PROG_SIZE, st.st_size);
	self->cfg.hook = die_on_other;
	ASSERT_EQ(-1, stat(mnt_path(self->d, "other"), &st));
	ASSERT_EQ(ECONNABORTED, errno);
	ASSERT_EQ(-1, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(ENOTCONN, errno);
}

/*
 * Backing files a program holds, on a fuse-bpf connection with a server
 * (where directories may be registered too): a tmpfs of its own, so that
 * a file a program still holds keeps it busy.
 */
#define DATA_SIZE	1000
#define DATA_MODE	(S_IFREG | 0604)
#define INNER_SIZE	77

FIXTURE(req_backing) {
	char back[64];
	struct ftd_config cfg;
	struct ftd *d;
	struct request_backing *skel;
	struct bpf_link *link;
	int file_id, dir_id;
};

static int write_file(const char *path, size_t size, mode_t mode)
{
	char buf[DATA_SIZE] = {};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, buf, size) != size || fchmod(fd, mode))
		return -1;
	return close(fd);
}

FIXTURE_SETUP(req_backing)
{
	char path[128];
	struct bpf_map *map;

	strcpy(self->back, "/tmp/reqbk.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->back));
	ASSERT_EQ(0, mount("reqbk", self->back, "tmpfs", 0, "size=4m"));
	snprintf(path, sizeof(path), "%s/data", self->back);
	ASSERT_EQ(0, write_file(path, DATA_SIZE, DATA_MODE & 07777));
	snprintf(path, sizeof(path), "%s/sub", self->back);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/sub/inner", self->back);
	ASSERT_EQ(0, write_file(path, INNER_SIZE, 0644));
	snprintf(path, sizeof(path), "%s/sub/dir", self->back);
	ASSERT_EQ(0, mkdir(path, 0755));
	/* Ways out of sub/, each to a file that exists */
	snprintf(path, sizeof(path), "%s/sub/rlink", self->back);
	ASSERT_EQ(0, symlink("../data", path));
	snprintf(path, sizeof(path), "%s/sub/alink", self->back);
	{
		char target[128];

		snprintf(target, sizeof(target), "%s/data", self->back);
		ASSERT_EQ(0, symlink(target, path));
	}
	snprintf(path, sizeof(path), "%s/sub/fifo", self->back);
	ASSERT_EQ(0, mkfifo(path, 0666));
	snprintf(path, sizeof(path), "%s/sub/null", self->back);
	ASSERT_EQ(0, mknod(path, S_IFCHR | 0666, makedev(1, 3)));

	self->cfg.entries = req_tree;
	self->cfg.uncached = true;
	self->cfg.mount_opts = "fuse_bpf";
	self->d = ftd_start(&self->cfg);
	ASSERT_NE(NULL, self->d) TH_LOG("cannot mount: %s", strerror(errno));

	snprintf(path, sizeof(path), "%s/data", self->back);
	self->file_id = backing_register(self->d, path, O_RDONLY);
	ASSERT_LT(0, self->file_id) TH_LOG("register: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/sub", self->back);
	self->dir_id = backing_register(self->d, path, O_RDONLY | O_DIRECTORY);
	ASSERT_LT(0, self->dir_id) TH_LOG("register: %s", strerror(errno));

	self->skel = request_backing__open();
	ASSERT_NE(NULL, self->skel);
	bpf_object__for_each_map(map, self->skel->obj) {
		struct request_backing__backing__fuse_bpf_request_ops *v;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		v = bpf_map__initial_value(map, NULL);
		v->fuse_fd = CONN_FD;
	}
	ASSERT_EQ(0, request_backing__load(self->skel));
	self->skel->bss->file_nodeid = FILE_ID;
	self->skel->bss->file_backing = self->file_id;
	self->skel->bss->dir_backing = self->dir_id;
	self->skel->bss->inner_nodeid = OTHER_ID;
	self->link = conn_attach(self->d->fd, self->skel->maps.backing);
	ASSERT_NE(NULL, self->link) TH_LOG("attach: %s", strerror(errno));
}

FIXTURE_TEARDOWN(req_backing)
{
	bpf_link__destroy(self->link);
	request_backing__destroy(self->skel);
	ftd_stop(self->d);
	umount2(self->back, MNT_DETACH);
	rmdir(self->back);
}

/*
 * GETATTR answered from a registered backing file the program keeps in a
 * map: the backing's attributes, no GETATTR at the server, one acquire.
 * The map keeps the file open after the server closed the id, until the
 * entry goes: the backing tmpfs is busy until then.
 */
TEST_F(req_backing, getattr_from_held_file)
{
	__u64 key = FILE_ID;
	struct stat st;
	int i;

	ftd_log_clear(self->d);
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
		ASSERT_EQ(DATA_SIZE, st.st_size);
		ASSERT_EQ(DATA_MODE, st.st_mode);
	}
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_GETATTR);
	ASSERT_EQ(0, self->skel->bss->getattr_err);
	ASSERT_EQ(1, self->skel->bss->acquired);

	ASSERT_EQ(0, backing_unregister(self->d, self->file_id));
	ASSERT_EQ(0, backing_unregister(self->d, self->dir_id));
	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(DATA_SIZE, st.st_size);
	ASSERT_EQ(1, self->skel->bss->acquired);

	ASSERT_EQ(-1, umount(self->back));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(0, bpf_map__delete_elem(self->skel->maps.held, &key,
					  sizeof(key), 0));
	ASSERT_EQ(0, umount(self->back)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, mount("reqbk", self->back, "tmpfs", 0, "size=4m"));
}

/* A map that goes releases what it holds: the backing is free again. */
TEST_F(req_backing, released_with_the_map)
{
	struct stat st;
	int i;

	ASSERT_EQ(0, stat(mnt_path(self->d, "file"), &st));
	ASSERT_EQ(DATA_SIZE, st.st_size);
	ASSERT_EQ(0, backing_unregister(self->d, self->file_id));
	ASSERT_EQ(0, backing_unregister(self->d, self->dir_id));
	ASSERT_EQ(-1, umount(self->back));
	ASSERT_EQ(EBUSY, errno);
	bpf_link__destroy(self->link);
	self->link = NULL;
	request_backing__destroy(self->skel);
	self->skel = NULL;
	/* Maps are freed after grace periods, from a worker. */
	for (i = 0; i < 600 && umount(self->back); i++)
		usleep(100000);
	ASSERT_GT(600, i) TH_LOG("the backing is still busy after 60 s");
	TH_LOG("the backing was free after %d ms", i * 100);
	ASSERT_EQ(0, mount("reqbk", self->back, "tmpfs", 0, "size=4m"));
}

/* Make a LOOKUP of @name open @path beneath the registered sub/. */
static int put_beneath(struct request_backing *skel, const char *name,
		       const char *path)
{
	struct req_entry_key key = { .parent = FUSE_ROOT_ID };
	char value[REQ_PATH_MAX] = {};

	strcpy(key.name, name);
	strcpy(value, path);
	return bpf_map__update_elem(skel->maps.beneath, &key, sizeof(key),
				    value, sizeof(value), BPF_ANY);
}

/*
 * LOOKUP answered with a file the program opened beneath a registered
 * directory (sub/ of the backing): paths that stay beneath it open, every
 * way out fails although each leads to a file that exists (data beside
 * sub/ is DATA_SIZE bytes, /etc/passwd is there), and so do devices and
 * fifos (without hanging). The program answers ENOENT when it cannot open.
 */
TEST_F(req_backing, open_beneath)
{
	static const struct {
		const char *name, *path;
		bool opens;
	} cases[] = {
		{ "inner", "inner", true },
		{ "viadir", "dir/../inner", true },
		{ "up", "../data", false },
		{ "escape", "../../../../etc/passwd", false },
		{ "abs", "/etc/passwd", false },
		{ "rlink", "rlink", false },
		{ "alink", "alink", false },
		{ "fifo", "fifo", false },
		{ "null", "null", false },
	};
	struct stat st;
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		ASSERT_EQ(0, put_beneath(self->skel, cases[i].name,
					 cases[i].path));
	ftd_log_clear(self->d);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ret = stat(mnt_path(self->d, cases[i].name), &st);
		if (cases[i].opens) {
			EXPECT_EQ(0, ret) TH_LOG("%s: %s", cases[i].name,
						 strerror(errno));
			EXPECT_EQ(INNER_SIZE, st.st_size);
		} else {
			EXPECT_EQ(-1, ret) TH_LOG("%s opened, %lld bytes",
						  cases[i].name,
						  (long long)st.st_size);
			EXPECT_EQ(ENOENT, errno);
		}
	}
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_LOOKUP);
}

/* Register @content as a file of the backing tmpfs; its backing id. */
static int backing_file(FIXTURE_DATA(req_backing) *self, const char *name,
			const char *content)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", self->back, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) != strlen(content))
		return -1;
	close(fd);
	return backing_register(self->d, path, O_RDONLY);
}

static void put_pick(struct request_backing *skel, const char *name,
		     __u64 nodeid, int upper, int lower)
{
	struct req_entry_key key = { .parent = FUSE_ROOT_ID };
	struct request_backing__pick_value {
		__u64 nodeid;
		__u32 upper;
		__u32 lower;
	} v = { nodeid, upper, lower };

	strcpy(key.name, name);
	bpf_map__update_elem(skel->maps.picks, &key, sizeof(key), &v,
			     sizeof(v), BPF_ANY);
}

/*
 * The backing choice in BPF: LOOKUP names, for each node, the upper
 * backing file when there is one, else the lower one; the kernel then
 * serves the node from it, and the server sees none of it.
 */
TEST_F(req_backing, pick_upper_or_lower)
{
	int a_upper, a_lower, b_lower;
	char buf[64];

	a_upper = backing_file(self, "a.upper", "upper a\n");
	a_lower = backing_file(self, "a.lower", "lower a, longer\n");
	b_lower = backing_file(self, "b.lower", "lower b\n");
	ASSERT_LT(0, a_upper);
	ASSERT_LT(0, a_lower);
	ASSERT_LT(0, b_lower);
	put_pick(self->skel, "a", A_ID, a_upper, a_lower);
	put_pick(self->skel, "b", B_ID, 0, b_lower);

	ftd_log_clear(self->d);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(8, read_all(mnt_path(self->d, "a"), buf, sizeof(buf) - 1));
	ASSERT_STREQ("upper a\n", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(8, read_all(mnt_path(self->d, "b"), buf, sizeof(buf) - 1));
	ASSERT_STREQ("lower b\n", buf);
	ASSERT_EQ(1, self->skel->bss->picked_upper);
	ASSERT_EQ(1, self->skel->bss->picked_lower);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_LOOKUP);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_OPEN);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_READ);
	ASSERT_FUSE_NOT_RECEIVED(self->d, FUSE_GETATTR);
}

/*
 * Serve an open from a backing: the program answers OPEN as a server
 * would, with FOPEN_PASSTHROUGH and a backing id the server registered;
 * 6.12 passthrough reads the backing file, the server sees no OPEN and
 * no READ.
 */
TEST(open_by_passthrough)
{
	struct ftd_config cfg = {
		.entries = req_tree,
		.init_flags = FUSE_PASSTHROUGH,
		.uncached = true,
	};
	char path[] = "/tmp/reqpt.XXXXXX", buf[64] = {};
	const char *content = "from the backing file\n";
	struct request__serve__fuse_bpf_request_ops *v;
	struct bpf_link *link;
	struct request *skel;
	struct ftd *d;
	int fd, id;

	d = ftd_start(&cfg);
	ASSERT_NE(NULL, d);
	if (!(d->flags & FUSE_PASSTHROUGH)) {
		ftd_stop(d);
		SKIP(return, "no FUSE_PASSTHROUGH in INIT");
	}
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(strlen(content), write(fd, content, strlen(content)));
	close(fd);
	id = backing_register(d, path, O_RDONLY);
	ASSERT_LT(0, id) TH_LOG("register: %s", strerror(errno));

	skel = request__open();
	ASSERT_NE(NULL, skel);
	v = bpf_map__initial_value(skel->maps.serve, NULL);
	v->fuse_fd = CONN_FD;
	ASSERT_EQ(0, request__load(skel));
	skel->bss->pt_nodeid = FILE_ID;
	skel->bss->pt_backing = id;
	link = conn_attach(d->fd, skel->maps.serve);
	ASSERT_NE(NULL, link);

	ftd_log_clear(d);
	fd = open(mnt_path(d, "file"), O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(strlen(content), read(fd, buf, sizeof(buf)));
	ASSERT_STREQ(content, buf);
	close(fd);
	ASSERT_FUSE_NOT_RECEIVED(d, FUSE_OPEN);
	ASSERT_FUSE_NOT_RECEIVED(d, FUSE_READ);

	/* An id the server never registered: the open fails, cleanly. */
	skel->bss->pt_backing = id + 100;
	fd = open(mnt_path(d, "file"), O_RDONLY);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EIO, errno);

	bpf_link__destroy(link);
	request__destroy(skel);
	ftd_stop(d);
	unlink(path);
}

/* The daemon's hook: GETATTR of "other" waits until the test says. */
struct hold {
	int efd;
};

static int hold_getattr(struct ftd *d, const struct fuse_in_header *in,
			const void *arg, size_t len, void *priv)
{
	struct hold *h = priv;
	__u64 v;

	if (in->opcode == FUSE_GETATTR && in->nodeid == OTHER_ID)
		read(h->efd, &v, sizeof(v));
	return FTD_DEFAULT;
}

static void *stat_other(void *data)
{
	struct ftd *d = data;
	static struct stat st;

	return stat(mnt_path(d, "other"), &st) ? NULL : &st;
}

/*
 * A link detached while a request it watches waits for the server: the
 * detach does not wait for the server, and the server's reply then
 * reaches the caller unedited.
 */
TEST_F(req, detach_in_flight)
{
	struct hold h = { .efd = eventfd(0, 0) };
	struct stat *st;
	pthread_t t;
	__u64 one = 1;
	__u32 replies;

	ASSERT_LE(0, h.efd);
	self->cfg.hook_priv = &h;
	self->cfg.hook = hold_getattr;
	ATTACH(watch);
	ftd_log_clear(self->d);
	ASSERT_EQ(0, pthread_create(&t, NULL, stat_other, self->d));
	ASSERT_TRUE(ftd_wait_count(self->d, FUSE_GETATTR, 1, 10000));
	/* The LOOKUP before it was watched; the GETATTR is in flight. */
	replies = self->skel->bss->replies;
	ASSERT_EQ(0, bpf_link__destroy(self->link));
	self->link = NULL;
	ASSERT_EQ(sizeof(one), write(h.efd, &one, sizeof(one)));
	ASSERT_EQ(0, pthread_join(t, (void **)&st));
	self->cfg.hook = NULL;
	ASSERT_NE(NULL, st);
	ASSERT_EQ(1, st->st_size);
	ASSERT_NE(REQ_WATCH_UID, st->st_uid);
	ASSERT_EQ(replies, self->skel->bss->replies);
	close(h.efd);
}

/* The verifier refuses programs that break the model's rules. */
TEST(verifier_rejects)
{
	libbpf_print_fn_t old = libbpf_set_print(collect_log);

	/* a write to the request */
	ASSERT_REFUSED(bad_req_write,
		       "a request program may not write the request");
	/* a sleepable reply callback */
	ASSERT_REFUSED(bad_req_sleep, "attach to unsupported member reply");
	/* the request kfuncs in a filter */
	ASSERT_REFUSED(bad_req_kfunc,
		       "calling kernel function bpf_fuse_req_in_dynptr is not allowed");
	/* a held backing never released */
	ASSERT_REFUSED(bad_req_leak, "Unreleased reference");
	/* a backing used after its release */
	ASSERT_REFUSED(bad_req_uaf,
		       "arg#1 pointer type STRUCT fuse_backing must point to scalar");
	/* a sleepable kfunc in a callback that may not sleep */
	ASSERT_REFUSED(bad_req_nosleep,
		       "program must be sleepable to call sleepable kfunc bpf_fuse_backing_getattr");
	libbpf_set_print(old);
}

TEST_HARNESS_MAIN
