// SPDX-License-Identifier: GPL-2.0
/*
 * benchfs: the FUSE server of the fuse-bpf benchmark, on the raw /dev/fuse
 * protocol (Debian's libfuse 3.14 cannot do FUSE passthrough).
 *
 *   benchfs mount MODE BACKING MNT COUNTS [BPF.o PRE POST [PERMILLE]]
 *   benchfs counts COUNTS [--reset]
 *
 * MODE "pt": a classic passthrough server (node ids of O_PATH fds, as
 * libfuse's passthrough_ll) whose OPEN and CREATE replies hand the file
 * to the kernel with FOPEN_PASSTHROUGH and a backing id, so reads, writes
 * and mmap never reach it; every metadata operation does.
 *
 * MODE "fb": a fuse-bpf mount backed by BACKING (root_dir=) with this
 * server behind it. With BPF.o, the root gets the filters of ops id OPS_ID
 * (mount option ops=), which its children inherit: the struct_ops maps
 * PRE and POST ("-" for none) of that object are bound to this connection
 * and that id (their fuse_fd and ops_id members, set before loading) and
 * attached once the mount exists, before anything uses it (until then
 * every operation on the mount fails with ENOTCONN). PERMILLE sets the
 * "permille" of route.bpf.c. The server answers the lookups a filter
 * sends it (FUSE_BPF_USER) with a backing id, and adds the directories it
 * names to the filter's daemon_dirs map.
 *
 * The server forks into the background once the file system is mounted
 * and INIT answered, and counts the requests it gets per opcode in the
 * file COUNTS (shared memory); "benchfs counts" prints the counts that are
 * not zero as OPCODE=N (and, for route.bpf.c, the filter's lookup counts,
 * pinned next to COUNTS), or resets them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* The sample daemon's stat(2) conversion, the test daemon's opcode names */
#include "../../samples/fuse/fuse_attr.h"
#include "../../tools/testing/selftests/filesystems/fuse/fuse_opnames.h"

#define NR_OPS		64
#define TIMEOUT		1	/* entry and attribute timeout, as passthrough_ll */
#define FB_TIMEOUT	86400	/* for nodes with a backing */
#define MAX_WRITE	(1 << 20)
#define BUF_SIZE	(MAX_WRITE + 4096 * 2)
#define OPS_ID		1	/* the root's ops id (mount option ops=) */

struct counts {
	uint64_t req[NR_OPS];	/* by opcode; NR_OPS - 1: others */
	uint64_t filtered;	/* FUSE_PREFILTER/POSTFILTER requests */
	uint64_t unknown_parent;	/* lookups in a directory we never named */
};

struct node {
	int fd;			/* O_PATH, or -1 for a free slot */
	dev_t dev;
	ino_t ino;
	uint64_t nlookup;
	uint32_t hnext;		/* hash chain */
	bool dir;
	/*
	 * The node's backing id, 0 for none: registered at the first OPEN
	 * (pt; 6.12 wants one backing per inode while it is open) or LOOKUP
	 * (fb), closed at the last RELEASE (pt) or at FORGET (fb). The kernel
	 * resolves an id after the reply is written, in the context of the
	 * process waiting for it, so an id must outlive the reply.
	 */
	int backing_id;
	uint32_t opens;
};

/* An open file of the pt mode. */
struct fileh {
	int fd;
	uint64_t nodeid;
};

struct dirh {
	DIR *dp;
	off_t off;
	struct dirent *de;	/* read but not yet sent */
};

/* The name of counter @i: the opcode's, or OTHER for the last one. */
static const char *count_name(uint32_t i)
{
	if (i == NR_OPS - 1)
		return "OTHER";
	return fuse_opname(i) ?: "?";
}

static int fuse_fd;
static bool fb_mode, debug;
static struct counts *counts;
static int dirs_map_fd = -1;	/* route.bpf.c's daemon_dirs, or -1 */
/* The maps load_bpf() bound, for attach_bpf(): prefilters, postfilters. */
static struct bpf_map *filter_maps[2];

static struct node *nodes;
static uint32_t nr_nodes, max_nodes, free_node;
#define HASH_SIZE	(1u << 16)
static uint32_t htab[HASH_SIZE];

/* File handles: open fds (pt mode) and directory streams. */
static void **handles;
static uint32_t nr_handles, max_handles;

static void fail(const char *what)
{
	perror(what);
	exit(1);
}

static uint32_t hash_ino(dev_t dev, ino_t ino)
{
	return (uint32_t)((ino * 0x9e3779b97f4a7c15ull) >> 40 ^ dev) &
	       (HASH_SIZE - 1);
}

static struct node *get_node(uint64_t nodeid)
{
	if (nodeid == 0 || nodeid >= nr_nodes || nodes[nodeid].fd < 0)
		return NULL;
	return &nodes[nodeid];
}

/* Find or add the node of @st; takes over @fd (closed if not needed). */
static uint64_t add_node(int fd, const struct stat *st)
{
	uint32_t h = hash_ino(st->st_dev, st->st_ino), i;
	struct node *n;

	for (i = htab[h]; i; i = nodes[i].hnext)
		if (nodes[i].ino == st->st_ino && nodes[i].dev == st->st_dev) {
			close(fd);
			nodes[i].nlookup++;
			return i;
		}
	if (free_node) {
		i = free_node;
		free_node = nodes[i].hnext;
	} else {
		if (nr_nodes == max_nodes) {
			max_nodes = max_nodes ? max_nodes * 2 : 1024;
			nodes = realloc(nodes, max_nodes * sizeof(*nodes));
			if (!nodes)
				fail("realloc");
		}
		i = nr_nodes++;
	}
	n = &nodes[i];
	n->fd = fd;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->nlookup = 1;
	n->dir = S_ISDIR(st->st_mode);
	n->backing_id = 0;
	n->opens = 0;
	n->hnext = htab[h];
	htab[h] = i;
	return i;
}

static void backing_close(struct node *n)
{
	uint32_t id = n->backing_id;

	if (id && ioctl(fuse_fd, FUSE_DEV_IOC_BACKING_CLOSE, &id))
		perror("benchfs: FUSE_DEV_IOC_BACKING_CLOSE");
	n->backing_id = 0;
}

static void forget_node(uint64_t nodeid, uint64_t nlookup)
{
	struct node *n = get_node(nodeid);
	uint32_t *p;

	if (!n || nodeid == FUSE_ROOT_ID)
		return;
	if (n->nlookup > nlookup) {
		n->nlookup -= nlookup;
		return;
	}
	for (p = &htab[hash_ino(n->dev, n->ino)]; *p; p = &nodes[*p].hnext)
		if (*p == nodeid) {
			*p = n->hnext;
			break;
		}
	if (n->dir && dirs_map_fd >= 0)
		bpf_map_delete_elem(dirs_map_fd, &nodeid);
	backing_close(n);
	close(n->fd);
	n->fd = -1;
	n->hnext = free_node;
	free_node = nodeid;
}

static uint64_t add_handle(void *h)
{
	uint32_t i;

	for (i = 1; i < nr_handles; i++)
		if (!handles[i])
			break;
	if (i >= nr_handles) {
		if (nr_handles + 1 >= max_handles) {
			max_handles = max_handles ? max_handles * 2 : 256;
			handles = realloc(handles, max_handles * sizeof(*handles));
			if (!handles)
				fail("realloc");
		}
		i = nr_handles ? nr_handles : 1;
		nr_handles = i + 1;
	}
	handles[i] = h;
	return i;
}

static void *get_handle(uint64_t fh)
{
	return fh && fh < nr_handles ? handles[fh] : NULL;
}

static void put_handle(uint64_t fh)
{
	if (fh && fh < nr_handles)
		handles[fh] = NULL;
}

static uint64_t add_fd(int fd, uint64_t nodeid)
{
	struct fileh *f = malloc(sizeof(*f));

	if (!f)
		fail("malloc");
	f->fd = fd;
	f->nodeid = nodeid;
	return add_handle(f);
}

static int handle_fd(uint64_t fh)
{
	struct fileh *f = get_handle(fh);

	return f ? f->fd : -1;
}

static int reply_iov(uint64_t unique, int error, struct iovec *iov, int cnt)
{
	struct fuse_out_header out = { .unique = unique, .error = error };
	struct iovec v[4];
	int i;

	if (debug && error)
		fprintf(stderr, "benchfs: reply %s\n", strerror(-error));

	v[0].iov_base = &out;
	v[0].iov_len = sizeof(out);
	for (i = 0; i < cnt && !error; i++)
		v[i + 1] = iov[i];
	out.len = sizeof(out);
	for (i = 1; i <= cnt && !error; i++)
		out.len += v[i].iov_len;
	if (writev(fuse_fd, v, error ? 1 : cnt + 1) < 0 && errno != ENOENT) {
		fprintf(stderr, "benchfs: reply to request %llu: %s\n",
			(unsigned long long)unique, strerror(errno));
		return -errno;
	}
	return 0;
}

static int reply(uint64_t unique, int error, const void *data, size_t size)
{
	struct iovec iov = { (void *)data, size };

	return reply_iov(unique, error, &iov, data ? 1 : 0);
}

static const char *proc_path(int fd)
{
	static char buf[2][32];
	static int next;
	char *p = buf[next++ & 1];

	snprintf(p, sizeof(buf[0]), "/proc/self/fd/%d", fd);
	return p;
}

/*
 * Look @name up in @dir and fill @e; with @id, register the node as a
 * backing (fb mode) and return its id there. Returns 0 or a -errno;
 * -ENOENT with e->nodeid == 0 is a negative entry.
 */
static int do_lookup(struct node *dir, const char *name,
		     struct fuse_entry_out *e, int *id)
{
	struct fuse_backing_map map = {};
	struct stat st;
	int fd;

	memset(e, 0, sizeof(*e));
	fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		close(fd);
		return -errno;
	}
	e->nodeid = add_node(fd, &st);
	if (id) {
		struct node *n = &nodes[e->nodeid];

		/* fget_raw(): the O_PATH fd registers files, dirs and links */
		if (!n->backing_id) {
			map.fd = n->fd;
			n->backing_id = ioctl(fuse_fd, FUSE_DEV_IOC_BACKING_OPEN,
					      &map);
			if (n->backing_id < 0) {
				int err = -errno;

				n->backing_id = 0;
				forget_node(e->nodeid, 1);
				return err;
			}
		}
		*id = n->backing_id;
	}
	e->entry_valid = id ? FB_TIMEOUT : TIMEOUT;
	e->attr_valid = id ? FB_TIMEOUT : TIMEOUT;
	fuse_attr_from_stat(&e->attr, &st);
	return 0;
}

static int reply_entry(uint64_t unique, struct node *dir, const char *name)
{
	struct fuse_entry_out e;
	int err = do_lookup(dir, name, &e, NULL);

	if (err == -ENOENT) {
		/* a negative entry, cached like passthrough_ll does */
		memset(&e, 0, sizeof(e));
		e.entry_valid = TIMEOUT;
		return reply(unique, 0, &e, sizeof(e));
	}
	return reply(unique, err, &e, sizeof(e));
}

static int fb_lookup(uint64_t unique, uint64_t parent, struct node *dir,
		     const char *name)
{
	struct fuse_bpf_entry_out bx = { .entry_type = FUSE_BPF_ENTRY_BACKING };
	struct fuse_entry_out e;
	struct iovec iov[2] = { { &e, sizeof(e) }, { &bx, sizeof(bx) } };
	uint8_t one = 1;
	int err, id = -1, ret;

	err = do_lookup(dir, name, &e, &id);
	if (err)
		return reply(unique, err, NULL, 0);
	if (nodes[e.nodeid].dir && dirs_map_fd >= 0)
		bpf_map_update_elem(dirs_map_fd, &e.nodeid, &one, BPF_ANY);
	bx.backing_id = id;
	ret = reply_iov(unique, 0, iov, 2);
	(void)parent;
	return ret;
}

static int do_init(uint64_t unique, const struct fuse_init_in *in)
{
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION,
		.minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = in->max_readahead,
		.max_background = 16,
		.congestion_threshold = 12,
		.max_write = MAX_WRITE,
		.time_gran = 1,
		.max_pages = MAX_WRITE / 4096,
	};
	uint64_t offered = in->flags, want;

	if (in->flags & FUSE_INIT_EXT)
		offered |= (uint64_t)in->flags2 << 32;
	want = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES |
	       FUSE_PARALLEL_DIROPS | FUSE_INIT_EXT;
	if (!fb_mode)
		want |= FUSE_PASSTHROUGH;
	want &= offered;
	out.flags = want;
	out.flags2 = want >> 32;
	if (want & FUSE_PASSTHROUGH)
		out.max_stack_depth = 1;
	if (in->minor < out.minor)
		out.minor = in->minor;
	return reply(unique, 0, &out, sizeof(out));
}

/* A backing id for an open of @n with the file @fd (pt mode). */
static int open_backing(struct node *n, int fd)
{
	struct fuse_backing_map map = { .fd = fd };

	if (!n->backing_id) {
		n->backing_id = ioctl(fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
		if (n->backing_id < 0) {
			int err = -errno;

			n->backing_id = 0;
			return err;
		}
	}
	n->opens++;
	return n->backing_id;
}

static void release_backing(uint64_t nodeid)
{
	struct node *n = get_node(nodeid);

	if (n && n->opens && !--n->opens)
		backing_close(n);
}

static int do_open(uint64_t unique, uint64_t nodeid, struct node *n,
		   uint32_t flags)
{
	struct fuse_open_out out = { .open_flags = FOPEN_PASSTHROUGH };
	int fd, id;

	fd = open(proc_path(n->fd), (flags & ~(O_CREAT | O_EXCL | O_NOCTTY |
					       O_TRUNC)) | O_CLOEXEC);
	if (fd < 0)
		return reply(unique, -errno, NULL, 0);
	id = open_backing(n, fd);
	if (id < 0) {
		close(fd);
		return reply(unique, id, NULL, 0);
	}
	out.backing_id = id;
	out.fh = add_fd(fd, nodeid);
	return reply(unique, 0, &out, sizeof(out));
}

static int do_create(uint64_t unique, struct node *dir,
		     const struct fuse_create_in *in, const char *name)
{
	struct fuse_open_out oo = { .open_flags = FOPEN_PASSTHROUGH };
	struct fuse_entry_out e;
	struct iovec iov[2] = { { &e, sizeof(e) }, { &oo, sizeof(oo) } };
	int fd, id, err;

	fd = openat(dir->fd, name, (in->flags | O_CREAT) & ~O_NOCTTY, in->mode);
	if (fd < 0)
		return reply(unique, -errno, NULL, 0);
	err = do_lookup(dir, name, &e, NULL);
	if (err) {
		close(fd);
		return reply(unique, err, NULL, 0);
	}
	/*
	 * fb mode: a create a filter sent here (its lookup went to the
	 * server) makes a FUSE node, whose file this server serves; FUSE
	 * passthrough is not negotiated there.
	 */
	if (fb_mode) {
		oo.open_flags = 0;
		oo.fh = add_fd(fd, e.nodeid);
		return reply_iov(unique, 0, iov, 2);
	}
	id = open_backing(&nodes[e.nodeid], fd);
	if (id < 0) {
		close(fd);
		forget_node(e.nodeid, 1);
		return reply(unique, id, NULL, 0);
	}
	oo.backing_id = id;
	oo.fh = add_fd(fd, e.nodeid);
	return reply_iov(unique, 0, iov, 2);
}

static int do_getattr(uint64_t unique, struct node *n)
{
	struct fuse_attr_out out = { .attr_valid = TIMEOUT };
	struct stat st;

	if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return reply(unique, -errno, NULL, 0);
	fuse_attr_from_stat(&out.attr, &st);
	return reply(unique, 0, &out, sizeof(out));
}

static int do_setattr(uint64_t unique, struct node *n,
		      const struct fuse_setattr_in *in)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	struct stat st;
	int fd = (in->valid & FATTR_FH) ? handle_fd(in->fh) : -1;
	bool lnk;

	if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return reply(unique, -errno, NULL, 0);
	lnk = S_ISLNK(st.st_mode);
	if ((in->valid & FATTR_MODE) && !lnk &&
	    chmod(proc_path(n->fd), in->mode))
		return reply(unique, -errno, NULL, 0);
	if ((in->valid & (FATTR_UID | FATTR_GID)) &&
	    fchownat(n->fd, "", in->valid & FATTR_UID ? in->uid : (uid_t)-1,
		     in->valid & FATTR_GID ? in->gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return reply(unique, -errno, NULL, 0);
	if ((in->valid & FATTR_SIZE) &&
	    (fd >= 0 ? ftruncate(fd, in->size) :
		       truncate(proc_path(n->fd), in->size)))
		return reply(unique, -errno, NULL, 0);
	if (in->valid & FATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (in->valid & FATTR_ATIME)
		ts[0] = (struct timespec){ in->atime, in->atimensec };
	if (in->valid & FATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (in->valid & FATTR_MTIME)
		ts[1] = (struct timespec){ in->mtime, in->mtimensec };
	if ((in->valid & (FATTR_ATIME | FATTR_MTIME)) && !lnk &&
	    utimensat(AT_FDCWD, proc_path(n->fd), ts, 0))
		return reply(unique, -errno, NULL, 0);
	return do_getattr(unique, n);
}

static int do_readdir(uint64_t unique, uint64_t fh,
		      const struct fuse_read_in *in)
{
	struct dirh *d = get_handle(fh);
	static char buf[1 << 17];
	size_t len = 0, size = in->size < sizeof(buf) ? in->size : sizeof(buf);

	if (!d)
		return reply(unique, -EBADF, NULL, 0);
	if ((off_t)in->offset != d->off) {
		seekdir(d->dp, in->offset);
		d->de = NULL;
		d->off = in->offset;
	}
	for (;;) {
		struct fuse_dirent *fde = (void *)(buf + len);
		size_t nl, rec;

		if (!d->de) {
			errno = 0;
			d->de = readdir(d->dp);
			if (!d->de) {
				if (errno && !len)
					return reply(unique, -errno, NULL, 0);
				break;
			}
		}
		nl = strlen(d->de->d_name);
		rec = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + nl);
		if (len + rec > size)
			break;
		fde->ino = d->de->d_ino;
		fde->off = d->de->d_off;
		fde->namelen = nl;
		fde->type = d->de->d_type;
		memcpy(fde->name, d->de->d_name, nl);
		memset(fde->name + nl, 0, rec - FUSE_NAME_OFFSET - nl);
		len += rec;
		d->off = d->de->d_off;
		d->de = NULL;
	}
	return reply(unique, 0, buf, len);
}

static int do_xattr(uint64_t unique, uint32_t op, struct node *n,
		    const void *arg)
{
	const struct fuse_getxattr_in *gi = arg;
	static char val[65536];
	const char *path = proc_path(n->fd);
	ssize_t r;

	switch (op) {
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR:
		if (op == FUSE_GETXATTR)
			r = getxattr(path, (const char *)(gi + 1), val,
				     gi->size ? gi->size : sizeof(val));
		else
			r = listxattr(path, val,
				      gi->size ? gi->size : sizeof(val));
		if (r < 0)
			return reply(unique, -errno, NULL, 0);
		if (!gi->size) {
			struct fuse_getxattr_out out = { .size = r };

			return reply(unique, 0, &out, sizeof(out));
		}
		return reply(unique, 0, val, r);
	case FUSE_SETXATTR: {
		/* no FUSE_SETXATTR_EXT: the compat layout */
		const struct fuse_setxattr_in *si = arg;
		const char *name = (const char *)si + FUSE_COMPAT_SETXATTR_IN_SIZE;

		if (setxattr(path, name, name + strlen(name) + 1, si->size,
			     si->flags))
			return reply(unique, -errno, NULL, 0);
		return reply(unique, 0, NULL, 0);
	}
	default:	/* FUSE_REMOVEXATTR */
		if (removexattr(path, arg))
			return reply(unique, -errno, NULL, 0);
		return reply(unique, 0, NULL, 0);
	}
}

/* Serve one request of the pt mode (and the few ones of the fb mode). */
static int handle(const struct fuse_in_header *h, const void *arg,
		  size_t len)
{
	uint32_t op = h->opcode;
	struct node *n = get_node(h->nodeid);
	const char *name = arg;
	int fd;

	counts->req[op < NR_OPS ? op : NR_OPS - 1]++;
	if (debug)
		fprintf(stderr, "benchfs: %s node %llu%s%s\n",
			fuse_opname(op) ?: "?",
			(unsigned long long)h->nodeid,
			op == FUSE_LOOKUP ? " name " : "",
			op == FUSE_LOOKUP ? name : "");
	if (op & (FUSE_PREFILTER | FUSE_POSTFILTER)) {
		counts->filtered++;
		return reply(h->unique, 0, NULL, 0);	/* keep the arguments */
	}
	switch (op) {
	case FUSE_INIT:
		return do_init(h->unique, arg);
	case FUSE_DESTROY:
		reply(h->unique, 0, NULL, 0);
		exit(0);
	case FUSE_FORGET:
		forget_node(h->nodeid,
			    ((const struct fuse_forget_in *)arg)->nlookup);
		return 0;
	case FUSE_BATCH_FORGET: {
		const struct fuse_batch_forget_in *b = arg;
		const struct fuse_forget_one *f = (const void *)(b + 1);
		uint32_t i;

		for (i = 0; i < b->count; i++)
			forget_node(f[i].nodeid, f[i].nlookup);
		return 0;
	}
	case FUSE_INTERRUPT:
		return 0;
	}
	if (!n)
		return reply(h->unique, -ESTALE, NULL, 0);

	switch (op) {
	case FUSE_LOOKUP:
		if (fb_mode)
			return fb_lookup(h->unique, h->nodeid, n, name);
		return reply_entry(h->unique, n, name);
	case FUSE_GETATTR:
		return do_getattr(h->unique, n);
	case FUSE_SETATTR:
		return do_setattr(h->unique, n, arg);
	case FUSE_ACCESS:
	case FUSE_FLUSH:
	case FUSE_SYNCFS:
		return reply(h->unique, 0, NULL, 0);
	case FUSE_OPEN:
		return do_open(h->unique, h->nodeid, n,
			       ((const struct fuse_open_in *)arg)->flags);
	case FUSE_CREATE: {
		const struct fuse_create_in *ci = arg;

		return do_create(h->unique, n, ci, (const char *)(ci + 1));
	}
	case FUSE_RELEASE: {
		uint64_t fh = ((const struct fuse_release_in *)arg)->fh;
		struct fileh *f = get_handle(fh);

		if (f) {
			release_backing(f->nodeid);
			close(f->fd);
			free(f);
		}
		put_handle(fh);
		return reply(h->unique, 0, NULL, 0);
	}
	case FUSE_FSYNC: {
		const struct fuse_fsync_in *fi = arg;

		fd = handle_fd(fi->fh);
		if (fd >= 0 && ((fi->fsync_flags & 1) ? fdatasync(fd) : fsync(fd)))
			return reply(h->unique, -errno, NULL, 0);
		return reply(h->unique, 0, NULL, 0);
	}
	case FUSE_READ: {
		/* only when the kernel did not take the passthrough */
		const struct fuse_read_in *ri = arg;
		static char buf[MAX_WRITE];
		ssize_t r;

		fd = handle_fd(ri->fh);
		r = pread(fd, buf, ri->size < sizeof(buf) ? ri->size :
				   sizeof(buf), ri->offset);
		return reply(h->unique, r < 0 ? -errno : 0, buf, r < 0 ? 0 : r);
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *wi = arg;
		struct fuse_write_out wo = {};
		ssize_t r;

		fd = handle_fd(wi->fh);
		r = pwrite(fd, wi + 1, wi->size, wi->offset);
		if (r < 0)
			return reply(h->unique, -errno, NULL, 0);
		wo.size = r;
		return reply(h->unique, 0, &wo, sizeof(wo));
	}
	case FUSE_FALLOCATE: {
		const struct fuse_fallocate_in *fa = arg;

		fd = handle_fd(fa->fh);
		if (fallocate(fd, fa->mode, fa->offset, fa->length))
			return reply(h->unique, -errno, NULL, 0);
		return reply(h->unique, 0, NULL, 0);
	}
	case FUSE_OPENDIR: {
		struct fuse_open_out out = {};
		struct dirh *d = calloc(1, sizeof(*d));

		fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (!d || fd < 0 || !(d->dp = fdopendir(fd))) {
			free(d);
			return reply(h->unique, -errno, NULL, 0);
		}
		out.fh = add_handle(d);
		return reply(h->unique, 0, &out, sizeof(out));
	}
	case FUSE_READDIR:
		return do_readdir(h->unique, ((const struct fuse_read_in *)arg)->fh,
				  arg);
	case FUSE_RELEASEDIR: {
		uint64_t fh = ((const struct fuse_release_in *)arg)->fh;
		struct dirh *d = get_handle(fh);

		if (d) {
			closedir(d->dp);
			free(d);
		}
		put_handle(fh);
		return reply(h->unique, 0, NULL, 0);
	}
	case FUSE_FSYNCDIR:
		return reply(h->unique, 0, NULL, 0);
	case FUSE_MKDIR: {
		const struct fuse_mkdir_in *mi = arg;

		name = (const char *)(mi + 1);
		if (mkdirat(n->fd, name, mi->mode))
			return reply(h->unique, -errno, NULL, 0);
		return reply_entry(h->unique, n, name);
	}
	case FUSE_MKNOD: {
		const struct fuse_mknod_in *mi = arg;

		name = (const char *)(mi + 1);
		if (mknodat(n->fd, name, mi->mode, mi->rdev))
			return reply(h->unique, -errno, NULL, 0);
		return reply_entry(h->unique, n, name);
	}
	case FUSE_SYMLINK: {
		const char *target = name + strlen(name) + 1;

		if (symlinkat(target, n->fd, name))
			return reply(h->unique, -errno, NULL, 0);
		return reply_entry(h->unique, n, name);
	}
	case FUSE_LINK: {
		const struct fuse_link_in *li = arg;
		struct node *old = get_node(li->oldnodeid);

		name = (const char *)(li + 1);
		if (!old)
			return reply(h->unique, -ESTALE, NULL, 0);
		if (linkat(AT_FDCWD, proc_path(old->fd), n->fd, name,
			   AT_SYMLINK_FOLLOW))
			return reply(h->unique, -errno, NULL, 0);
		return reply_entry(h->unique, n, name);
	}
	case FUSE_UNLINK:
	case FUSE_RMDIR:
		if (unlinkat(n->fd, name, op == FUSE_RMDIR ? AT_REMOVEDIR : 0))
			return reply(h->unique, -errno, NULL, 0);
		return reply(h->unique, 0, NULL, 0);
	case FUSE_RENAME:
	case FUSE_RENAME2: {
		uint64_t newdir;
		uint32_t flags = 0;
		const char *old, *new;
		struct node *nd;

		if (op == FUSE_RENAME) {
			newdir = ((const struct fuse_rename_in *)arg)->newdir;
			old = (const char *)arg + sizeof(struct fuse_rename_in);
		} else {
			newdir = ((const struct fuse_rename2_in *)arg)->newdir;
			flags = ((const struct fuse_rename2_in *)arg)->flags;
			old = (const char *)arg + sizeof(struct fuse_rename2_in);
		}
		new = old + strlen(old) + 1;
		nd = get_node(newdir);
		if (!nd)
			return reply(h->unique, -ESTALE, NULL, 0);
		if (renameat2(n->fd, old, nd->fd, new, flags))
			return reply(h->unique, -errno, NULL, 0);
		return reply(h->unique, 0, NULL, 0);
	}
	case FUSE_READLINK: {
		char buf[4096];
		ssize_t r = readlinkat(n->fd, "", buf, sizeof(buf));

		if (r < 0)
			return reply(h->unique, -errno, NULL, 0);
		return reply(h->unique, 0, buf, r);
	}
	case FUSE_STATFS: {
		struct fuse_statfs_out out = {};
		struct statvfs sv;

		if (fstatvfs(n->fd, &sv))
			return reply(h->unique, -errno, NULL, 0);
		out.st.blocks = sv.f_blocks;
		out.st.bfree = sv.f_bfree;
		out.st.bavail = sv.f_bavail;
		out.st.files = sv.f_files;
		out.st.ffree = sv.f_ffree;
		out.st.bsize = sv.f_bsize;
		out.st.namelen = sv.f_namemax;
		out.st.frsize = sv.f_frsize;
		return reply(h->unique, 0, &out, sizeof(out));
	}
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
		return do_xattr(h->unique, op, n, arg);
	default:
		return reply(h->unique, -ENOSYS, NULL, 0);
	}
	(void)len;
}

static void serve(int ready)
{
	char *buf = malloc(BUF_SIZE);
	bool inited = false;
	ssize_t r;

	if (!buf)
		fail("malloc");
	for (;;) {
		const struct fuse_in_header *h = (const void *)buf;

		r = read(fuse_fd, buf, BUF_SIZE);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ENOENT)
				continue;
			if (errno == ENODEV)	/* unmounted */
				exit(0);
			fail("read /dev/fuse");
		}
		if ((size_t)r < sizeof(*h) || h->len != r) {
			fprintf(stderr, "benchfs: short request\n");
			exit(1);
		}
		handle(h, h + 1, r - sizeof(*h));
		if (!inited && h->opcode == FUSE_INIT) {
			inited = true;
			if (write(ready, "", 1) != 1)
				fail("write");
			close(ready);
		}
	}
}

static struct counts *map_counts(const char *path, bool create)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0),
		      0644);
	void *p;

	if (fd < 0 || (create && ftruncate(fd, sizeof(struct counts))))
		fail(path);
	p = mmap(NULL, sizeof(struct counts), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap");
	close(fd);
	return p;
}

/* The pinned route_stats of route.bpf.c, next to the counts file. */
static void stats_pin(char *buf, size_t size, const char *counts_path)
{
	const char *base = strrchr(counts_path, '/');

	snprintf(buf, size, "/sys/fs/bpf/benchfs_%s",
		 base ? base + 1 : counts_path);
	for (; *buf; buf++)
		if (*buf == '.')
			*buf = '_';
}

static int cmd_counts(const char *path, bool reset)
{
	struct counts *c = map_counts(path, false);
	char pin[256];
	int i, fd;

	if (reset)
		memset(c, 0, sizeof(*c));
	else
		for (i = 0; i < NR_OPS; i++)
			if (c->req[i])
				printf("%s=%llu ", count_name(i),
				       (unsigned long long)c->req[i]);
	stats_pin(pin, sizeof(pin), path);
	fd = bpf_obj_get(pin);
	if (fd >= 0) {
		static const char *const names[] = {
			"bpf_lookups", "bpf_candidates", "bpf_to_daemon" };
		uint64_t v;
		uint32_t k;

		for (k = 0; k < 3; k++) {
			v = 0;
			if (reset)
				bpf_map_update_elem(fd, &k, &v, BPF_ANY);
			else if (!bpf_map_lookup_elem(fd, &k, &v))
				printf("%s=%llu ", names[k],
				       (unsigned long long)v);
		}
		close(fd);
	}
	if (!reset)
		printf("\n");
	return 0;
}

static int silent_libbpf(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

/*
 * Bind the struct_ops map @map to the connection of @fd as ops id @id:
 * its members fuse_fd and ops_id (after the callbacks), set in libbpf's
 * copy of the value before loading, at the offsets the object's BTF (the
 * vmlinux.h it was built with) gives them.
 */
static void bind_map(struct bpf_object *obj, struct bpf_map *map, int fd,
		     uint32_t id)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_type *t = NULL;
	const struct btf_member *m;
	long fd_off = -1, id_off = -1, off;
	const char *name;
	size_t sz = 0;
	char *v;
	int i;

	if (btf)
		t = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
	v = bpf_map__initial_value(map, &sz);
	if (!t || !btf_is_struct(t) || !v) {
		fprintf(stderr, "benchfs: map %s is not a struct_ops map\n",
			bpf_map__name(map));
		exit(1);
	}
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
		name = btf__name_by_offset(btf, m->name_off);
		off = btf_member_bit_offset(t, i) / 8;
		if (!name || off + sizeof(uint32_t) > sz ||
		    btf__resolve_size(btf, m->type) != sizeof(uint32_t))
			continue;
		if (!strcmp(name, "fuse_fd"))
			fd_off = off;
		else if (!strcmp(name, "ops_id"))
			id_off = off;
	}
	if (fd_off < 0 || id_off < 0) {
		fprintf(stderr,
			"benchfs: map %s has no fuse_fd and ops_id (built for a kernel without them?)\n",
			bpf_map__name(map));
		exit(1);
	}
	memcpy(v + fd_off, &fd, sizeof(fd));
	memcpy(v + id_off, &id, sizeof(id));
}

/*
 * Load @obj_path with its maps @pre and @post ("-" for none) bound to this
 * connection (fuse_fd) as ops id OPS_ID; attach_bpf() attaches them once
 * mounted. Returns whether there is a map to attach, that is, whether the
 * mount takes ops=OPS_ID.
 */
static bool load_bpf(const char *obj_path, const char *pre, const char *post,
		     const char *permille, const char *counts_path)
{
	struct bpf_object *obj;
	struct bpf_map *map;
	const char *names[2] = { pre, post };
	char pin[256];
	int i;

	libbpf_set_print(silent_libbpf);
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		fail(obj_path);
	if (permille) {
		map = bpf_object__find_map_by_name(obj, ".rodata");
		if (!map)
			fail("route.bpf.o has no .rodata");
		{
			size_t sz;
			uint32_t *v = bpf_map__initial_value(map, &sz);

			if (!v || sz < sizeof(*v))
				fail("permille");
			*v = atoi(permille);
		}
	}
	for (i = 0; i < 2; i++) {
		if (!strcmp(names[i], "-"))
			continue;
		map = bpf_object__find_map_by_name(obj, names[i]);
		if (!map) {
			fprintf(stderr, "benchfs: no map %s in %s\n", names[i],
				obj_path);
			exit(1);
		}
		bind_map(obj, map, fuse_fd, OPS_ID);
		filter_maps[i] = map;
	}
	if (bpf_object__load(obj))
		fail("loading the BPF object");
	map = bpf_object__find_map_by_name(obj, "daemon_dirs");
	if (map)
		dirs_map_fd = bpf_map__fd(map);
	map = bpf_object__find_map_by_name(obj, "route_stats");
	if (map) {
		stats_pin(pin, sizeof(pin), counts_path);
		unlink(pin);
		if (bpf_map__pin(map, pin))
			fail("pinning route_stats");
	}
	return filter_maps[0] || filter_maps[1];
}

/*
 * Attach the maps load_bpf() bound, now that the connection is mounted:
 * the mount's filters from now on. Their links stay open in the server.
 */
static void attach_bpf(const char *mnt)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (!filter_maps[i] || bpf_map__attach_struct_ops(filter_maps[i]))
			continue;
		perror("bpf_map__attach_struct_ops");
		/* a mount whose filters never come fails all with ENOTCONN */
		umount2(mnt, MNT_DETACH);
		exit(1);
	}
}

static int cmd_mount(int argc, char **argv)
{
	const char *mode = argv[2], *back = argv[3], *mnt = argv[4];
	char opts[512];
	int ready[2], root_fd = -1;
	struct stat st;
	pid_t pid;
	char c;

	if (!strcmp(mode, "fb"))
		fb_mode = true;
	else if (strcmp(mode, "pt"))
		return fprintf(stderr, "benchfs: MODE is pt or fb\n"), 2;
	counts = map_counts(argv[5], true);
	debug = getenv("BENCHFS_DEBUG") != NULL;
	umask(0);
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0)
		fail("/dev/fuse");
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions",
		 fuse_fd);
	if (fb_mode) {
		root_fd = open(back, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0)
			fail(back);
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 ",root_dir=%d", root_fd);
		if (argc > 8 &&
		    load_bpf(argv[6], argv[7], argv[8],
			     argc > 9 ? argv[9] : NULL, argv[5]))
			snprintf(opts + strlen(opts),
				 sizeof(opts) - strlen(opts), ",ops=%d",
				 OPS_ID);
	}
	/* the root node */
	max_nodes = 1024;
	nodes = calloc(max_nodes, sizeof(*nodes));
	if (!nodes)
		fail("calloc");
	nodes[0].fd = -1;
	nr_nodes = 2;
	nodes[1].fd = open(back, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (nodes[1].fd < 0 || fstat(nodes[1].fd, &st))
		fail(back);
	nodes[1].dev = st.st_dev;
	nodes[1].ino = st.st_ino;
	nodes[1].nlookup = 1;
	nodes[1].dir = true;

	if (pipe(ready))
		fail("pipe");
	if (mount(fb_mode ? "benchfs-fb" : "benchfs-pt", mnt, "fuse",
		  MS_NOSUID | MS_NODEV, opts))
		fail("mount");
	if (root_fd >= 0)
		close(root_fd);
	/* Before the first access (the stat below): until then, ENOTCONN. */
	attach_bpf(mnt);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		close(ready[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		serve(ready[1]);
	}
	close(ready[1]);
	/* INIT comes with the first access; make one. */
	if (stat(mnt, &st))
		fail(mnt);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "benchfs: the server died before INIT\n");
		return 1;
	}
	printf("%d\n", pid);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "mount") && argc != 7 && argc != 8)
		return cmd_mount(argc, argv);
	if (argc >= 3 && !strcmp(argv[1], "counts"))
		return cmd_counts(argv[2], argc > 3 && !strcmp(argv[3], "--reset"));
	fprintf(stderr,
		"usage: benchfs mount pt|fb BACKING MNT COUNTS [BPF.o PRE POST [PERMILLE]]\n"
		"       benchfs counts COUNTS [--reset]\n");
	return 2;
}
