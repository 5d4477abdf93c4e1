// SPDX-License-Identifier: GPL-2.0
/*
 * Faults a FUSE and fuse-bpf mount must survive, with a clean errno for
 * the caller, a consistent backing tree and a mount that comes apart:
 *
 * kill.*	the daemon, a process of its own, is SIGKILLed while it holds
 *		one request of each kind (and a fuse-bpf userspace pre- or
 *		postfilter upcall, and a request program's SEND_WATCH
 *		request);
 * abort.*	/sys/fs/fuse/connections/N/abort with files open, mapped and
 *		locked, on classic and backed nodes;
 * lazy.*	umount -l with files open, mapped and locked: the open files
 *		keep working, the last close ends the connection;
 * churn.*	filters and request programs detached, attached and replaced
 *		(BPF_LINK_UPDATE) while threads run operations.
 *
 * FAULT_TEST_ROUNDS=<n> runs the churn tests for n rounds instead of 20.
 * Fault injection (failslab, fail_page_alloc) is not here: see the debug
 * kernel's tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backing_env.h"
#include "progs/filters.h"
#include "progs/request.h"
#include "conn_fd.h"
#include "filters.skel.h"
#include "request.skel.h"

#define FUSECTL		"/sys/fs/fuse/connections"
#define FUSECTL_MAGIC	0x65735543
#define WAIT_MS		10000
#define MAP_LEN		4096
#define MAPPED		"written through a shared mapping"
#define BEFORE		"written and fsynced before the fault"
#define AFTER		"written after the abort"
#define VISIBLE		"visible data\n"

/* Make every struct_ops map of @obj (opened, not loaded) name CONN_FD. */
static void bind_filters(struct filters *skel)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, skel->obj) {
		struct filters__hide__fuse_bpf_prefilters *v;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		v = bpf_map__initial_value(map, NULL);
		v->fuse_fd = CONN_FD;
		v->ops_id = 1;
	}
}

static struct filters *filters_load(void)
{
	struct filters *skel = filters__open();

	if (!skel)
		return NULL;
	bind_filters(skel);
	if (filters__load(skel)) {
		filters__destroy(skel);
		return NULL;
	}
	return skel;
}

static struct request *request_load(void)
{
	struct request *skel = request__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj) {
		struct request__serve__fuse_bpf_request_ops *v;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		v = bpf_map__initial_value(map, NULL);
		v->fuse_fd = CONN_FD;
	}
	if (request__load(skel)) {
		request__destroy(skel);
		return NULL;
	}
	return skel;
}

/* The fusectl directory of the connection of the mount with @dev. */
static int ctl_dir(dev_t dev, char *buf, size_t size)
{
	struct statfs sfs;

	if (statfs(FUSECTL, &sfs))
		return -1;
	if (sfs.f_type != FUSECTL_MAGIC &&
	    mount("fusectl", FUSECTL, "fusectl", 0, NULL))
		return -1;
	/* fs/fuse/control.c names it by the kernel's dev_t of the sb */
	snprintf(buf, size, FUSECTL "/%u",
		 (unsigned int)(major(dev) << 20 | minor(dev)));
	return 0;
}

static bool ctl_exists(dev_t dev)
{
	char dir[64];
	struct stat st;

	return !ctl_dir(dev, dir, sizeof(dir)) && !stat(dir, &st);
}

static int abort_conn(dev_t dev)
{
	char dir[64];

	if (ctl_dir(dev, dir, sizeof(dir)))
		return -1;
	return write_str(path_in(dir, "abort"), "1");
}

/* Whether the test daemon's thread has ended (it read ENODEV). */
static bool daemon_exited(struct ftd *d, int timeout_ms)
{
	bool exited = false;
	int i;

	for (i = 0; i <= timeout_ms / 10 && !exited; i++) {
		pthread_mutex_lock(&d->lock);
		exited = d->exited && !d->error;
		pthread_mutex_unlock(&d->lock);
		if (!exited)
			usleep(10000);
	}
	return exited;
}

/* The type of the POSIX write lock on @path that an OFD owner sees. */
static short lock_on(const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR | O_CLOEXEC);
	short type = -1;

	if (fd >= 0 && !fcntl(fd, F_OFD_GETLK, &fl))
		type = fl.l_type;
	if (fd >= 0)
		close(fd);
	return type;
}

/* Whether a new open file description of @path can take an flock. */
static bool flock_free(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = !flock(fd, LOCK_EX | LOCK_NB);
	close(fd);
	return ok;
}

/* @path holds @size bytes that start with @prefix. */
static void check_prefix(struct __test_metadata *_metadata, const char *path,
			 const char *prefix, size_t size)
{
	char buf[256];

	ASSERT_EQ(size, read_all(path, buf, sizeof(buf)))
		TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, memcmp(buf, prefix, strlen(prefix))) TH_LOG("%s", path);
}

/* ---- kill: SIGKILL of the daemon process while it holds a request ---- */

static const struct ftd_entry kill_tree[] = {
	{ "file", S_IFREG | 0644, CONTENT },
	{ "dir", S_IFDIR | 0755 },
	{ NULL }
};

/* The callers: each makes one request the daemon will hold; 0 or errno. */
#define RET(call)	((call) < 0 ? errno : 0)

static int do_lookup(const char *mnt)
{
	struct stat st;

	return RET(stat(path_in(mnt, "file"), &st));
}

static int do_getattr(const char *mnt)
{
	struct statx stx;

	return RET(statx(AT_FDCWD, path_in(mnt, "file"), AT_STATX_FORCE_SYNC,
			 STATX_BASIC_STATS, &stx));
}

static int do_open(const char *mnt)
{
	return RET(open(path_in(mnt, "file"), O_RDONLY));
}

static int do_read(const char *mnt)
{
	int fd = open(path_in(mnt, "file"), O_RDONLY);
	char buf[64];

	return fd < 0 ? 100 : RET(read(fd, buf, sizeof(buf)));
}

static int do_write(const char *mnt)
{
	int fd = open(path_in(mnt, "file"), O_WRONLY);

	return fd < 0 ? 100 : RET(write(fd, "x", 1));
}

static int do_create(const char *mnt)
{
	return RET(open(path_in(mnt, "new"), O_WRONLY | O_CREAT, 0644));
}

static int do_mkdir(const char *mnt)
{
	return RET(mkdir(path_in(mnt, "newdir"), 0755));
}

static int do_rename(const char *mnt)
{
	return RET(rename(path_in(mnt, "file"), path_in(mnt, "moved")));
}

static int do_unlink(const char *mnt)
{
	return RET(unlink(path_in(mnt, "file")));
}

static int do_setattr(const char *mnt)
{
	return RET(chmod(path_in(mnt, "file"), 0600));
}

static int do_setxattr(const char *mnt)
{
	return RET(setxattr(path_in(mnt, "file"), "user.x", "v", 1, 0));
}

static int do_readdir(const char *mnt)
{
	struct dent d[8];

	return RET(list_dir(mnt, d, ARRAY_SIZE(d)));
}

static int do_fsync(const char *mnt)
{
	int fd = open(path_in(mnt, "file"), O_RDWR);

	return fd < 0 ? 100 : RET(fsync(fd));
}

static int do_flush(const char *mnt)
{
	int fd = open(path_in(mnt, "file"), O_RDONLY);

	return fd < 0 ? 100 : RET(close(fd));
}

static int do_setlkw(const char *mnt)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path_in(mnt, "file"), O_RDWR);

	return fd < 0 ? 100 : RET(fcntl(fd, F_SETLKW, &fl));
}

/* fuse-bpf, filters "user": lookups of "ask*" go to the prefilter */
static int do_user_prefilter(const char *mnt)
{
	struct stat st;

	return RET(stat(path_in(mnt, "askme"), &st));
}

/* ... and rmdir to the postfilter, after the backing rmdir */
static int do_user_postfilter(const char *mnt)
{
	return RET(rmdir(path_in(mnt, "d/x")));
}

enum kill_mount {
	KILL_CLASSIC,		/* the tree above, served by the daemon */
	KILL_FILTERS,		/* fuse-bpf, root_dir=, filters "user" */
	KILL_WATCH,		/* classic, request program "watch" */
};

FIXTURE(kill) {
	struct env e;		/* e.back for fuse-bpf; e.d stays NULL */
	struct filters *filters;
	struct request *req;
	int links[2];		/* the daemon's links, held by the test */
	pid_t daemon;
	char mnt[64];
	int pipe[2];
};

FIXTURE_VARIANT(kill) {
	enum kill_mount mount;
	__u32 opcode;		/* the request the daemon holds */
	int (*op)(const char *mnt);
	int err;		/* what the caller gets */
	int alt_err;		/* or this, where the kernel has two paths */
	bool links_die;		/* the links die with the daemon */
};

/*
 * The daemon's death closes its /dev/fuse, the last one: fuse_dev_release()
 * aborts the connection. fuse_abort_conn() ends every request it finds,
 * those the daemon read and those still queued, with ECONNABORTED; the
 * requests made after it fail with ENOTCONN (fuse_get_req()). So a caller
 * whose request the dying daemon held sees ECONNABORTED (close() for
 * FLUSH, fcntl() for SETLKW: fuse_setlk() turns only EINTR into a
 * restart), except READ: when the daemon holds readahead's READ
 * (fuse_readahead()), the folio is left !uptodate and read() reads it
 * again itself (filemap_read_folio()), after the abort: ENOTCONN (seen on
 * one CPU); when the READ held is read_folio's own (the folio was not
 * in the cache any more, filemap_create_folio()), ECONNABORTED (seen
 * once on the two-CPU debug kernel). Both are accepted.
 * A userspace pre- or postfilter upcall is a request like the others; a
 * SEND_WATCH request's reply callback runs on the error.
 */
FIXTURE_VARIANT_ADD(kill, lookup) {
	.mount = KILL_CLASSIC, .opcode = FUSE_LOOKUP, .op = do_lookup, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, getattr) {
	.mount = KILL_CLASSIC, .opcode = FUSE_GETATTR, .op = do_getattr, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, open) {
	.mount = KILL_CLASSIC, .opcode = FUSE_OPEN, .op = do_open, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, read) {
	.mount = KILL_CLASSIC, .opcode = FUSE_READ, .op = do_read, .err = ENOTCONN,
	.alt_err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, write) {
	.mount = KILL_CLASSIC, .opcode = FUSE_WRITE, .op = do_write, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, create) {
	.mount = KILL_CLASSIC, .opcode = FUSE_CREATE, .op = do_create, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, mkdir) {
	.mount = KILL_CLASSIC, .opcode = FUSE_MKDIR, .op = do_mkdir, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, rename) {
	.mount = KILL_CLASSIC, .opcode = FUSE_RENAME, .op = do_rename, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, unlink) {
	.mount = KILL_CLASSIC, .opcode = FUSE_UNLINK, .op = do_unlink, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, setattr) {
	.mount = KILL_CLASSIC, .opcode = FUSE_SETATTR, .op = do_setattr, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, setxattr) {
	.mount = KILL_CLASSIC, .opcode = FUSE_SETXATTR, .op = do_setxattr, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, readdir) {
	.mount = KILL_CLASSIC, .opcode = FUSE_READDIR, .op = do_readdir, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, fsync) {
	.mount = KILL_CLASSIC, .opcode = FUSE_FSYNC, .op = do_fsync, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, flush) {
	.mount = KILL_CLASSIC, .opcode = FUSE_FLUSH, .op = do_flush, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, setlkw) {
	.mount = KILL_CLASSIC, .opcode = FUSE_SETLKW, .op = do_setlkw, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, user_prefilter) {
	.mount = KILL_FILTERS, .opcode = FUSE_LOOKUP | FUSE_PREFILTER,
	.op = do_user_prefilter, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, user_postfilter) {
	.mount = KILL_FILTERS, .opcode = FUSE_RMDIR | FUSE_POSTFILTER,
	.op = do_user_postfilter, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, send_watch) {
	.mount = KILL_WATCH, .opcode = FUSE_GETATTR, .op = do_getattr, .err = ECONNABORTED,
};

FIXTURE_VARIANT_ADD(kill, user_postfilter_links_die) {
	.mount = KILL_FILTERS, .opcode = FUSE_RMDIR | FUSE_POSTFILTER,
	.op = do_user_postfilter, .err = ECONNABORTED, .links_die = true,
};

FIXTURE_VARIANT_ADD(kill, send_watch_links_die) {
	.mount = KILL_WATCH, .opcode = FUSE_GETATTR, .op = do_getattr, .err = ECONNABORTED,
	.links_die = true,
};

/* What the daemon process tells the test. */
struct kill_msg {
	int what;
	int err;
	__u32 opcode;
	__u32 link_ids[2];
	char mnt[64];
};

#define MSG_READY	1	/* mounted, filters attached: mnt, link_ids */
#define MSG_HELD	2	/* holding a request: opcode */
#define MSG_FAILED	3	/* could not start: err */

struct killer {
	__u32 opcode;
	int pipe;
};

/* The daemon's hook: hold the request of the variant until killed. */
static int hold_hook(struct ftd *d, const struct fuse_in_header *in,
		     const void *arg, size_t len, void *priv)
{
	struct killer *k = priv;
	struct kill_msg m = { .what = MSG_HELD, .opcode = in->opcode };

	if (in->opcode != k->opcode)
		return FTD_DEFAULT;
	if (write(k->pipe, &m, sizeof(m)) != sizeof(m))
		return -EIO;
	for (;;)
		pause();
}

static __u32 link_id(struct bpf_link *link)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len))
		return 0;
	return info.id;
}

/* The daemon process: mount, attach, report, then serve until killed. */
static void daemon_main(FIXTURE_DATA(kill) *self, const FIXTURE_VARIANT(kill) *variant)
{
	struct killer k = { .opcode = variant->opcode, .pipe = self->pipe[1] };
	struct ftd_config cfg = {
		.entries = kill_tree,
		.init_flags = FUSE_POSIX_LOCKS,
		.hook = hold_hook,
		.hook_priv = &k,
	};
	struct kill_msg m = { .what = MSG_FAILED };
	struct bpf_link *link;
	char opts[64];
	struct ftd *d;
	int fd;

	if (variant->mount == KILL_FILTERS) {
		fd = open(self->e.back, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(opts, sizeof(opts), "fuse_bpf,root_dir=%d,ops=1", fd);
		cfg.entries = NULL;
		cfg.mount_opts = opts;
	}
	d = ftd_start(&cfg);
	if (!d) {
		m.err = errno;
		goto out;
	}
	snprintf(m.mnt, sizeof(m.mnt), "%s", d->mnt);
	if (variant->mount == KILL_FILTERS) {
		link = conn_attach(d->fd, self->filters->maps.user);
		m.link_ids[0] = link ? link_id(link) : 0;
		link = conn_attach(d->fd, self->filters->maps.post);
		m.link_ids[1] = link ? link_id(link) : 0;
		if (!m.link_ids[0] || !m.link_ids[1]) {
			m.err = errno;
			goto out;
		}
	} else if (variant->mount == KILL_WATCH) {
		link = conn_attach(d->fd, self->req->maps.watch);
		m.link_ids[0] = link ? link_id(link) : 0;
		if (!m.link_ids[0]) {
			m.err = errno;
			goto out;
		}
	}
	m.what = MSG_READY;
out:
	if (write(self->pipe[1], &m, sizeof(m)) != sizeof(m))
		_exit(1);
	for (;;)
		pause();
}

static int read_msg(int fd, struct kill_msg *m, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return read(fd, m, sizeof(*m)) == sizeof(*m) ? 0 : -1;
}

FIXTURE_SETUP(kill)
{
	struct kill_msg m;
	int i;

	self->links[0] = -1;
	self->links[1] = -1;
	self->daemon = -1;
	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC));
	if (variant->mount == KILL_FILTERS) {
		ASSERT_EQ(0, env_backing(&self->e))
			TH_LOG("backing tmpfs: %s", strerror(errno));
		put_str(_metadata, BACK("visible"), CONTENT);
		ASSERT_EQ(0, mkdir(BACK("d"), 0755));
		ASSERT_EQ(0, mkdir(BACK("d/x"), 0755));
		self->filters = filters_load();
		ASSERT_NE(NULL, self->filters);
	} else {
		ASSERT_EQ(0, private_mounts());
	}
	if (variant->mount == KILL_WATCH) {
		self->req = request_load();
		ASSERT_NE(NULL, self->req);
	}
	self->daemon = fork();
	ASSERT_LE(0, self->daemon);
	if (!self->daemon) {
		daemon_main(self, variant);
		_exit(1);
	}
	ASSERT_EQ(0, read_msg(self->pipe[0], &m, WAIT_MS));
	ASSERT_EQ(MSG_READY, m.what) TH_LOG("daemon: %s", strerror(m.err));
	snprintf(self->mnt, sizeof(self->mnt), "%s", m.mnt);
	/* the test holds the links too: they outlive the daemon (but links_die) */
	for (i = 0; i < 2; i++) {
		if (!m.link_ids[i] || variant->links_die)
			continue;
		self->links[i] = bpf_link_get_fd_by_id(m.link_ids[i]);
		ASSERT_LE(0, self->links[i]);
	}
}

FIXTURE_TEARDOWN(kill)
{
	int i;

	if (self->daemon > 0) {
		kill(self->daemon, SIGKILL);
		waitpid(self->daemon, NULL, 0);
	}
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
	}
	for (i = 0; i < 2; i++)
		if (self->links[i] >= 0)
			close(self->links[i]);
	filters__destroy(self->filters);
	request__destroy(self->req);
	env_cleanup(&self->e);
	close(self->pipe[0]);
	close(self->pipe[1]);
}

TEST_F(kill, in_flight)
{
	struct kill_msg m = {};
	struct statx stx;
	struct stat st;
	int status, fd;
	pid_t caller;

	if (variant->mount == KILL_FILTERS) {
		/* written through the mount and fsynced before the fault */
		fd = open(path_in(self->mnt, "visible"), O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
		ASSERT_EQ(strlen(BEFORE), pwrite(fd, BEFORE, strlen(BEFORE), 0));
		ASSERT_EQ(0, fsync(fd));
		ASSERT_EQ(0, close(fd));
	}
	caller = fork();
	ASSERT_LE(0, caller);
	if (!caller)
		_exit(variant->op(self->mnt));
	ASSERT_EQ(0, read_msg(self->pipe[0], &m, WAIT_MS))
		TH_LOG("the request never reached the daemon");
	ASSERT_EQ(MSG_HELD, m.what);
	ASSERT_EQ(variant->opcode, m.opcode);
	/* the caller waits for the answer */
	usleep(20000);
	ASSERT_EQ(0, waitpid(caller, &status, WNOHANG));

	ASSERT_EQ(0, kill(self->daemon, SIGKILL));
	ASSERT_EQ(self->daemon, waitpid(self->daemon, &status, 0));
	self->daemon = -1;
	status = child_status(caller, WAIT_MS);
	ASSERT_NE(-1, status) TH_LOG("the caller hangs or died");
	ASSERT_NE(100, status) TH_LOG("the caller's open failed");
	if (variant->alt_err && status == variant->alt_err)
		status = variant->err;
	ASSERT_EQ(variant->err, status) TH_LOG("the caller got %s, expected %s",
					       strerror(status),
					       strerror(variant->err));

	/* what needs the daemon now fails at once */
	ASSERT_FAILS(ENOTCONN, statx(AT_FDCWD, self->mnt, AT_STATX_FORCE_SYNC,
				     STATX_BASIC_STATS, &stx));
	if (variant->mount == KILL_FILTERS && variant->links_die) {
		/* without their filters the nodes refuse everything */
		ASSERT_FAILS(ENOTCONN, stat(path_in(self->mnt, "visible"), &st));
	} else if (variant->mount == KILL_FILTERS) {
		/* backed nodes are served from the backing, still filtered */
		check_prefix(_metadata, path_in(self->mnt, "visible"), BEFORE,
			     strlen(CONTENT));
		ASSERT_FAILS(ENOTCONN, stat(path_in(self->mnt, "asktoo"), &st));
	}
	if (variant->mount == KILL_FILTERS) {
		check_prefix(_metadata, BACK("visible"), BEFORE, strlen(CONTENT));
		/* the postfilter runs after the backing rmdir: it is done */
		if (variant->opcode & FUSE_POSTFILTER)
			ASSERT_FAILS(ENOENT, stat(BACK("d/x"), &st));
		else
			ASSERT_EQ(0, stat(BACK("d/x"), &st));
		ASSERT_EQ(0, stat(BACK("d"), &st));
	}
	if (variant->mount == KILL_WATCH && !variant->links_die) {
		/* the reply callback, still attached, saw the abort */
		ASSERT_EQ(-ECONNABORTED, self->req->bss->reply_error);
	}
	ASSERT_EQ(0, umount2(self->mnt, 0)) TH_LOG("umount: %s", strerror(errno));
	ASSERT_EQ(0, rmdir(self->mnt));
	self->mnt[0] = '\0';
	if (variant->mount == KILL_FILTERS) {
		/* nothing holds the backing: no leaked backing file */
		ASSERT_EQ(0, umount2(self->e.back, 0))
			TH_LOG("umount of the backing: %s", strerror(errno));
	}
}

/* ---- abort and umount -l with files open, mapped and locked ---- */

static char map_content[MAP_LEN + 1];

static const struct ftd_entry held_tree[] = {
	{ "data", S_IFREG | 0644, CONTENT },
	{ "map", S_IFREG | 0644, map_content },
	{ "lk", S_IFREG | 0644, "x" },
	{ NULL }
};

enum held_mount {
	HELD_CLASSIC,		/* held_tree, served by the daemon */
	HELD_BACKED,		/* fuse-bpf with a daemon, backed nodes */
	HELD_NO_DAEMON,		/* fuse-bpf without a daemon */
};

FIXTURE(held) {
	struct env e;
	char written[64];	/* classic: the daemon's copy of "map" */
	int dir;		/* the mount's root */
	int fd;			/* "data", O_RDWR (O_RDONLY on classic) */
	int mfd;		/* "map", mapped shared and written */
	int lfd;		/* "lk", flock and POSIX write lock */
	char *map;
};

FIXTURE_VARIANT(held) {
	enum held_mount mount;
};

FIXTURE_VARIANT_ADD(held, classic) {
	.mount = HELD_CLASSIC,
};

FIXTURE_VARIANT_ADD(held, backed) {
	.mount = HELD_BACKED,
};

FIXTURE_VARIANT_ADD(held, no_daemon) {
	.mount = HELD_NO_DAEMON,
};

/* The classic daemon takes writes to "map" and keeps their start. */
static int held_write(struct ftd *d, const struct fuse_in_header *in,
		      const void *arg, size_t len, void *priv)
{
	const struct fuse_write_in *w = arg;
	struct fuse_write_out out = { .size = w->size };
	char *written = priv;

	if (in->opcode != FUSE_WRITE)
		return FTD_DEFAULT;
	if (len < sizeof(*w) + w->size)
		return -EINVAL;
	if (in->nodeid == ftd_lookup(d, FUSE_ROOT_ID, "map") && !w->offset)
		memcpy(written, w + 1, w->size < 64 ? w->size : 63);
	return ftd_reply(d, in->unique, 0, &out, sizeof(out)) ?: FTD_HANDLED;
}

FIXTURE_SETUP(held)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	bool classic = variant->mount == HELD_CLASSIC;
	struct stat st;
	int err = 0;

	self->dir = -1;
	self->fd = -1;
	self->mfd = -1;
	self->lfd = -1;
	self->map = MAP_FAILED;
	memset(map_content, 'm', MAP_LEN);
	if (env_backing(&self->e))
		err = errno;
	ASSERT_EQ(0, err) TH_LOG("backing tmpfs: %s", strerror(err));
	put_str(_metadata, BACK("data"), CONTENT);
	put_str(_metadata, BACK("map"), map_content);
	put_str(_metadata, BACK("lk"), "x");
	if (classic) {
		self->e.cfg.entries = held_tree;
		self->e.cfg.hook = held_write;
		self->e.cfg.hook_priv = self->written;
		self->e.d = ftd_start(&self->e.cfg);
		ASSERT_NE(NULL, self->e.d) TH_LOG("mount: %s", strerror(errno));
		snprintf(self->e.mnt, sizeof(self->e.mnt), "%s", self->e.d->mnt);
		ASSERT_EQ(0, stat(self->e.mnt, &st));
		self->e.dev = st.st_dev;
	} else {
		err = env_mount(&self->e, variant->mount == HELD_BACKED) ?
		      errno : 0;
		ASSERT_EQ(0, err) TH_LOG("mount: %s", strerror(err));
	}
	ASSERT_TRUE(ctl_exists(self->e.dev)) TH_LOG("no fusectl entry");

	self->dir = open(self->e.mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dir);
	self->fd = open(MNT("data"), (classic ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	if (classic) {
		char buf[64] = {};

		/* in the page cache now */
		ASSERT_EQ(strlen(CONTENT), read(self->fd, buf, sizeof(buf)));
	} else {
		ASSERT_EQ(strlen(BEFORE), pwrite(self->fd, BEFORE,
						 strlen(BEFORE), 0));
		ASSERT_EQ(0, fsync(self->fd));
	}
	self->mfd = open(MNT("map"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	self->map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->mfd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ('m', self->map[0]);
	memcpy(self->map, MAPPED, strlen(MAPPED));
	self->lfd = open(MNT("lk"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, flock(self->lfd, LOCK_EX | LOCK_NB));
	ASSERT_EQ(0, fcntl(self->lfd, F_SETLK, &fl));
	if (!classic) {
		/* a backed node's locks are the backing file's */
		ASSERT_EQ(F_WRLCK, lock_on(BACK("lk")));
		ASSERT_FALSE(flock_free(BACK("lk")));
	}
}

FIXTURE_TEARDOWN(held)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, MAP_LEN);
	if (self->lfd >= 0)
		close(self->lfd);
	if (self->mfd >= 0)
		close(self->mfd);
	if (self->fd >= 0)
		close(self->fd);
	if (self->dir >= 0)
		close(self->dir);
	env_cleanup(&self->e);
}

/*
 * A backed node's operations after the end of the connection: served from
 * the backing as on a no_daemon mount (whose connection is aborted from
 * the start), by the open files and by new opens.
 */
static void check_backed_served(struct __test_metadata *_metadata,
				FIXTURE_DATA(held) *self)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
	char buf[128] = {};
	struct stat st;
	int fd;

	ASSERT_EQ(strlen(BEFORE), pread(self->fd, buf, strlen(BEFORE), 0));
	ASSERT_EQ(0, memcmp(buf, BEFORE, strlen(BEFORE)));
	ASSERT_EQ(strlen(AFTER), pwrite(self->fd, AFTER, strlen(AFTER), 64));
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_EQ(0, fstat(self->fd, &st));
	ASSERT_EQ(64 + strlen(AFTER), st.st_size);
	fd = openat(self->dir, "data", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(strlen(AFTER), pread(fd, buf, strlen(AFTER), 64));
	ASSERT_EQ(0, memcmp(buf, AFTER, strlen(AFTER)));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, mkdirat(self->dir, "made_after", 0755));
	ASSERT_EQ(0, stat(BACK("made_after"), &st));
	/* the mapping still writes to the backing file */
	memcpy(self->map + 100, MAPPED, strlen(MAPPED));
	ASSERT_EQ(0, msync(self->map, MAP_LEN, MS_SYNC));
	/* a lock is released and taken again */
	ASSERT_EQ(0, fcntl(self->lfd, F_SETLK, &fl));
	ASSERT_EQ(F_UNLCK, lock_on(BACK("lk")));
	fl.l_type = F_WRLCK;
	ASSERT_EQ(0, fcntl(self->lfd, F_SETLK, &fl));
	ASSERT_EQ(F_WRLCK, lock_on(BACK("lk")));
}

/* close(@fd) must give @err (0: succeed); the descriptor goes anyway. */
static void close_err(struct __test_metadata *_metadata, int *fd, int err,
		      const char *what)
{
	int ret;

	errno = 0;
	ret = close(*fd);
	*fd = -1;
	EXPECT_EQ(err, ret ? errno : 0)
		TH_LOG("close of %s: %s, expected %s", what,
		       ret ? strerror(errno) : "success", strerror(err));
}

/*
 * Closing and unmapping the held files: close() gives @err, and @map_err
 * for the mapped file; the backing's locks go.
 */
static void close_held(struct __test_metadata *_metadata,
		       FIXTURE_DATA(held) *self, int err, int map_err)
{
	char buf[MAP_LEN];

	ASSERT_EQ(0, munmap(self->map, MAP_LEN));
	self->map = MAP_FAILED;
	close_err(_metadata, &self->lfd, err, "lk");
	close_err(_metadata, &self->mfd, map_err, "map");
	close_err(_metadata, &self->fd, err, "data");
	ASSERT_EQ(0, close(self->dir));
	self->dir = -1;

	/* the backing file's locks went with the close */
	ASSERT_EQ(F_UNLCK, lock_on(BACK("lk")));
	ASSERT_TRUE(flock_free(BACK("lk")));
	if (self->e.d)
		return;	/* classic: no backing file behind the mount */
	ASSERT_EQ(MAP_LEN, read_all(BACK("map"), buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, MAPPED, strlen(MAPPED)));
	ASSERT_EQ(0, memcmp(buf + 100, MAPPED, strlen(MAPPED)));
	ASSERT_EQ(64 + strlen(AFTER), read_all(BACK("data"), buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, BEFORE, strlen(BEFORE)));
	ASSERT_EQ(0, memcmp(buf + 64, AFTER, strlen(AFTER)));
}

/*
 * An abort ends the connection: a classic node fails what needs the
 * daemon with ENOTCONN (what the page cache and the attribute cache
 * hold is still read from them); a backed node keeps being served from
 * the backing, as on a no_daemon mount, whose connection is aborted from
 * the start (and which an abort does not change).
 */
TEST_F(held, abort)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
	bool classic = variant->mount == HELD_CLASSIC;
	char buf[64] = {};
	struct statx stx;

	ASSERT_EQ(0, abort_conn(self->e.dev)) TH_LOG("abort: %s", strerror(errno));
	if (self->e.d)
		ASSERT_TRUE(daemon_exited(self->e.d, WAIT_MS));
	if (classic) {
		ASSERT_FAILS(ENOTCONN, statx(self->dir, "data",
					     AT_STATX_FORCE_SYNC,
					     STATX_BASIC_STATS, &stx));
		ASSERT_FAILS(ENOTCONN, openat(self->dir, "data", O_RDONLY));
		/* the page cache still has the data read before */
		ASSERT_EQ(strlen(CONTENT), pread(self->fd, buf, sizeof(buf), 0))
			TH_LOG("read: %s", strerror(errno));
		ASSERT_EQ(0, memcmp(buf, CONTENT, strlen(CONTENT)));
		ASSERT_EQ(0, fcntl(self->lfd, F_SETLK, &fl));
		close_held(_metadata, self, ENOTCONN, ENOTCONN);
	} else {
		check_backed_served(_metadata, self);
		close_held(_metadata, self, 0, 0);
	}
	ASSERT_EQ(0, umount2(self->e.mnt, 0)) TH_LOG("umount: %s", strerror(errno));
	ASSERT_FALSE(ctl_exists(self->e.dev));
	if (!classic)
		ASSERT_EQ(0, umount2(self->e.back, 0))
			TH_LOG("backing still referenced: %s", strerror(errno));
}

/*
 * umount -l: the open files keep working (the super block and the
 * connection live while they are open; a classic daemon still answers),
 * and the last close ends the connection: the fusectl entry goes, the
 * daemon reads ENODEV, nothing holds the backing any more.
 */
TEST_F(held, lazy_umount)
{
	bool classic = variant->mount == HELD_CLASSIC;
	char buf[64] = {};
	struct statx stx;
	int fd, i;

	ASSERT_EQ(0, umount2(self->e.mnt, MNT_DETACH));
	ASSERT_FALSE(is_mounted(self->e.mnt));
	ASSERT_TRUE(ctl_exists(self->e.dev));
	/* a request the daemon answers, through the detached tree */
	ASSERT_EQ(0, statx(self->dir, "data", AT_STATX_FORCE_SYNC,
			   STATX_BASIC_STATS, &stx));
	ASSERT_EQ(strlen(CONTENT), stx.stx_size);
	fd = openat(self->dir, "data", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("openat: %s", strerror(errno));
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, close(fd));
	if (classic) {
		ASSERT_EQ(0, memcmp(buf, CONTENT, strlen(CONTENT)));
		ASSERT_EQ(0, memcmp(self->map, MAPPED, strlen(MAPPED)));
	} else {
		check_backed_served(_metadata, self);
	}
	/* the daemon keeps serving until the last close */
	if (self->e.d)
		ASSERT_FALSE(daemon_exited(self->e.d, 0));
	close_held(_metadata, self, 0, 0);
	if (classic)	/* the mapping's page was written back at the close */
		ASSERT_EQ(0, memcmp(self->written, MAPPED, strlen(MAPPED)));
	for (i = 0; i < WAIT_MS / 10 && ctl_exists(self->e.dev); i++)
		usleep(10000);
	ASSERT_FALSE(ctl_exists(self->e.dev)) TH_LOG("the connection stays");
	if (self->e.d)
		ASSERT_TRUE(daemon_exited(self->e.d, WAIT_MS))
			TH_LOG("the daemon did not read ENODEV");
	ASSERT_EQ(0, umount2(self->e.back, 0))
		TH_LOG("backing still referenced: %s", strerror(errno));
}

/* ---- churn: filters and request programs replaced under load ---- */

static int churn_rounds(void)
{
	const char *s = getenv("FAULT_TEST_ROUNDS");

	return s && atoi(s) > 0 ? atoi(s) : 20;
}

#define CHURN_THREADS	3

/* The prefilter maps churn.filters moves its link between. */
enum { MAP_COUNT, MAP_HIDE, MAP_READONLY };

struct churn {
	const char *mnt;
	bool classic;		/* request programs on a classic mount */
	atomic_int gen;		/* odd while the filters change */
	atomic_int map;		/* the MAP_* attached while gen is even */
	atomic_int detach;	/* odd while no prefilters are attached */
	atomic_bool stop;
	atomic_int unexpected;
	atomic_int ops;
	atomic_int filtered;	/* failed with an errno a program gave */
	atomic_int strict;	/* ... under one map attached throughout */
	atomic_int refused;	/* ENOTCONN while detached */
	char first[128];	/* the first unexpected result */
	pthread_mutex_t lock;
};

struct worker {
	struct churn *c;
	int id;
};

/*
 * Where one filters map was attached for the whole call (the generation
 * was even and did not change; churn.filters), @err must be what that
 * map makes of the op, @strict (0 for success): a stale filter, or none,
 * would give the other. Otherwise (and for the request programs of
 * churn_req) it may be 0 or @allowed, or ENOTCONN if the call overlapped
 * a time when no prefilters were attached (not a link update, which
 * leaves none out).
 */
static void churn_result(struct churn *c, const char *op, int err,
			 int allowed, int strict, int gen_before,
			 int detach_before)
{
	int gen_after = atomic_load(&c->gen);
	int detach_after = atomic_load(&c->detach);

	atomic_fetch_add(&c->ops, 1);
	if (!c->classic && gen_before == gen_after && !(gen_before & 1)) {
		if (err == strict) {
			if (err) {
				atomic_fetch_add(&c->filtered, 1);
				atomic_fetch_add(&c->strict, 1);
			}
			return;
		}
	} else if (!err) {
		return;
	} else if (err == allowed) {
		atomic_fetch_add(&c->filtered, 1);
		return;
	} else if (err == ENOTCONN && !c->classic &&
		   ((detach_before & 1) || detach_before != detach_after)) {
		atomic_fetch_add(&c->refused, 1);
		return;
	}
	if (atomic_fetch_add(&c->unexpected, 1))
		return;
	pthread_mutex_lock(&c->lock);
	snprintf(c->first, sizeof(c->first), "%s: %s (generation %d..%d)", op,
		 strerror(err), gen_before, gen_after);
	pthread_mutex_unlock(&c->lock);
}

/* Before a call: the generations, then the map (see churn_result()). */
#define CHURN_BEGIN() do {						\
	gen = atomic_load(&c->gen);					\
	det = atomic_load(&c->detach);					\
	map = atomic_load(&c->map);					\
} while (0)

/* stat, open/read/close, create/unlink and readdir, until stopped. */
static void *churn_worker(void *arg)
{
	struct worker *w = arg;
	struct churn *c = w->c;
	const char *content = c->classic ? CONTENT : VISIBLE;
	char file[PATH_MAX], secret[PATH_MAX], name[PATH_MAX], buf[128];
	struct dent d[16];
	struct stat st;
	int gen, det, map, fd, err;
	ssize_t n;

	/* path_in() is not for threads */
	snprintf(file, sizeof(file), "%s/%s", c->mnt,
		 c->classic ? "file" : "visible");
	snprintf(secret, sizeof(secret), "%s/secret1", c->mnt);
	snprintf(name, sizeof(name), "%s/w%d", c->mnt, w->id);
	while (!atomic_load(&c->stop)) {
		CHURN_BEGIN();
		err = RET(stat(file, &st));
		if (!err && st.st_size != (off_t)strlen(content))
			err = EBADMSG;
		churn_result(c, "stat", err, 0, 0, gen, det);

		if (!c->classic) {
			CHURN_BEGIN();
			err = RET(stat(secret, &st));
			/* "hide": ENOENT */
			churn_result(c, "stat secret", err, ENOENT,
				     map == MAP_HIDE ? ENOENT : 0, gen, det);
		}

		CHURN_BEGIN();
		fd = open(file, O_RDONLY | O_CLOEXEC);
		err = fd < 0 ? errno : 0;
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf));
			err = n < 0 ? errno : 0;
			if (n >= 0 && (n != (ssize_t)strlen(content) ||
				       memcmp(buf, content, n)))
				err = EBADMSG;
			if (close(fd) && !err)
				err = errno;
		}
		/* the request program "watch" fails opens: EROFS */
		churn_result(c, "open/read/close", err, c->classic ? EROFS : 0,
			     0, gen, det);

		if (!c->classic) {
			/* "readonly": EROFS */
			CHURN_BEGIN();
			fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			err = fd < 0 ? errno : RET(close(fd));
			churn_result(c, "create", err, EROFS,
				     map == MAP_READONLY ? EROFS : 0, gen, det);
			if (!err) {
				CHURN_BEGIN();
				err = RET(unlink(name));
				churn_result(c, "unlink", err, EROFS,
					     map == MAP_READONLY ? EROFS : 0,
					     gen, det);
			}
		}

		CHURN_BEGIN();
		err = RET(list_dir(c->mnt, d, ARRAY_SIZE(d)));
		churn_result(c, "readdir", err, 0, 0, gen, det);
	}
	return NULL;
}

static void churn_start(struct churn *c, pthread_t *t, struct worker *w)
{
	int i;

	pthread_mutex_init(&c->lock, NULL);
	for (i = 0; i < CHURN_THREADS; i++) {
		w[i].c = c;
		w[i].id = i;
		if (pthread_create(&t[i], NULL, churn_worker, &w[i]))
			t[i] = 0;
	}
}

/* Stop the workers; returns how many there were. */
static int churn_stop(struct churn *c, pthread_t *t)
{
	int i, started = 0;

	atomic_store(&c->stop, true);
	for (i = 0; i < CHURN_THREADS; i++) {
		if (!t[i])
			continue;
		pthread_join(t[i], NULL);
		started++;
	}
	ksft_print_msg("%d operations: %d filtered, %d refused (detached), %d unexpected\n",
		       atomic_load(&c->ops), atomic_load(&c->filtered),
		       atomic_load(&c->refused), atomic_load(&c->unexpected));
	return started;
}

FIXTURE(churn) {
	struct env e;
	struct filters *skel;
};

FIXTURE_VARIANT(churn) {
	bool daemon;
};

FIXTURE_VARIANT_ADD(churn, no_daemon) {
	.daemon = false,
};

FIXTURE_VARIANT_ADD(churn, daemon) {
	.daemon = true,
};

FIXTURE_SETUP(churn)
{
	int err = 0;

	if (env_backing(&self->e))
		err = errno;
	ASSERT_EQ(0, err) TH_LOG("backing tmpfs: %s", strerror(err));
	put_str(_metadata, BACK("visible"), VISIBLE);
	put_str(_metadata, BACK("secret1"), "hidden\n");
	self->skel = filters_load();
	ASSERT_NE(NULL, self->skel);
	strcat(self->e.extra, ",ops=1");
	self->e.ops_pending = true;
	err = env_mount(&self->e, variant->daemon) ? errno : 0;
	ASSERT_EQ(0, err) TH_LOG("mount: %s", strerror(err));
}

FIXTURE_TEARDOWN(churn)
{
	env_cleanup(&self->e);
	filters__destroy(self->skel);
}

/* A descriptor naming the connection: the daemon's, or the mount's. */
static int churn_conn(struct env *e)
{
	if (e->d)
		return dup(e->d->fd);
	return open(e->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/*
 * The prefilters link goes (bpf_link__destroy), comes back with another
 * map, and moves between maps of the connection with BPF_LINK_UPDATE,
 * while threads work on backed nodes: a call made while one map was
 * attached throughout gives what that map makes of it and nothing else
 * ("hide": ENOENT for secret1, "readonly": EROFS for create and unlink,
 * "count": success); one that overlapped a change gives one of those, or
 * ENOTCONN while none was attached; the backing tree matches what the
 * calls said.
 */
TEST_F_TIMEOUT(churn, filters, 600)
{
	struct bpf_map *maps[] = {
		[MAP_COUNT] = self->skel->maps.count,
		[MAP_HIDE] = self->skel->maps.hide,
		[MAP_READONLY] = self->skel->maps.readonly,
	};
	struct churn c = { .mnt = self->e.mnt };
	struct worker w[CHURN_THREADS];
	struct bpf_link *pre, *post;
	pthread_t t[CHURN_THREADS];
	int rounds = churn_rounds(), i, conn, ops;
	char name[16];
	struct stat st;

	conn = churn_conn(&self->e);
	ASSERT_LE(0, conn);
	post = conn_attach(conn, self->skel->maps.hide_post);
	ASSERT_NE(NULL, post) TH_LOG("attach: %s", strerror(errno));
	pre = conn_attach(conn, maps[0]);
	ASSERT_NE(NULL, pre) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(0, stat(self->e.mnt, &st));
	self->e.dev = st.st_dev;

	churn_start(&c, t, w);
	for (i = 0; i < rounds; i++) {
		usleep(2000);
		atomic_fetch_add(&c.gen, 1);
		ASSERT_EQ(0, conn_update(conn, pre, maps[(i + 1) % 3]));
		atomic_store(&c.map, (i + 1) % 3);
		atomic_fetch_add(&c.gen, 1);
		usleep(2000);
		atomic_fetch_add(&c.gen, 1);
		ASSERT_EQ(0, conn_update(conn, pre, maps[(i + 2) % 3]));
		atomic_store(&c.map, (i + 2) % 3);
		atomic_fetch_add(&c.gen, 1);
		usleep(2000);
		atomic_fetch_add(&c.gen, 1);
		atomic_fetch_add(&c.detach, 1);
		ASSERT_EQ(0, bpf_link__destroy(pre));
		usleep(2000);
		pre = conn_attach(conn, maps[i % 3]);
		atomic_fetch_add(&c.detach, 1);
		atomic_store(&c.map, i % 3);
		atomic_fetch_add(&c.gen, 1);
		ASSERT_NE(NULL, pre) TH_LOG("attach: %s", strerror(errno));
	}
	ops = atomic_load(&c.ops);
	ASSERT_EQ(CHURN_THREADS, churn_stop(&c, t));
	EXPECT_EQ(0, atomic_load(&c.unexpected)) TH_LOG("%s", c.first);
	EXPECT_LT(rounds, ops) TH_LOG("%d operations in %d rounds", ops, rounds);
	/* "hide" and "readonly" were attached while the threads ran */
	EXPECT_LT(0, atomic_load(&c.filtered));
	EXPECT_LT(0, atomic_load(&c.strict));

	/* with "count" attached, all is served; each file is in both or none */
	ASSERT_EQ(0, conn_update(conn, pre, maps[0]));
	CHECK_FILE(MNT("visible"), VISIBLE);
	for (i = 0; i < CHURN_THREADS; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		ASSERT_EQ(stat(BACK(name), &st), stat(MNT(name), &st));
		unlink(MNT(name));
	}
	check_same_listing(_metadata, self->e.mnt, self->e.back);
	bpf_link__destroy(pre);
	bpf_link__destroy(post);
	close(conn);
	env_check_shutdown(_metadata, &self->e);
}

static const struct ftd_entry churn_tree[] = {
	{ "file", S_IFREG | 0644, CONTENT },
	{ "other", S_IFREG | 0600, "x" },
	{ NULL }
};

FIXTURE(churn_req) {
	struct ftd_config cfg;
	struct ftd *d;
	struct request *skel;
	struct bpf_link *link;
};

FIXTURE_SETUP(churn_req)
{
	ASSERT_EQ(0, private_mounts());
	self->skel = request_load();
	ASSERT_NE(NULL, self->skel);
	self->cfg.entries = churn_tree;
	self->cfg.uncached = true;
	self->d = ftd_start(&self->cfg);
	ASSERT_NE(NULL, self->d) TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN(churn_req)
{
	bpf_link__destroy(self->link);
	ftd_stop(self->d);
	request__destroy(self->skel);
}

/*
 * A request program attached, moved between maps of the connection and
 * detached while threads stat, read and list a classic mount: every
 * call succeeds, or fails as the program makes it ("watch" fails opens
 * with EROFS); never with another error.
 */
TEST_F_TIMEOUT(churn_req, classic, 600)
{
	struct churn c = { .mnt = self->d->mnt, .classic = true };
	struct worker w[CHURN_THREADS];
	pthread_t t[CHURN_THREADS];
	int rounds = churn_rounds(), i, ops;
	int fd = self->d->fd;

	churn_start(&c, t, w);
	for (i = 0; i < rounds; i++) {
		self->link = conn_attach(fd, self->skel->maps.watch);
		ASSERT_NE(NULL, self->link) TH_LOG("attach: %s", strerror(errno));
		usleep(2000);
		ASSERT_EQ(0, conn_update(fd, self->link, self->skel->maps.empty));
		usleep(2000);
		ASSERT_EQ(0, conn_update(fd, self->link, self->skel->maps.watch));
		usleep(2000);
		ASSERT_EQ(0, bpf_link__destroy(self->link));
		self->link = NULL;
		usleep(2000);
	}
	ops = atomic_load(&c.ops);
	ASSERT_EQ(CHURN_THREADS, churn_stop(&c, t));
	EXPECT_EQ(0, atomic_load(&c.unexpected)) TH_LOG("%s", c.first);
	EXPECT_LT(rounds, ops) TH_LOG("%d operations in %d rounds", ops, rounds);
	/* "watch" was attached while the threads ran */
	EXPECT_LT(0, atomic_load(&c.filtered));
	EXPECT_LT(0, self->skel->bss->replies);
	CHECK_FILE(path_in(self->d->mnt, "file"), CONTENT);
}

TEST_HARNESS_MAIN
