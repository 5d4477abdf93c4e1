// SPDX-License-Identifier: GPL-2.0
/*
 * A small raw /dev/fuse server for selftests; see fuse_test_daemon.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuse_opnames.h"
#include "fuse_test_daemon.h"

#define FTD_MAX_WRITE	(128 * 1024)
#define FTD_BUF_SIZE	(FTD_MAX_WRITE + 4096)
#define FTD_TIMEOUT	3600
#define FTD_TIME	1700000000ULL

const char *ftd_opname(__u32 opcode)
{
	return fuse_opname(opcode) ?: "UNKNOWN";
}

/* The tree: node 1 is the root, node i + 2 is table entry i. */
static const struct ftd_entry *ftd_entry(struct ftd *d, __u64 nodeid)
{
	if (nodeid < 2 || nodeid > (__u64)d->nr_nodes)
		return NULL;
	return &d->cfg->entries[nodeid - 2];
}

static bool ftd_valid(struct ftd *d, __u64 nodeid)
{
	return nodeid >= FUSE_ROOT_ID && nodeid <= (__u64)d->nr_nodes;
}

static mode_t ftd_mode(struct ftd *d, __u64 nodeid)
{
	const struct ftd_entry *e = ftd_entry(d, nodeid);

	return e ? e->mode : S_IFDIR | 0755;
}

/* Node id of the parent of a table path, 0 if it is not in the table. */
static __u64 ftd_parent(struct ftd *d, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	int i;

	if (!slash)
		return FUSE_ROOT_ID;
	for (i = 0; d->cfg->entries[i].path; i++) {
		if (strlen(d->cfg->entries[i].path) == len &&
		    !strncmp(d->cfg->entries[i].path, path, len))
			return i + 2;
	}
	return 0;
}

static const char *ftd_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

__u64 ftd_lookup(struct ftd *d, __u64 parent, const char *name)
{
	__u64 id;

	for (id = 2; id <= (__u64)d->nr_nodes; id++) {
		const char *path = ftd_entry(d, id)->path;

		if (ftd_parent(d, path) == parent &&
		    !strcmp(ftd_basename(path), name))
			return id;
	}
	return 0;
}

int ftd_fill_attr(struct ftd *d, __u64 nodeid, struct fuse_attr *attr)
{
	const struct ftd_entry *e = ftd_entry(d, nodeid);
	__u64 id;

	if (!ftd_valid(d, nodeid))
		return -ENOENT;
	memset(attr, 0, sizeof(*attr));
	attr->ino = nodeid;
	attr->mode = ftd_mode(d, nodeid);
	attr->nlink = 1;
	if (S_ISDIR(attr->mode)) {
		attr->nlink = 2;
		for (id = 2; id <= (__u64)d->nr_nodes; id++)
			if (S_ISDIR(ftd_mode(d, id)) &&
			    ftd_parent(d, ftd_entry(d, id)->path) == nodeid)
				attr->nlink++;
	}
	if (e && e->content)
		attr->size = strlen(e->content);
	attr->blocks = (attr->size + 511) / 512;
	attr->atime = FTD_TIME;
	attr->mtime = FTD_TIME;
	attr->ctime = FTD_TIME;
	attr->uid = d->cfg->uid;
	attr->gid = d->cfg->gid;
	attr->blksize = 4096;
	return 0;
}

int ftd_fill_entry(struct ftd *d, __u64 nodeid, struct fuse_entry_out *e)
{
	__u64 valid = d->cfg->uncached ? 0 : FTD_TIMEOUT;

	memset(e, 0, sizeof(*e));
	e->nodeid = nodeid;
	e->generation = 1;
	e->entry_valid = valid;
	e->attr_valid = valid;
	return ftd_fill_attr(d, nodeid, &e->attr);
}

int ftd_reply_iov(struct ftd *d, __u64 unique, int error,
		  const struct iovec *iov, int iovcnt)
{
	struct fuse_out_header out = { .error = error, .unique = unique };
	struct iovec vec[8];
	ssize_t ret;
	int i;

	if (iovcnt < 0 || iovcnt > 7)
		return -EINVAL;
	vec[0].iov_base = &out;
	vec[0].iov_len = sizeof(out);
	out.len = sizeof(out);
	for (i = 0; i < iovcnt && !error; i++) {
		vec[i + 1] = iov[i];
		out.len += iov[i].iov_len;
	}
	ret = writev(d->fd, vec, error ? 1 : iovcnt + 1);
	if (ret < 0)
		return -errno;
	return ret == out.len ? 0 : -EIO;
}

int ftd_reply(struct ftd *d, __u64 unique, int error,
	      const void *data, size_t size)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = size };

	return ftd_reply_iov(d, unique, error, &iov, size ? 1 : 0);
}

static int ftd_do_init(struct ftd *d, const struct fuse_in_header *in,
		       const struct fuse_init_in *arg)
{
	const struct ftd_config *cfg = d->cfg;
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION,
		.minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = arg->max_readahead,
		.max_background = 16,
		.congestion_threshold = 12,
		.max_write = FTD_MAX_WRITE,
		.time_gran = 1,
	};
	__u64 offered = arg->flags;
	__u64 flags;
	int ret;

	if (arg->flags & FUSE_INIT_EXT)
		offered |= (__u64)arg->flags2 << 32;
	flags = offered & (cfg->init_flags | FUSE_INIT_EXT);
	out.flags = flags;
	out.flags2 = flags >> 32;
	if (flags & FUSE_PASSTHROUGH)
		out.max_stack_depth = cfg->max_stack_depth ?: 1;

	ret = ftd_reply(d, in->unique, 0, &out, sizeof(out));
	pthread_mutex_lock(&d->lock);
	d->proto_minor = arg->minor;
	d->kernel_flags = offered;
	d->flags = flags;
	d->init_done = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static int ftd_do_readdir(struct ftd *d, const struct fuse_in_header *in,
			  const struct fuse_read_in *arg)
{
	char *buf = calloc(1, arg->size);
	__u64 idx = 0, id;
	size_t len = 0;
	int ret;

	if (!buf)
		return -ENOMEM;
	/* ".", "..", then the children in table order; off is index + 1 */
	for (id = 0; id <= (__u64)d->nr_nodes; id++) {
		struct fuse_dirent *de = (struct fuse_dirent *)(buf + len);
		const char *name;
		__u64 ino;

		if (id == 0) {
			name = ".";
			ino = in->nodeid;
		} else if (id == 1) {
			name = "..";
			ino = FUSE_ROOT_ID;
		} else if (ftd_parent(d, ftd_entry(d, id)->path) == in->nodeid) {
			name = ftd_basename(ftd_entry(d, id)->path);
			ino = id;
		} else {
			continue;
		}
		if (idx++ < arg->offset)
			continue;
		if (len + FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + strlen(name)) >
		    arg->size)
			break;
		de->ino = ino;
		de->off = idx;
		de->namelen = strlen(name);
		de->type = (id < 2 ? S_IFDIR : ftd_mode(d, id)) >> 12;
		memcpy(de->name, name, de->namelen);
		len += FUSE_DIRENT_SIZE(de);
	}
	ret = ftd_reply(d, in->unique, 0, buf, len);
	free(buf);
	return ret;
}

/* The default answers. Returns a negative errno to send as the reply. */
static int ftd_default(struct ftd *d, const struct fuse_in_header *in,
		       const void *arg)
{
	const struct fuse_read_in *read_in = arg;
	struct fuse_entry_out entry;
	struct fuse_attr_out attr = {};
	struct fuse_open_out open = {};
	struct fuse_statfs_out statfs = {};
	const struct ftd_entry *e;
	__u64 id;
	size_t size;
	int ret;

	switch (in->opcode) {
	case FUSE_LOOKUP:
		id = ftd_lookup(d, in->nodeid, arg);
		if (!id)
			return -ENOENT;
		ftd_fill_entry(d, id, &entry);
		return ftd_reply(d, in->unique, 0, &entry, sizeof(entry));
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return 0;	/* no reply */
	case FUSE_GETATTR:
		ret = ftd_fill_attr(d, in->nodeid, &attr.attr);
		if (ret)
			return ret;
		attr.attr_valid = d->cfg->uncached ? 0 : FTD_TIMEOUT;
		return ftd_reply(d, in->unique, 0, &attr, sizeof(attr));
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		if (!ftd_valid(d, in->nodeid))
			return -ENOENT;
		if (in->opcode == FUSE_OPEN && S_ISDIR(ftd_mode(d, in->nodeid)))
			return -EISDIR;
		if (in->opcode == FUSE_OPENDIR &&
		    !S_ISDIR(ftd_mode(d, in->nodeid)))
			return -ENOTDIR;
		open.fh = in->nodeid;
		return ftd_reply(d, in->unique, 0, &open, sizeof(open));
	case FUSE_READ:
		e = ftd_entry(d, in->nodeid);
		if (!e || !S_ISREG(e->mode))
			return -EINVAL;
		size = e->content ? strlen(e->content) : 0;
		if (read_in->offset >= size)
			return ftd_reply(d, in->unique, 0, NULL, 0);
		size -= read_in->offset;
		if (size > read_in->size)
			size = read_in->size;
		return ftd_reply(d, in->unique, 0,
				 e->content + read_in->offset, size);
	case FUSE_READDIR:
		if (!S_ISDIR(ftd_mode(d, in->nodeid)))
			return -ENOTDIR;
		return ftd_do_readdir(d, in, read_in);
	case FUSE_STATFS:
		statfs.st.blocks = 1024;
		statfs.st.files = d->nr_nodes;
		statfs.st.bsize = 4096;
		statfs.st.frsize = 4096;
		statfs.st.namelen = 255;
		return ftd_reply(d, in->unique, 0, &statfs, sizeof(statfs));
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_ACCESS:
	case FUSE_DESTROY:
		return ftd_reply(d, in->unique, 0, NULL, 0);
	default:
		/*
		 * FUSE's "not implemented" is ENOSYS (checkpatch's warning
		 * about it is for system calls); the kernel then stops
		 * sending GETXATTR, LISTXATTR, ...
		 */
		return -ENOSYS;
	}
}

static void ftd_log(struct ftd *d, const struct fuse_in_header *in,
		    const void *arg, size_t len)
{
	struct ftd_log_entry *l;

	pthread_mutex_lock(&d->lock);
	if (d->nr_log < FTD_LOG_MAX) {
		l = &d->log[d->nr_log++];
		memset(l, 0, sizeof(*l));
		l->opcode = in->opcode;
		l->nodeid = in->nodeid;
		if (in->opcode == FUSE_LOOKUP)
			snprintf(l->name, sizeof(l->name), "%.*s",
				 (int)len, (const char *)arg);
	} else {
		d->log_dropped++;
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Returns false when the daemon must stop (FTD_DIE). */
static bool ftd_handle(struct ftd *d, char *buf, size_t n)
{
	struct fuse_in_header *in = (struct fuse_in_header *)buf;
	void *arg = buf + sizeof(*in);
	size_t len;
	int ret = FTD_DEFAULT;

	if (n < sizeof(*in) || in->len != n)
		return true;
	len = n - sizeof(*in);
	/* zero the tail so that short (older) argument structs read as 0 */
	memset(buf + n, 0, 256);
	ftd_log(d, in, arg, len);

	if (in->opcode == FUSE_INIT) {
		ftd_do_init(d, in, arg);
		return true;
	}
	if (d->cfg->hook)
		ret = d->cfg->hook(d, in, arg, len, d->cfg->hook_priv);
	if (ret == FTD_DEFAULT)
		ret = ftd_default(d, in, arg);
	if (ret < 0)
		ftd_reply(d, in->unique, ret, NULL, 0);
	return ret != FTD_DIE;
}

/*
 * Make the kernel fail all requests instead of waiting for a server that
 * is gone: drop our reference to the /dev/fuse file (the number stays
 * valid, now pointing at /dev/null), which aborts the connection.
 */
static void ftd_abort(struct ftd *d)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, d->fd);
		close(null);
	}
}

static void *ftd_thread(void *data)
{
	struct ftd *d = data;
	char *buf = malloc(FTD_BUF_SIZE + 256);
	int error = buf ? 0 : ENOMEM;
	bool dead = false;

	while (!error) {
		struct pollfd pfd[2] = {
			{ .fd = d->fd, .events = POLLIN },
			{ .fd = d->stop_fd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno != EINTR)
				error = errno;
			continue;
		}
		if (pfd[1].revents)
			break;
		n = read(d->fd, buf, FTD_BUF_SIZE);
		if (n < 0) {
			/* ENODEV: unmounted or aborted, the normal end */
			if (errno == ENODEV)
				break;
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ENOENT)
				error = errno;
			continue;
		}
		if (!ftd_handle(d, buf, n)) {
			dead = true;
			break;
		}
	}
	free(buf);
	if (error || dead)
		ftd_abort(d);
	pthread_mutex_lock(&d->lock);
	d->error = error;
	d->exited = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void ftd_deadline(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait until *@flag is set or @timeout_ms passed; d->lock is held. */
static bool ftd_wait_flag(struct ftd *d, bool *flag, int timeout_ms)
{
	struct timespec ts;

	ftd_deadline(&ts, timeout_ms);
	while (!*flag)
		if (pthread_cond_timedwait(&d->cond, &d->lock, &ts))
			break;
	return *flag;
}

struct ftd *ftd_start(const struct ftd_config *cfg)
{
	pthread_condattr_t attr;
	char opts[256];
	struct ftd *d;
	int err = 0, i;
	bool ok;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = cfg;
	d->fd = -1;
	d->stop_fd = -1;
	d->nr_nodes = 1;
	for (i = 0; cfg->entries && cfg->entries[i].path; i++) {
		if (!ftd_parent(d, cfg->entries[i].path)) {
			free(d);
			errno = EINVAL;	/* parent missing or listed later */
			return NULL;
		}
		d->nr_nodes++;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &attr);
	pthread_condattr_destroy(&attr);

	snprintf(d->mnt, sizeof(d->mnt), "/tmp/fuse_test.XXXXXX");
	if (!mkdtemp(d->mnt)) {
		d->mnt[0] = '\0';
		goto fail;
	}
	d->stop_fd = eventfd(0, EFD_CLOEXEC);
	d->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (d->stop_fd < 0 || d->fd < 0)
		goto fail;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0%s%s", d->fd,
		 cfg->mount_opts ? "," : "",
		 cfg->mount_opts ? cfg->mount_opts : "");
	if (mount("fuse_test", d->mnt, "fuse",
		  MS_NOSUID | (cfg->allow_dev ? 0 : MS_NODEV), opts))
		goto fail;
	err = pthread_create(&d->thread, NULL, ftd_thread, d);
	if (err) {
		umount2(d->mnt, MNT_DETACH);
		goto fail;
	}
	pthread_mutex_lock(&d->lock);
	ok = ftd_wait_flag(d, &d->init_done, 5000);
	pthread_mutex_unlock(&d->lock);
	if (!ok) {
		ftd_stop(d);
		errno = ETIMEDOUT;
		return NULL;
	}
	return d;
fail:
	err = err ?: errno;
	if (d->fd >= 0)
		close(d->fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	if (d->mnt[0])
		rmdir(d->mnt);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
	errno = err;
	return NULL;
}

void ftd_stop(struct ftd *d)
{
	__u64 one = 1;

	if (!d)
		return;
	/*
	 * Detaching the last reference to the super block aborts the
	 * connection and the thread's read() gets ENODEV. If something
	 * still pins the mount, stop the thread ourselves: closing the fd
	 * below aborts the connection then.
	 */
	umount2(d->mnt, MNT_DETACH);
	pthread_mutex_lock(&d->lock);
	ftd_wait_flag(d, &d->exited, 2000);
	pthread_mutex_unlock(&d->lock);
	if (write(d->stop_fd, &one, sizeof(one)) != sizeof(one))
		perror("ftd: stopping the daemon thread");
	pthread_join(d->thread, NULL);
	close(d->fd);
	close(d->stop_fd);
	rmdir(d->mnt);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void ftd_log_clear(struct ftd *d)
{
	pthread_mutex_lock(&d->lock);
	d->nr_log = 0;
	d->log_dropped = 0;
	pthread_mutex_unlock(&d->lock);
}

int ftd_log_get(struct ftd *d, struct ftd_log_entry *out, int max)
{
	int n;

	pthread_mutex_lock(&d->lock);
	n = d->nr_log;
	memcpy(out, d->log, sizeof(*out) * (n < max ? n : max));
	pthread_mutex_unlock(&d->lock);
	return n;
}

static int ftd_count_locked(struct ftd *d, __u32 opcode)
{
	int i, n = 0;

	for (i = 0; i < d->nr_log; i++)
		if (d->log[i].opcode == opcode)
			n++;
	return n;
}

int ftd_count(struct ftd *d, __u32 opcode)
{
	int n;

	pthread_mutex_lock(&d->lock);
	n = ftd_count_locked(d, opcode);
	pthread_mutex_unlock(&d->lock);
	return n;
}

bool ftd_wait_count(struct ftd *d, __u32 opcode, int n, int timeout_ms)
{
	struct timespec ts;
	bool ok;

	ftd_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&d->lock);
	while (ftd_count_locked(d, opcode) < n && !d->exited)
		if (pthread_cond_timedwait(&d->cond, &d->lock, &ts))
			break;
	ok = ftd_count_locked(d, opcode) >= n;
	pthread_mutex_unlock(&d->lock);
	return ok;
}

static bool ftd_ignored(__u32 opcode)
{
	return opcode == FUSE_INIT || opcode == FUSE_FORGET ||
	       opcode == FUSE_BATCH_FORGET || opcode == FUSE_STATFS ||
	       opcode == FUSE_INTERRUPT;
}

int ftd_log_match(struct ftd *d, const __u32 *ops, int n)
{
	int i, j = 0, ret = 0;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nr_log && !ret; i++) {
		if (ftd_ignored(d->log[i].opcode))
			continue;
		if (j >= n || d->log[i].opcode != ops[j++])
			ret = -1;
	}
	if (j != n || d->log_dropped)
		ret = -1;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

char *ftd_log_str(struct ftd *d, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nr_log && len < size; i++) {
		const struct ftd_log_entry *l = &d->log[i];

		len += snprintf(buf + len, size - len, "%s%s(%llu%s%s)",
				i ? " " : "", ftd_opname(l->opcode),
				(unsigned long long)l->nodeid,
				l->name[0] ? "," : "", l->name);
	}
	if (d->log_dropped && len < size)
		snprintf(buf + len, size - len, " [%d dropped]",
			 d->log_dropped);
	pthread_mutex_unlock(&d->lock);
	return buf;
}
