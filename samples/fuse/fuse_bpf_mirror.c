// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_bpf_mirror: a passthrough FUSE daemon on libfuse 3 (low-level API,
 * as in Debian's libfuse3 3.14) that uses fuse-bpf.
 *
 *   fuse_bpf_mirror [options] SOURCE MOUNTPOINT
 *
 * The daemon serves the root directory of the mount itself: its
 * attributes, its listing (the entries of SOURCE and a virtual file,
 * .fuse-bpf-status, holding the daemon's request counters) and the
 * lookups of its entries. Every other top-level entry it answers with a
 * LOOKUP reply that names a backing file or directory registered with
 * FUSE_DEV_IOC_BACKING_OPEN and, where a policy applies, the ops id of
 * its BPF filters. From then on the kernel serves that entry and
 * everything below it from SOURCE; those requests never reach the
 * daemon, which the status file shows.
 *
 * libfuse 3.14 refuses mount options it does not know, so the daemon
 * mounts /dev/fuse itself with mount(2) and the fuse_bpf option, and
 * hands the open device to libfuse as the mount point /dev/fd/N.
 *
 * The filters are struct_ops maps, each bound to an ops id of one
 * connection: the map names the connection by a file descriptor of it
 * (fuse_fd) and the id (ops_id), which libbpf hands to the kernel when
 * it loads the map; attaching the map binds it. So the daemon opens
 * /dev/fuse, loads the maps with that descriptor and fixed ids, mounts
 * (only then is the descriptor of a connection), attaches the maps and
 * only then serves requests: no LOOKUP reply names an id before it has
 * its filters. The root has none (no ops= mount option), so nothing
 * needs them before the first reply.
 *
 * The policies are BPF struct_ops programs (fuse_bpf_policy.bpf.c):
 *   --hide=PREFIX      names starting with PREFIX do not exist, anywhere
 *   --readonly=NAME    the top-level subtree NAME is read-only (EROFS)
 *   --owner=NAME:UID   only UID may see and use the top-level subtree NAME
 *
 * --hydrate-from=DIR makes the top-level regular files placeholders, as a
 * hierarchical-storage or cloud file system has them: an empty file in
 * SOURCE whose content is at the same name in DIR (standing in for the
 * network). stat shows the real size before the content is there (a
 * getattr postfilter). The first open of a placeholder waits while the
 * daemon fetches the content into the backing file (the open prefilter
 * returns FUSE_BPF_USER_PREFILTER, so the daemon gets OPEN|FUSE_PREFILTER
 * and the kernel opens the backing file once the daemon replied); from
 * then on open, read and stat of it run in the kernel. A placeholder that
 * is never opened is never fetched; a failed fetch fails the open with
 * EIO and leaves the placeholder empty. Files found below a top-level
 * directory are not placeholders: the kernel finds them itself, under node
 * ids the daemon never saw, so it could not tell which one to fetch.
 *
 * --backing-timeout=MS lets the kernel use the attributes and names it read
 * in SOURCE for MS milliseconds (FUSE_BPF_ENTRY_TIMEOUT in each reply):
 * faster, but changes made directly in SOURCE show up to MS later.
 *
 * See Documentation/filesystems/fuse-bpf.rst.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 34

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <linux/types.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fuse_attr.h"
#include "fuse_bpf_policy.skel.h"

#define PROG			"fuse_bpf_mirror"
#define STATUS_NAME		".fuse-bpf-status"
#define STATUS_INO		2
#define FIRST_NODEID		3
#define HIDE_MAX		32	/* as in fuse_bpf_policy.bpf.c */
#define MAX_READONLY		16
#define MAX_OPCODE		64
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ENTRY_TIMEOUT		1.0	/* seconds, for the root's entries */

/* Which filters a top-level entry gets: an index into mirror.ops_id. */
#define POL_HIDE		0	/* only hiding, if --hide is given */
#define POL_RO			0x1
#define POL_OWNER		0x2
#define POL_COUNT		4
/*
 * The ops id of a combination. The ids are the server's to choose (the
 * connection is new and only this daemon attaches maps to it), so they
 * are fixed rather than handed out.
 */
#define OPS_ID(pol)		((pol) + 1)
/* The filters of placeholders (--hydrate-from), after the combinations. */
#define HYDRATE_OPS_ID		OPS_ID(POL_COUNT)

/* A top-level entry the kernel knows: the daemon gave it a backing. */
struct node {
	char *name;
	__u64 nodeid;
	__u64 nlookup;
	__u32 backing_id;
	dev_t dev;
	ino_t ino;
	mode_t type;
	bool placeholder;	/* --hydrate-from: a regular file at the top */
	bool hydrated;		/* its backing file holds its content */
};

/* A listing or a status text, built at open and read piece by piece. */
struct buf {
	char *p;
	size_t size;
};

struct mirror {
	const char *source;
	const char *mountpoint;
	int src_fd;
	int fuse_fd;
	struct fuse_session *se;
	bool se_has_fd;		/* libfuse closes fuse_fd */
	bool allow_other;
	__u32 backing_timeout;	/* --backing-timeout, 0 if not given */
	const char *hydrate_from;	/* --hydrate-from, NULL if not given */
	int hydrate_fd;

	/* policies */
	const char *hide;
	const char *readonly[MAX_READONLY];
	int nr_readonly;
	const char *owner;
	uid_t owner_uid;

	/* BPF; the maps and links of unneeded combinations stay NULL */
	struct fuse_bpf_policy *skel;
	struct bpf_map *pre_map[POL_COUNT];
	struct bpf_map *post_map[POL_COUNT];
	struct bpf_link *pre_link[POL_COUNT];
	struct bpf_link *post_link[POL_COUNT];
	__u32 ops_id[POL_COUNT];	/* 0 until its maps are attached */
	struct bpf_link *hyd_pre_link;
	struct bpf_link *hyd_post_link;

	struct node **nodes;
	size_t nr_nodes;
	__u64 next_nodeid;
	__u64 counts[MAX_OPCODE];
	__u64 backed_requests;	/* on backed nodes, FORGET aside */
	/* userspace filter upcalls, apart from the counts above */
	__u64 filter_upcalls;	/* FUSE_PREFILTER, FUSE_POSTFILTER received */
	__u64 hydrations;	/* contents fetched */
	__u64 hydration_failures;	/* fetches that failed the open */
	struct timespec start;
};

static struct mirror mirror = {
	.src_fd = -1,
	.fuse_fd = -1,
	.hydrate_fd = -1,
	.next_nodeid = FIRST_NODEID,
};

static const struct {
	__u32 opcode;
	const char *name;
} opcodes[] = {
	{ FUSE_INIT, "INIT" },
	{ FUSE_LOOKUP, "LOOKUP" },
	{ FUSE_FORGET, "FORGET" },
	{ FUSE_BATCH_FORGET, "BATCH_FORGET" },
	{ FUSE_GETATTR, "GETATTR" },
	{ FUSE_SETATTR, "SETATTR" },
	{ FUSE_ACCESS, "ACCESS" },
	{ FUSE_STATFS, "STATFS" },
	{ FUSE_OPENDIR, "OPENDIR" },
	{ FUSE_READDIR, "READDIR" },
	{ FUSE_RELEASEDIR, "RELEASEDIR" },
	{ FUSE_OPEN, "OPEN" },
	{ FUSE_READ, "READ" },
	{ FUSE_WRITE, "WRITE" },
	{ FUSE_RELEASE, "RELEASE" },
	{ FUSE_CREATE, "CREATE" },
	{ FUSE_MKNOD, "MKNOD" },
	{ FUSE_MKDIR, "MKDIR" },
	{ FUSE_SYMLINK, "SYMLINK" },
	{ FUSE_LINK, "LINK" },
	{ FUSE_UNLINK, "UNLINK" },
	{ FUSE_RMDIR, "RMDIR" },
	{ FUSE_RENAME, "RENAME" },
	{ FUSE_READLINK, "READLINK" },
};

static void count(__u32 opcode)
{
	if (opcode < MAX_OPCODE)
		mirror.counts[opcode]++;
}

/*
 * Count a request on node @ino. The kernel serves the nodes that have a
 * backing itself; a request for one of them here would be a bug.
 */
static void count_on(__u32 opcode, fuse_ino_t ino)
{
	count(opcode);
	if (ino >= FIRST_NODEID)
		mirror.backed_requests++;
}

static bool hidden(const char *name)
{
	return mirror.hide && !strncmp(name, mirror.hide, strlen(mirror.hide));
}

static bool is_readonly(const char *name)
{
	int i;

	for (i = 0; i < mirror.nr_readonly; i++)
		if (!strcmp(name, mirror.readonly[i]))
			return true;
	return false;
}

static bool is_owned(const char *name)
{
	return mirror.owner && !strcmp(name, mirror.owner);
}

/* May the caller of @req see the top-level entry @name? */
static bool visible(fuse_req_t req, const char *name)
{
	if (hidden(name))
		return false;
	return !is_owned(name) || fuse_req_ctx(req)->uid == mirror.owner_uid;
}

/* The filters a top-level entry gets, or 0 for none. */
static __u32 entry_ops(const struct node *n)
{
	const char *name = n->name;
	int pol = POL_HIDE;

	if (n->placeholder)
		return HYDRATE_OPS_ID;
	if (is_readonly(name))
		pol |= POL_RO;
	if (is_owned(name))
		pol |= POL_OWNER;
	return mirror.ops_id[pol];
}

/* The status file: one "NAME count" per line. */
static int status_text(struct buf *b)
{
	char *p = NULL;
	size_t size = 0;
	FILE *f;
	size_t i;

	f = open_memstream(&p, &size);
	if (!f)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(opcodes); i++)
		fprintf(f, "%s %llu\n", opcodes[i].name,
			(unsigned long long)mirror.counts[opcodes[i].opcode]);
	fprintf(f, "backed_node_requests %llu\n",
		(unsigned long long)mirror.backed_requests);
	if (mirror.hydrate_from) {
		fprintf(f, "filter_upcalls %llu\n",
			(unsigned long long)mirror.filter_upcalls);
		fprintf(f, "hydrations %llu\n",
			(unsigned long long)mirror.hydrations);
		fprintf(f, "hydration_failures %llu\n",
			(unsigned long long)mirror.hydration_failures);
	}
	if (mirror.skel) {
		struct fuse_bpf_policy__bss *bss = mirror.skel->bss;

		fprintf(f, "bpf:hidden_lookups %llu\n",
			(unsigned long long)bss->hidden_lookups);
		fprintf(f, "bpf:hidden_dirents %llu\n",
			(unsigned long long)bss->hidden_dirents);
		fprintf(f, "bpf:denied_readonly %llu\n",
			(unsigned long long)bss->denied_ro);
		fprintf(f, "bpf:denied_owner %llu\n",
			(unsigned long long)bss->denied_owner);
		fprintf(f, "bpf:hydrate_upcalls %llu\n",
			(unsigned long long)bss->hydrate_upcalls);
		fprintf(f, "bpf:sizes_shown %llu\n",
			(unsigned long long)bss->sizes_shown);
	}
	if (fclose(f)) {
		free(p);
		return -ENOMEM;
	}
	b->p = p;
	b->size = size;
	return 0;
}

static void status_stat(struct stat *st)
{
	struct buf b = {};

	memset(st, 0, sizeof(*st));
	st->st_ino = STATUS_INO;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (!status_text(&b))
		st->st_size = b.size;
	free(b.p);
	st->st_atim = mirror.start;
	st->st_mtim = mirror.start;
	st->st_ctim = mirror.start;
}

static struct node *node_by_id(__u64 nodeid)
{
	size_t i;

	for (i = 0; i < mirror.nr_nodes; i++)
		if (mirror.nodes[i]->nodeid == nodeid)
			return mirror.nodes[i];
	return NULL;
}

static struct node *node_by_name(const char *name, const struct stat *st)
{
	struct node *n;
	size_t i;

	for (i = 0; i < mirror.nr_nodes; i++) {
		n = mirror.nodes[i];
		if (!strcmp(n->name, name) && n->dev == st->st_dev &&
		    n->ino == st->st_ino && n->type == (st->st_mode & S_IFMT))
			return n;
	}
	return NULL;
}

static void node_free(struct node *n)
{
	__u32 id = n->backing_id;
	size_t i;

	if (id && ioctl(mirror.fuse_fd, FUSE_DEV_IOC_BACKING_CLOSE, &id))
		fprintf(stderr, PROG ": closing backing id %u: %s\n", id,
			strerror(errno));
	if (n->placeholder && mirror.skel)
		bpf_map__delete_elem(mirror.skel->maps.hydration, &n->nodeid,
				     sizeof(n->nodeid), 0);
	for (i = 0; i < mirror.nr_nodes; i++) {
		if (mirror.nodes[i] == n) {
			mirror.nodes[i] = mirror.nodes[--mirror.nr_nodes];
			break;
		}
	}
	free(n->name);
	free(n);
}

/*
 * Open the source entry @name the way a backing of its type is opened,
 * register it and make a node for it. @st gets the attributes of what
 * was opened.
 */
static int node_new(const char *name, struct stat *st, struct node **res)
{
	struct fuse_backing_map map = {};
	struct node *n, **nodes;
	int fd, id, flags;

	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		flags = O_RDONLY | O_DIRECTORY;
		break;
	case S_IFREG:
		flags = O_RDWR;
		break;
	default:
		flags = O_PATH;
		break;
	}
	fd = openat(mirror.src_fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && flags == O_RDWR &&
	    (errno == EACCES || errno == EROFS || errno == ETXTBSY ||
	     errno == EPERM))
		fd = openat(mirror.src_fd, name,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st)) {
		close(fd);
		return -errno;
	}
	map.fd = fd;
	id = ioctl(mirror.fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	if (id < 0)
		id = -errno;
	close(fd);
	if (id < 0)
		return id;
	if (id == 0)
		return -EIO;

	n = calloc(1, sizeof(*n));
	nodes = realloc(mirror.nodes, (mirror.nr_nodes + 1) * sizeof(*nodes));
	if (nodes)
		mirror.nodes = nodes;
	if (n)
		n->name = strdup(name);
	if (!n || !nodes || !n->name) {
		__u32 bid = id;

		ioctl(mirror.fuse_fd, FUSE_DEV_IOC_BACKING_CLOSE, &bid);
		if (n)
			free(n->name);
		free(n);
		return -ENOMEM;
	}
	n->nodeid = mirror.next_nodeid++;
	n->backing_id = id;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->type = st->st_mode & S_IFMT;
	mirror.nodes[mirror.nr_nodes++] = n;
	*res = n;
	return 0;
}

/* Tell the filters what they need of placeholder @n (fuse_bpf_policy.bpf.c). */
static int hydrate_publish(const struct node *n, __u64 size)
{
	struct {
		__u64 size;
		__u32 hydrated;
		__u32 padding;
	} state = { .size = size, .hydrated = n->hydrated };

	return bpf_map__update_elem(mirror.skel->maps.hydration, &n->nodeid,
				    sizeof(n->nodeid), &state, sizeof(state),
				    BPF_ANY);
}

/*
 * The real size of placeholder @name: its content's, 0 when there is none
 * (its open will fail).
 */
static __u64 hydrate_size(const char *name)
{
	struct stat st;

	if (fstatat(mirror.hydrate_fd, name, &st, AT_SYMLINK_NOFOLLOW) ||
	    !S_ISREG(st.st_mode))
		return 0;
	return st.st_size;
}

/*
 * A node a LOOKUP names: is it a placeholder, and is its content there?
 * Its real size in *@size. Nothing is fetched here: a listing with stat
 * would fetch every file.
 */
static int hydrate_lookup(struct node *n, const struct stat *st, __u64 *size)
{
	*size = st->st_size;
	if (!mirror.hydrate_from || !S_ISREG(st->st_mode))
		return 0;
	if (!n->placeholder) {
		n->placeholder = true;
		n->hydrated = st->st_size > 0;
	}
	if (!n->hydrated)
		*size = hydrate_size(n->name);
	return hydrate_publish(n, *size);
}

/* Write all of @len bytes of @buf at @off of @fd. */
static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	ssize_t w;

	while (len) {
		w = pwrite(fd, buf, len, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= w;
		off += w;
	}
	return 0;
}

/*
 * Fetch the content of placeholder @n into its backing file, in place:
 * the node's backing is that inode, a file renamed over it would not be.
 * On failure the placeholder is left empty.
 *
 * The daemon runs as root and serves one request at a time: both files
 * are opened O_NONBLOCK (a FIFO put in DIR or SOURCE must not hang it)
 * and must be regular files. And it copies only what the placeholder's
 * owner could read anyway: the placeholder must have the owner of the
 * file in DIR and permission bits no wider than its, or whoever can
 * write SOURCE could make a placeholder of their own for a file of DIR
 * they may not read.
 */
static int hydrate_fetch(struct node *n)
{
	char buf[65536];
	struct stat st, ist;
	int in, out, err = 0;
	off_t off = 0;
	ssize_t r;

	in = openat(mirror.hydrate_fd, n->name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &ist)) {
		err = -errno;
		goto close_in;
	}
	if (!S_ISREG(ist.st_mode)) {
		err = -EIO;
		goto close_in;
	}
	out = openat(mirror.src_fd, n->name,
		     O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (out < 0) {
		err = -errno;
		goto close_in;
	}
	if (fstat(out, &st)) {
		err = -errno;
		goto close_out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EIO;
		goto close_out;
	}
	/* The name may lead to another file by now: not the node's backing. */
	if (st.st_dev != n->dev || st.st_ino != n->ino) {
		err = -ESTALE;
		goto close_out;
	}
	if (st.st_uid != ist.st_uid || (st.st_mode & ~ist.st_mode & 07777)) {
		err = -EACCES;
		goto close_out;
	}
	if (ftruncate(out, 0)) {
		err = -errno;
		goto close_out;
	}
	for (;;) {
		r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		if (r <= 0)
			break;
		err = pwrite_all(out, buf, r, off);
		if (err)
			break;
		off += r;
	}
	if (err && ftruncate(out, 0))
		fprintf(stderr, PROG ": emptying %s again: %s\n", n->name,
			strerror(errno));
close_out:
	close(out);
close_in:
	close(in);
	return err;
}

/*
 * OPEN | FUSE_PREFILTER of a placeholder: fetch its content, mark it
 * hydrated, and let the open go on (reply with the in-arguments as they
 * came); the kernel then opens the backing file. Any other userspace
 * filter request is refused: the policy asks for none.
 */
static void serve_filter(const struct fuse_in_header *in, size_t len)
{
	struct fuse_out_header out = { .unique = in->unique };
	struct iovec iov[2] = {
		{ .iov_base = &out, .iov_len = sizeof(out) },
		{ .iov_base = (void *)(in + 1) },
	};
	struct node *n = NULL;
	int err = -EIO;

	mirror.filter_upcalls++;
	if (in->opcode == (FUSE_OPEN | FUSE_PREFILTER))
		n = node_by_id(in->nodeid);
	if (n && n->placeholder && n->hydrated) {
		err = 0;	/* an open before this one fetched it */
	} else if (n && n->placeholder) {
		err = hydrate_fetch(n);
		if (!err) {
			n->hydrated = true;
			err = hydrate_publish(n, hydrate_size(n->name));
			mirror.hydrations++;
		} else {
			fprintf(stderr, PROG ": hydrating %s: %s\n", n->name,
				strerror(-err));
			mirror.hydration_failures++;
			err = -EIO;
		}
	}
	out.error = err;
	/* The in-arguments, unchanged: the payload less any extensions. */
	iov[1].iov_len = len - sizeof(*in) - in->total_extlen * 8;
	out.len = sizeof(out) + (err ? 0 : iov[1].iov_len);
	if (writev(fuse_session_fd(mirror.se), iov, err ? 1 : 2) < 0)
		fprintf(stderr, PROG ": replying to a filter request: %s\n",
			strerror(errno));
}

/*
 * fuse_session_loop(), but for the userspace filter requests, which
 * libfuse does not know (it would answer -ENOSYS): served here.
 */
static int serve(void)
{
	struct fuse_buf fbuf = {};
	const struct fuse_in_header *in;
	int res = 0;

	while (!fuse_session_exited(mirror.se)) {
		res = fuse_session_receive_buf(mirror.se, &fbuf);
		if (res == -EINTR)
			continue;
		if (res <= 0)
			break;
		in = fbuf.mem;
		if (!(fbuf.flags & FUSE_BUF_IS_FD) &&
		    (size_t)res >= sizeof(*in) && in->len == (__u32)res &&
		    (in->opcode & (FUSE_PREFILTER | FUSE_POSTFILTER)) &&
		    sizeof(*in) + in->total_extlen * 8 <= (size_t)res) {
			serve_filter(in, res);
			continue;
		}
		fuse_session_process_buf(mirror.se, &fbuf);
	}
	free(fbuf.mem);
	fuse_session_reset(mirror.se);
	return res < 0 && res != -EINTR ? -1 : 0;
}

static void mirror_init(void *userdata, struct fuse_conn_info *conn)
{
	count(FUSE_INIT);
	/* READDIRPLUS replies carry no fuse-bpf extension: list names only. */
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

static void reply_status_entry(fuse_req_t req)
{
	struct fuse_entry_param e = {
		.ino = STATUS_INO,
		.attr_timeout = 0,
		.entry_timeout = ENTRY_TIMEOUT,
	};

	status_stat(&e.attr);
	fuse_reply_entry(req, &e);
}

static void mirror_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_bpf_entry_out ext = {};
	struct fuse_entry_out eo = {};
	struct iovec iov[2];
	struct node *n;
	struct stat st;
	__u64 size;
	int err;

	count_on(FUSE_LOOKUP, parent);
	if (parent != FUSE_ROOT_ID) {
		/* Below the root the kernel looks names up itself. */
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!strcmp(name, STATUS_NAME)) {
		reply_status_entry(req);
		return;
	}
	if (!visible(req, name)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (fstatat(mirror.src_fd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		fuse_reply_err(req, errno);
		return;
	}
	n = node_by_name(name, &st);
	if (!n) {
		err = node_new(name, &st, &n);
		if (err) {
			fuse_reply_err(req, -err);
			return;
		}
	}
	err = hydrate_lookup(n, &st, &size);
	if (err) {
		if (!n->nlookup)
			node_free(n);
		fuse_reply_err(req, -err);
		return;
	}

	eo.nodeid = n->nodeid;
	/*
	 * The owner-only entry is looked up again on every use, so that the
	 * daemon decides for each caller whether it exists.
	 */
	if (!is_owned(name))
		eo.entry_valid = ENTRY_TIMEOUT;
	eo.attr_valid = ENTRY_TIMEOUT;
	fuse_attr_from_stat(&eo.attr, &st);
	eo.attr.size = size;
	ext.entry_type = FUSE_BPF_ENTRY_BACKING;
	ext.backing_id = n->backing_id;
	ext.ops_id = entry_ops(n);
	if (ext.ops_id)
		ext.flags = FUSE_BPF_ENTRY_SET_OPS;
	if (mirror.backing_timeout) {
		ext.flags |= FUSE_BPF_ENTRY_TIMEOUT;
		ext.backing_timeout = mirror.backing_timeout;
	}
	iov[0].iov_base = &eo;
	iov[0].iov_len = sizeof(eo);
	iov[1].iov_base = &ext;
	iov[1].iov_len = sizeof(ext);
	if (!fuse_reply_iov(req, iov, 2))
		n->nlookup++;
	else if (!n->nlookup)
		node_free(n);
}

static void forget_one(fuse_ino_t ino, __u64 nlookup)
{
	struct node *n = node_by_id(ino);

	if (!n)
		return;
	n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
	if (!n->nlookup)
		node_free(n);
}

/* the libfuse prototype, uint64_t */
static void mirror_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	count(FUSE_FORGET);
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void mirror_forget_multi(fuse_req_t req, size_t nr,
				struct fuse_forget_data *forgets)
{
	size_t i;

	count(FUSE_BATCH_FORGET);
	for (i = 0; i < nr; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void mirror_getattr(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct node *n;
	struct stat st;

	count_on(FUSE_GETATTR, ino);
	if (ino == FUSE_ROOT_ID) {
		if (fstat(mirror.src_fd, &st)) {
			fuse_reply_err(req, errno);
			return;
		}
		st.st_ino = FUSE_ROOT_ID;
		fuse_reply_attr(req, &st, ENTRY_TIMEOUT);
		return;
	}
	if (ino == STATUS_INO) {
		status_stat(&st);
		fuse_reply_attr(req, &st, 0);
		return;
	}
	/* Backed nodes get their attributes from the kernel. */
	n = node_by_id(ino);
	if (!n || fstatat(mirror.src_fd, n->name, &st, AT_SYMLINK_NOFOLLOW)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_attr(req, &st, ENTRY_TIMEOUT);
}

static void mirror_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			   int to_set, struct fuse_file_info *fi)
{
	count_on(FUSE_SETATTR, ino);
	fuse_reply_err(req, EPERM);
}

static void mirror_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	/* default_permissions: the kernel checked the mode bits already. */
	count_on(FUSE_ACCESS, ino);
	fuse_reply_err(req, 0);
}

static void mirror_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	count_on(FUSE_STATFS, ino);
	if (fstatvfs(mirror.src_fd, &sv))
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/* Add one entry to a listing; fuse_add_direntry() sets its offset. */
static int buf_add_dirent(fuse_req_t req, struct buf *b, const char *name,
			  ino_t ino, mode_t type)
{
	struct stat st = { .st_ino = ino, .st_mode = type };
	size_t len = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	char *p = realloc(b->p, b->size + len);

	if (!p)
		return -ENOMEM;
	b->p = p;
	fuse_add_direntry(req, b->p + b->size, len, name, &st, b->size + len);
	b->size += len;
	return 0;
}

static void mirror_opendir(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct buf *b;
	struct dirent *de;
	DIR *dir;
	int fd, err = 0;

	count_on(FUSE_OPENDIR, ino);
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	b = calloc(1, sizeof(*b));
	fd = openat(mirror.src_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!b || !dir) {
		err = errno ? errno : ENOMEM;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	err = -buf_add_dirent(req, b, ".", FUSE_ROOT_ID, S_IFDIR);
	if (!err)
		err = -buf_add_dirent(req, b, "..", FUSE_ROOT_ID, S_IFDIR);
	if (!err)
		err = -buf_add_dirent(req, b, STATUS_NAME, STATUS_INO, S_IFREG);
	while (!err && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, STATUS_NAME) || !visible(req, de->d_name))
			continue;
		err = -buf_add_dirent(req, b, de->d_name, de->d_ino,
				      DTTOIF(de->d_type));
	}
	closedir(dir);
	if (err)
		goto fail;
	fi->fh = (uintptr_t)b;
	if (fuse_reply_open(req, fi))
		goto free;
	return;
fail:
	fuse_reply_err(req, err);
free:
	if (b)
		free(b->p);
	free(b);
}

static void reply_buf_part(fuse_req_t req, struct buf *b, size_t size,
			   off_t off)
{
	if (off < 0 || (size_t)off >= b->size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, b->p + off,
			       b->size - off < size ? b->size - off : size);
}

static void mirror_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	count_on(FUSE_READDIR, ino);
	reply_buf_part(req, (struct buf *)(uintptr_t)fi->fh, size, off);
}

static void release_buf(struct fuse_file_info *fi)
{
	struct buf *b = (struct buf *)(uintptr_t)fi->fh;

	if (b)
		free(b->p);
	free(b);
}

static void mirror_releasedir(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	count_on(FUSE_RELEASEDIR, ino);
	release_buf(fi);
	fuse_reply_err(req, 0);
}

static void mirror_open(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct buf *b;
	int err;

	count_on(FUSE_OPEN, ino);
	if (ino != STATUS_INO) {
		fuse_reply_err(req, EIO);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* A snapshot of the counters as they are now. */
	err = status_text(b);
	if (err) {
		free(b);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uintptr_t)b;
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi))
		release_buf(fi);
}

static void mirror_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	count_on(FUSE_READ, ino);
	reply_buf_part(req, (struct buf *)(uintptr_t)fi->fh, size, off);
}

static void mirror_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			 size_t size, off_t off, struct fuse_file_info *fi)
{
	count_on(FUSE_WRITE, ino);
	fuse_reply_err(req, EBADF);
}

static void mirror_release(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	count_on(FUSE_RELEASE, ino);
	release_buf(fi);
	fuse_reply_err(req, 0);
}

/*
 * New top-level entries cannot be made through the mount: a CREATE,
 * MKNOD, MKDIR, SYMLINK or LINK reply has no fuse-bpf extension, so the
 * new node would have no backing. Make them in SOURCE, or below a
 * top-level directory, where the kernel creates them.
 */
static void mirror_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			  mode_t mode, struct fuse_file_info *fi)
{
	count_on(FUSE_CREATE, parent);
	fuse_reply_err(req, EPERM);
}

static void mirror_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, dev_t rdev)
{
	count_on(FUSE_MKNOD, parent);
	fuse_reply_err(req, EPERM);
}

static void mirror_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode)
{
	count_on(FUSE_MKDIR, parent);
	fuse_reply_err(req, EPERM);
}

static void mirror_symlink(fuse_req_t req, const char *link,
			   fuse_ino_t parent, const char *name)
{
	count_on(FUSE_SYMLINK, parent);
	fuse_reply_err(req, EPERM);
}

static void mirror_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
			const char *newname)
{
	count_on(FUSE_LINK, newparent);
	fuse_reply_err(req, EPERM);
}

/* May the caller remove or rename the top-level entry @name? */
static int may_change(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent != FUSE_ROOT_ID)
		return -EXDEV;
	if (!strcmp(name, STATUS_NAME))
		return -EPERM;
	if (!visible(req, name))
		return -ENOENT;
	if (is_readonly(name))
		return -EROFS;
	return 0;
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int flags)
{
	int err = may_change(req, parent, name);

	if (!err && unlinkat(mirror.src_fd, name, flags))
		err = -errno;
	fuse_reply_err(req, -err);
}

static void mirror_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count_on(FUSE_UNLINK, parent);
	remove_entry(req, parent, name, 0);
}

static void mirror_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count_on(FUSE_RMDIR, parent);
	remove_entry(req, parent, name, AT_REMOVEDIR);
}

static void mirror_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			  fuse_ino_t newparent, const char *newname,
			  unsigned int flags)
{
	struct stat st;
	struct node *n;
	char *copy;
	int err;

	count_on(FUSE_RENAME, parent);
	err = may_change(req, parent, name);
	if (!err)
		err = may_change(req, newparent, newname);
	/* A name a policy applies to is not made by renaming. */
	if (!err && (hidden(newname) || is_owned(newname)))
		err = -EPERM;
	if (!err && fstatat(mirror.src_fd, name, &st, AT_SYMLINK_NOFOLLOW))
		err = -errno;
	if (!err && renameat2(mirror.src_fd, name, mirror.src_fd, newname,
			      flags))
		err = -errno;
	if (!err) {
		n = node_by_name(name, &st);
		copy = n ? strdup(newname) : NULL;
		if (copy) {
			free(n->name);
			n->name = copy;
		}
	}
	fuse_reply_err(req, -err);
}

static void mirror_readlink(fuse_req_t req, fuse_ino_t ino)
{
	count_on(FUSE_READLINK, ino);
	fuse_reply_err(req, EINVAL);
}

static const struct fuse_lowlevel_ops mirror_ops = {
	.init = mirror_init,
	.lookup = mirror_lookup,
	.forget = mirror_forget,
	.forget_multi = mirror_forget_multi,
	.getattr = mirror_getattr,
	.setattr = mirror_setattr,
	.access = mirror_access,
	.statfs = mirror_statfs,
	.opendir = mirror_opendir,
	.readdir = mirror_readdir,
	.releasedir = mirror_releasedir,
	.open = mirror_open,
	.read = mirror_read,
	.write = mirror_write,
	.release = mirror_release,
	.create = mirror_create,
	.mknod = mirror_mknod,
	.mkdir = mirror_mkdir,
	.symlink = mirror_symlink,
	.link = mirror_link,
	.unlink = mirror_unlink,
	.rmdir = mirror_rmdir,
	.rename = mirror_rename,
	.readlink = mirror_readlink,
};

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options] SOURCE MOUNTPOINT\n"
		"Mirror SOURCE at MOUNTPOINT with fuse-bpf: the kernel serves\n"
		"everything below the top-level entries from SOURCE.\n"
		"  --hide=PREFIX     names starting with PREFIX do not exist\n"
		"  --readonly=NAME   the top-level subtree NAME is read-only\n"
		"                    (may be given up to %d times)\n"
		"  --owner=NAME:UID  only UID sees and uses the top-level subtree\n"
		"                    NAME (implies --allow-other)\n"
		"  --allow-other     let other users than the mounter in\n"
		"  --backing-timeout=MS  the kernel may use what it read in\n"
		"                    SOURCE for MS milliseconds (changes made\n"
		"                    directly in SOURCE show up to MS later)\n"
		"  --hydrate-from=DIR  the top-level regular files of SOURCE\n"
		"                    that are empty are placeholders: their\n"
		"                    first open fetches the content from DIR\n"
		"                    (not with --readonly or --owner)\n"
		"  -h, --help        this text\n"
		"Must run as root. Exits when unmounted or on SIGTERM/SIGINT.\n",
		MAX_READONLY);
}

static bool valid_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..") && strcmp(name, STATUS_NAME) &&
	       strlen(name) <= NAME_MAX;
}

static int bad_option(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	print_usage(stderr);
	return 2;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hide", required_argument, NULL, 'H' },
		{ "readonly", required_argument, NULL, 'r' },
		{ "owner", required_argument, NULL, 'o' },
		{ "allow-other", no_argument, NULL, 'a' },
		{ "backing-timeout", required_argument, NULL, 't' },
		{ "hydrate-from", required_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long uid, ms;
	char *colon, *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (mirror.hide)
				return bad_option("--hide given twice");
			if (!*optarg || strlen(optarg) > HIDE_MAX ||
			    strchr(optarg, '/'))
				return bad_option("--hide=%s: 1 to %d characters, no '/'",
						  optarg, HIDE_MAX);
			mirror.hide = optarg;
			break;
		case 'r':
			if (!valid_name(optarg))
				return bad_option("--readonly=%s: not a top-level name",
						  optarg);
			if (mirror.nr_readonly == MAX_READONLY)
				return bad_option("--readonly given more than %d times",
						  MAX_READONLY);
			mirror.readonly[mirror.nr_readonly++] = optarg;
			break;
		case 'o':
			if (mirror.owner)
				return bad_option("--owner given twice");
			colon = strrchr(optarg, ':');
			if (!colon)
				return bad_option("--owner=%s: expected NAME:UID", optarg);
			*colon = '\0';
			errno = 0;
			uid = strtoul(colon + 1, &end, 10);
			if (!valid_name(optarg) || !colon[1] || *end || errno ||
			    uid >= (uid_t)-1)
				return bad_option("--owner=%s:%s: expected NAME:UID",
						  optarg, colon + 1);
			mirror.owner = optarg;
			mirror.owner_uid = uid;
			mirror.allow_other = true;
			break;
		case 'a':
			mirror.allow_other = true;
			break;
		case 't':
			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || !ms || ms > UINT32_MAX)
				return bad_option("--backing-timeout=%s: 1 to %u milliseconds",
						  optarg, UINT32_MAX);
			mirror.backing_timeout = ms;
			break;
		case 'y':
			if (mirror.hydrate_from)
				return bad_option("--hydrate-from given twice");
			if (!*optarg)
				return bad_option("--hydrate-from: a directory");
			mirror.hydrate_from = optarg;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2)
		return bad_option("expected SOURCE and MOUNTPOINT");
	mirror.source = argv[optind];
	mirror.mountpoint = argv[optind + 1];
	if (mirror.hide && mirror.owner && hidden(mirror.owner))
		return bad_option("--owner=%s is hidden by --hide=%s",
				  mirror.owner, mirror.hide);
	/* A placeholder's filters are its own: no policy combined. */
	if (mirror.hydrate_from && (mirror.nr_readonly || mirror.owner))
		return bad_option("--hydrate-from goes with --hide only");
	return 0;
}

static bool policies(void)
{
	return mirror.hide || mirror.nr_readonly || mirror.owner ||
	       mirror.hydrate_from;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The one-line message for a kernel that cannot run this daemon. */
static void no_fuse_bpf(const char *why)
{
	fprintf(stderr, "%s: this kernel has no fuse-bpf (%s)\n", PROG, why);
}

/*
 * Is this kernel's fuse built with the fuse-bpf struct_ops types? They
 * are in vmlinux's BTF, or in fuse.ko's when fuse is a module.
 */
static bool have_fuse_bpf_ops(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct btf *btf = vmlinux;
	bool ok;

	if (!vmlinux)
		return false;
	if (btf__find_by_name_kind(btf, "fuse_bpf_prefilters",
				   BTF_KIND_STRUCT) <= 0)
		btf = btf__load_module_btf("fuse", vmlinux);
	ok = btf && btf__find_by_name_kind(btf, "fuse_bpf_prefilters",
					   BTF_KIND_STRUCT) > 0 &&
	     btf__find_by_name_kind(btf, "fuse_bpf_postfilters",
				    BTF_KIND_STRUCT) > 0;
	if (btf != vmlinux)
		btf__free(btf);
	btf__free(vmlinux);
	return ok;
}

/*
 * Bind a map to ops id OPS_ID(@pol) of the connection of mirror.fuse_fd.
 * The kernel takes both values when libbpf loads the map and looks the
 * descriptor up when the map is attached. A macro: the skeleton gives
 * every map a shadow type of its own.
 */
#define BIND(skel, map, pol)						\
	do {								\
		(skel)->struct_ops.map->fuse_fd = mirror.fuse_fd;	\
		(skel)->struct_ops.map->ops_id = OPS_ID(pol);		\
	} while (0)

/*
 * Load the policy program and the maps the options need, before the
 * mount: a policy that does not load leaves no mount behind.
 */
static int bpf_load(void)
{
	struct fuse_bpf_policy *skel;
	struct bpf_map *pre[POL_COUNT], *post[POL_COUNT];
	bool need[POL_COUNT] = {};
	int i, err;

	if (!have_fuse_bpf_ops()) {
		no_fuse_bpf("no struct fuse_bpf_prefilters in its BTF");
		return -1;
	}
	libbpf_set_print(libbpf_print);
	skel = fuse_bpf_policy__open();
	if (!skel) {
		fprintf(stderr, PROG ": opening the BPF policy: %s\n",
			strerror(errno));
		return -1;
	}
	mirror.skel = skel;
	if (mirror.hide) {
		memcpy(skel->bss->hide_prefix, mirror.hide, strlen(mirror.hide));
		skel->bss->hide_len = strlen(mirror.hide);
	}
	skel->bss->owner_uid = mirror.owner_uid;

	/* A map serves one id: each combination has its own postfilters. */
	pre[POL_HIDE] = skel->maps.pol_plain;
	post[POL_HIDE] = skel->maps.hide_plain;
	BIND(skel, pol_plain, POL_HIDE);
	BIND(skel, hide_plain, POL_HIDE);
	pre[POL_RO] = skel->maps.pol_ro;
	post[POL_RO] = skel->maps.hide_ro;
	BIND(skel, pol_ro, POL_RO);
	BIND(skel, hide_ro, POL_RO);
	pre[POL_OWNER] = skel->maps.pol_owner;
	post[POL_OWNER] = skel->maps.hide_owner;
	BIND(skel, pol_owner, POL_OWNER);
	BIND(skel, hide_owner, POL_OWNER);
	pre[POL_RO | POL_OWNER] = skel->maps.pol_ro_owner;
	post[POL_RO | POL_OWNER] = skel->maps.hide_ro_owner;
	BIND(skel, pol_ro_owner, POL_RO | POL_OWNER);
	BIND(skel, hide_ro_owner, POL_RO | POL_OWNER);

	/* The placeholders' own: an open and a getattr filter. */
	skel->struct_ops.pol_hydrate->fuse_fd = mirror.fuse_fd;
	skel->struct_ops.pol_hydrate->ops_id = HYDRATE_OPS_ID;
	skel->struct_ops.hyd_post->fuse_fd = mirror.fuse_fd;
	skel->struct_ops.hyd_post->ops_id = HYDRATE_OPS_ID;
	bpf_map__set_autocreate(skel->maps.pol_hydrate, mirror.hydrate_from);
	bpf_map__set_autocreate(skel->maps.hyd_post, mirror.hydrate_from);

	need[POL_HIDE] = mirror.hide;
	need[POL_RO] = mirror.nr_readonly;
	need[POL_OWNER] = mirror.owner;
	need[POL_RO | POL_OWNER] = mirror.owner && is_readonly(mirror.owner);
	for (i = 0; i < POL_COUNT; i++) {
		/* Without a prefix nothing asks for the postfilter. */
		mirror.pre_map[i] = need[i] ? pre[i] : NULL;
		mirror.post_map[i] = need[i] && mirror.hide ? post[i] : NULL;
		bpf_map__set_autocreate(pre[i], need[i]);
		bpf_map__set_autocreate(post[i], need[i] && mirror.hide);
	}

	err = fuse_bpf_policy__load(skel);
	if (err) {
		fprintf(stderr, PROG ": loading the BPF policy: %s\n",
			strerror(-err));
		return -1;
	}
	return 0;
}

/*
 * Attach the loaded maps, once mounted: the kernel binds a map to the
 * connection its fuse_fd is of, and there is none before the mount. From
 * here on LOOKUP replies may name the ids.
 */
static int bpf_attach(void)
{
	int i;

	for (i = 0; i < POL_COUNT; i++) {
		if (!mirror.pre_map[i])
			continue;
		mirror.pre_link[i] =
			bpf_map__attach_struct_ops(mirror.pre_map[i]);
		if (!mirror.pre_link[i])
			goto attach_failed;
		if (mirror.post_map[i]) {
			mirror.post_link[i] =
				bpf_map__attach_struct_ops(mirror.post_map[i]);
			if (!mirror.post_link[i])
				goto attach_failed;
		}
		mirror.ops_id[i] = OPS_ID(i);
	}
	if (mirror.hydrate_from) {
		mirror.hyd_pre_link =
			bpf_map__attach_struct_ops(mirror.skel->maps.pol_hydrate);
		if (mirror.hyd_pre_link)
			mirror.hyd_post_link =
				bpf_map__attach_struct_ops(mirror.skel->maps.hyd_post);
		if (!mirror.hyd_post_link) {
			i = POL_COUNT;
			goto attach_failed;
		}
	}
	return 0;
attach_failed:
	fprintf(stderr, PROG ": attaching the BPF policy as ops id %d: %s\n",
		OPS_ID(i), strerror(errno));
	return -1;
}

/* The descriptor the mount, libfuse and the maps name the connection by. */
static int open_fuse(void)
{
	mirror.fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (mirror.fuse_fd < 0) {
		fprintf(stderr, PROG ": /dev/fuse: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int mount_fuse(void)
{
	char opts[256];

	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=%u,group_id=%u,fuse_bpf,default_permissions%s",
		 mirror.fuse_fd, getuid(), getgid(),
		 mirror.allow_other ? ",allow_other" : "");
	if (mount(mirror.source, mirror.mountpoint, "fuse.fuse_bpf_mirror",
		  MS_NOSUID | MS_NODEV, opts)) {
		if (errno == EINVAL)
			no_fuse_bpf("the fuse_bpf mount option is refused");
		else
			fprintf(stderr, PROG ": mounting %s: %s\n",
				mirror.mountpoint, strerror(errno));
		return -1;
	}
	return 0;
}

static void cleanup(void)
{
	int i;

	if (mirror.se) {
		fuse_remove_signal_handlers(mirror.se);
		fuse_session_unmount(mirror.se);
		fuse_session_destroy(mirror.se);
		if (mirror.se_has_fd)
			mirror.fuse_fd = -1;
	}
	while (mirror.nr_nodes) {
		/* the connection is gone, and its backing ids with it */
		mirror.nodes[0]->backing_id = 0;
		node_free(mirror.nodes[0]);
	}
	free(mirror.nodes);
	if (mirror.fuse_fd >= 0)
		close(mirror.fuse_fd);
	for (i = 0; i < POL_COUNT; i++) {
		bpf_link__destroy(mirror.pre_link[i]);
		bpf_link__destroy(mirror.post_link[i]);
	}
	bpf_link__destroy(mirror.hyd_pre_link);
	bpf_link__destroy(mirror.hyd_post_link);
	fuse_bpf_policy__destroy(mirror.skel);
	if (mirror.src_fd >= 0)
		close(mirror.src_fd);
	if (mirror.hydrate_fd >= 0)
		close(mirror.hydrate_fd);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char devfd[32];
	bool mounted = false;
	int ret;

	ret = parse_args(argc, argv);
	if (ret)
		return ret;
	clock_gettime(CLOCK_REALTIME, &mirror.start);
	if (geteuid()) {
		fprintf(stderr,
			"%s: must run as root (mount, fuse-bpf ioctls and maps)\n",
			PROG);
		return 1;
	}
	mirror.src_fd = open(mirror.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mirror.src_fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", mirror.source, strerror(errno));
		return 1;
	}
	if (mirror.hydrate_from) {
		mirror.hydrate_fd = open(mirror.hydrate_from,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mirror.hydrate_fd < 0) {
			fprintf(stderr, PROG ": %s: %s\n", mirror.hydrate_from,
				strerror(errno));
			close(mirror.src_fd);
			return 1;
		}
	}

	ret = 1;
	if (open_fuse())
		goto out;
	if (policies() && bpf_load())
		goto out;
	if (mount_fuse())
		goto out;
	mounted = true;
	if (policies() && bpf_attach())
		goto out;
	if (fuse_opt_add_arg(&args, PROG))
		goto out;
	mirror.se = fuse_session_new(&args, &mirror_ops, sizeof(mirror_ops),
				     &mirror);
	fuse_opt_free_args(&args);
	if (!mirror.se)
		goto out;
	if (fuse_set_signal_handlers(mirror.se))
		goto out;
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", mirror.fuse_fd);
	if (fuse_session_mount(mirror.se, devfd))
		goto out;
	mirror.se_has_fd = true;

	/* 0, or the number of the signal that ended it */
	if (mirror.hydrate_from)
		ret = serve() < 0 ? 1 : 0;
	else
		ret = fuse_session_loop(mirror.se) < 0 ? 1 : 0;
out:
	if (mounted && umount2(mirror.mountpoint, MNT_DETACH) &&
	    errno != EINVAL && errno != ENOENT)
		fprintf(stderr, PROG ": unmounting %s: %s\n", mirror.mountpoint,
			strerror(errno));
	cleanup();
	return ret;
}
