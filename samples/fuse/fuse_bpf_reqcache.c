// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_bpf_reqcache: a classic passthrough FUSE daemon (libfuse 3, low-level
 * API, in the manner of libfuse's passthrough_ll) whose attribute and
 * name lookups a fuse-bpf request program answers in the kernel.
 *
 *   fuse_bpf_reqcache [options] SOURCE MOUNTPOINT
 *
 * The mount is an ordinary FUSE mount (fuse_session_mount(), no fuse-bpf
 * mount option, no backing files): the daemon answers every request
 * itself, and by default with entry and attribute timeouts of 0, so that
 * the kernel asks again each time and sees changes made in SOURCE at once.
 * That makes a stat() two requests (LOOKUP to revalidate the name, then
 * GETATTR), each a round trip to the daemon.
 *
 * After mounting, the daemon attaches a request program
 * (fuse_bpf_reqcache.bpf.c, a struct fuse_bpf_request_ops map) to its own
 * connection, naming it by its session fd (fuse_session_fd()). The
 * program answers GETATTR from the attrs map (node id -> struct
 * fuse_attr_out) and LOOKUP from the entries map ((parent, name) -> struct
 * fuse_entry_out) and sends everything else, and what the maps do not
 * hold, to the daemon. The daemon publishes in the maps the replies it
 * sends to LOOKUP and GETATTR, and deletes what a change makes stale
 * before it replies to the change (see unpublish()). A stat() of a
 * published file then never leaves the kernel, while whatever changes
 * through the mount shows at once. A change made directly in SOURCE does
 * not: the maps keep what the daemon last published until a change
 * through the mount deletes it (--no-bpf gives the classic behaviour).
 *
 * --hide=PREFIX is fuse_bpf_mirror's policy (names starting with PREFIX
 * do not exist, in every directory, for every caller), enforced by the
 * program: it fails a LOOKUP of a hidden name and every request naming
 * one with -ENOENT, and removes hidden names from READDIR replies (see
 * fuse_bpf_reqcache.bpf.c), so that none of those requests reaches the
 * daemon. The daemon leaves hiding to the program, and counts any request
 * naming a hidden name that reaches it (hidden_received in the status
 * file: 0 while the program works). With --no-bpf the daemon hides the
 * names itself, answering the same.
 *
 *   --timeout=SECONDS  entry and attribute timeouts (FUSE's own cache)
 *   --hide=PREFIX      names starting with PREFIX do not exist, anywhere
 *   --no-bpf           no request program
 *   --status=FILE      write the request counters to FILE on SIGUSR1
 *
 * See "A request program for a classic daemon" in
 * Documentation/filesystems/fuse-bpf.rst.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 34

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <linux/types.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fuse_attr.h"
#include "fuse_bpf_reqcache.h"
#include "fuse_bpf_reqcache.skel.h"

#define PROG		"fuse_bpf_reqcache"
#define MAX_OPCODE	64
#define HASH_SIZE	4096
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* A name the entries map gives a node: its key there. */
struct pub {
	struct pub *next;
	__u64 parent;
	char name[];
};

/*
 * A node the kernel knows: an inode of SOURCE the daemon looked up. Its id
 * is never reused (next_id only grows), so that a stale id can never name
 * another file.
 */
struct node {
	struct node *id_next;
	struct node *ino_next;
	__u64 id;
	int fd;			/* O_PATH */
	dev_t dev;
	ino_t ino;
	__u64 nlookup;		/* entries the daemon replied with */
	__u64 forgotten;	/* what the kernel's FORGETs counted */
	struct pub *pubs;	/* keys of the entries map naming it */
	bool attr_pub;		/* in the attrs map */
};

/* An open directory. */
struct dirp {
	DIR *dp;
	struct dirent *entry;
	off_t offset;
};

static struct {
	const char *source;
	const char *mountpoint;
	const char *status;
	const char *hide;
	double timeout;
	bool no_bpf;
	bool send_all;
	struct fuse_session *se;

	struct node root;
	struct node *by_id[HASH_SIZE];
	struct node *by_ino[HASH_SIZE];
	__u64 next_id;
	__u64 nr_nodes;

	struct fuse_bpf_reqcache *skel;
	struct bpf_link *link;
	bool maps_full;		/* said once */

	/* written by the loop, read by the status thread */
	__u64 counts[MAX_OPCODE];
	__u64 hidden_received;
} rc = {
	.next_id = FUSE_ROOT_ID + 1,
	.root = { .id = FUSE_ROOT_ID, .fd = -1 },
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
	{ FUSE_STATFS, "STATFS" },
	{ FUSE_OPENDIR, "OPENDIR" },
	{ FUSE_READDIR, "READDIR" },
	{ FUSE_RELEASEDIR, "RELEASEDIR" },
	{ FUSE_OPEN, "OPEN" },
	{ FUSE_READ, "READ" },
	{ FUSE_WRITE, "WRITE" },
	{ FUSE_FLUSH, "FLUSH" },
	{ FUSE_FSYNC, "FSYNC" },
	{ FUSE_RELEASE, "RELEASE" },
	{ FUSE_CREATE, "CREATE" },
	{ FUSE_MKNOD, "MKNOD" },
	{ FUSE_MKDIR, "MKDIR" },
	{ FUSE_SYMLINK, "SYMLINK" },
	{ FUSE_LINK, "LINK" },
	{ FUSE_UNLINK, "UNLINK" },
	{ FUSE_RMDIR, "RMDIR" },
	{ FUSE_RENAME, "RENAME" },
	{ FUSE_RENAME2, "RENAME2" },
	{ FUSE_READLINK, "READLINK" },
};

static void count(__u32 opcode)
{
	if (opcode < MAX_OPCODE)
		__atomic_fetch_add(&rc.counts[opcode], 1, __ATOMIC_RELAXED);
}

/* --hide */

static bool hidden(const char *name)
{
	return rc.hide && !strncmp(name, rc.hide, strlen(rc.hide));
}

/*
 * A request naming @name reached the daemon: count it if @name is
 * hidden. True if the daemon must refuse it with ENOENT, which it does
 * only without the program; with the program, hiding is the program's
 * alone (the counter shows what it let through).
 */
static bool refuse_hidden(const char *name)
{
	if (!hidden(name))
		return false;
	__atomic_fetch_add(&rc.hidden_received, 1, __ATOMIC_RELAXED);
	return rc.no_bpf;
}

/* nodes */

static struct node *node_by_id(fuse_ino_t id)
{
	struct node *n;

	if (id == FUSE_ROOT_ID)
		return &rc.root;
	for (n = rc.by_id[id % HASH_SIZE]; n; n = n->id_next)
		if (n->id == id)
			return n;
	return NULL;
}

static unsigned int ino_hash(dev_t dev, ino_t ino)
{
	return (dev * 31 + ino) % HASH_SIZE;
}

static struct node *node_by_ino(dev_t dev, ino_t ino)
{
	struct node *n;

	if (rc.root.dev == dev && rc.root.ino == ino)
		return &rc.root;
	for (n = rc.by_ino[ino_hash(dev, ino)]; n; n = n->ino_next)
		if (n->dev == dev && n->ino == ino)
			return n;
	return NULL;
}

/*
 * The node of a request's id. The kernel names only ids it was given and
 * has not forgotten, which the daemon keeps (see node_maybe_free()); if
 * it ever named another, the request fails with ESTALE, as for a file
 * that is gone.
 */
static struct node *node(fuse_ino_t id)
{
	struct node *n = node_by_id(id);

	if (!n)
		fprintf(stderr, PROG ": a request for id %llu, which is not known\n",
			(unsigned long long)id);
	return n;
}

/* The node of @name in @parent, if the daemon has one. */
static struct node *node_of_name(struct node *parent, const char *name)
{
	struct stat st;

	if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return NULL;
	return node_by_ino(st.st_dev, st.st_ino);
}

/* LOOKUPs of @n the program answered: the kernel counts them too. */
static __u64 handed(struct node *n)
{
	__u64 v = 0;

	if (rc.skel)
		bpf_map__lookup_elem(rc.skel->maps.handed, &n->id,
				     sizeof(n->id), &v, sizeof(v), 0);
	return v;
}

/*
 * The lifetime rule. The kernel counts a reference for every entry it
 * gets, from the daemon or from the program, and a FORGET gives back the
 * number it counted: more than the daemon replied with when the program
 * answered some LOOKUPs. So the kernel's references are the daemon's
 * (nlookup) plus the program's (the handed map) less what FORGETs
 * returned (clamped at 0: a FORGET may return more than the daemon knows
 * of, and must not free a node early nor wrap). A node is freed only when
 * that is 0 and no entry of the map names it (the program could hand it
 * out again; a FORGET that brings it to 0 deletes those entries, see
 * forget_one()), and its id is never given to another node.
 */
static void node_maybe_free(struct node *n)
{
	__u64 refs = n->nlookup + handed(n);
	struct node **p;

	if (n == &rc.root || n->pubs || refs > n->forgotten)
		return;
	if (rc.skel) {
		if (n->attr_pub)
			bpf_map__delete_elem(rc.skel->maps.attrs, &n->id,
					     sizeof(n->id), 0);
		bpf_map__delete_elem(rc.skel->maps.handed, &n->id,
				     sizeof(n->id), 0);
	}
	for (p = &rc.by_id[n->id % HASH_SIZE]; *p != n; p = &(*p)->id_next)
		;
	*p = n->id_next;
	for (p = &rc.by_ino[ino_hash(n->dev, n->ino)]; *p != n;
	     p = &(*p)->ino_next)
		;
	*p = n->ino_next;
	close(n->fd);
	free(n);
	__atomic_fetch_sub(&rc.nr_nodes, 1, __ATOMIC_RELAXED);
}

/* publishing */

static void no_room(int err)
{
	if (!rc.maps_full)
		fprintf(stderr, PROG ": maps full (%s): the daemon answers the rest\n",
			strerror(-err));
	rc.maps_full = true;
}

static void publish_attr(struct node *n, const struct stat *st)
{
	struct fuse_attr_out a = {
		.attr_valid = (__u64)rc.timeout,
		.attr_valid_nsec = (rc.timeout - (__u64)rc.timeout) * 1e9,
	};
	int err;

	/* --send-all: the program answers nothing, publish nothing */
	if (!rc.skel || rc.send_all)
		return;
	fuse_attr_from_stat(&a.attr, st);
	err = bpf_map__update_elem(rc.skel->maps.attrs, &n->id, sizeof(n->id),
				   &a, sizeof(a), BPF_ANY);
	if (err)
		no_room(err);
	else
		n->attr_pub = true;
}

static void make_key(struct reqcache_key *key, __u64 parent, const char *name)
{
	size_t len = strnlen(name, sizeof(key->name) - 1);

	memset(key, 0, sizeof(*key));
	key->parent = parent;
	memcpy(key->name, name, len);
}

/* Publish @e, the entry of @name in @parent, and record it in its node. */
static void publish_entry(struct node *parent, const char *name,
			  struct node *n, const struct fuse_entry_param *e)
{
	struct fuse_entry_out eo = {
		.nodeid = n->id,
		.entry_valid = (__u64)e->entry_timeout,
		.entry_valid_nsec = (e->entry_timeout -
				     (__u64)e->entry_timeout) * 1e9,
		.attr_valid = (__u64)e->attr_timeout,
		.attr_valid_nsec = (e->attr_timeout -
				    (__u64)e->attr_timeout) * 1e9,
	};
	struct reqcache_key key;
	struct pub *p;
	__u64 zero = 0;
	bool fresh;
	int err;

	if (!rc.skel || rc.send_all || strlen(name) >= sizeof(key.name))
		return;
	for (p = n->pubs; p; p = p->next)
		if (p->parent == parent->id && !strcmp(p->name, name))
			break;
	fresh = !p;
	if (fresh) {
		p = malloc(sizeof(*p) + strlen(name) + 1);
		if (!p)
			return;
		p->parent = parent->id;
		memcpy(p->name, name, strlen(name) + 1);
	}
	/* The counter first: the program answers only with one. */
	err = bpf_map__update_elem(rc.skel->maps.handed, &n->id, sizeof(n->id),
				   &zero, sizeof(zero), BPF_NOEXIST);
	if (err && err != -EEXIST)
		goto fail;
	fuse_attr_from_stat(&eo.attr, &e->attr);
	make_key(&key, parent->id, name);
	err = bpf_map__update_elem(rc.skel->maps.entries, &key, sizeof(key),
				   &eo, sizeof(eo), BPF_ANY);
	if (err)
		goto fail;
	if (fresh) {
		/* pinned while published */
		p->next = n->pubs;
		n->pubs = p;
	}
	publish_attr(n, &e->attr);
	return;
fail:
	no_room(err);
	if (fresh)
		free(p);
}

/*
 * Delete what the maps say about @n: its attributes and every entry that
 * names it (an entry carries the attributes too). Called before the
 * daemon replies to a request that changes @n; a request the program
 * answers afterwards goes to the daemon, which answers it after the
 * change (it serves one request at a time).
 */
static void unpublish(struct node *n)
{
	struct reqcache_key key;
	struct pub *p;

	if (!rc.skel)
		return;
	if (n->attr_pub) {
		bpf_map__delete_elem(rc.skel->maps.attrs, &n->id,
				     sizeof(n->id), 0);
		n->attr_pub = false;
	}
	while ((p = n->pubs)) {
		make_key(&key, p->parent, p->name);
		bpf_map__delete_elem(rc.skel->maps.entries, &key, sizeof(key),
				     0);
		n->pubs = p->next;
		free(p);
	}
}

/*
 * Before a change of the name @name in @parent: delete its entry and
 * what the maps say of the node it names, in the map and in SOURCE (they
 * differ after a change made in SOURCE). Returns that node, if any.
 */
static struct node *unpublish_name(struct node *parent, const char *name)
{
	struct fuse_entry_out eo;
	struct reqcache_key key;
	struct node *n, *old = NULL;

	if (!rc.skel)
		return node_of_name(parent, name);
	make_key(&key, parent->id, name);
	if (!bpf_map__lookup_elem(rc.skel->maps.entries, &key, sizeof(key),
				  &eo, sizeof(eo), 0)) {
		old = node_by_id(eo.nodeid);
		if (old)
			unpublish(old);
		bpf_map__delete_elem(rc.skel->maps.entries, &key, sizeof(key),
				     0);
	}
	n = node_of_name(parent, name);
	if (n)
		unpublish(n);
	if (old && old != n)
		node_maybe_free(old);
	return n;
}

/* LOOKUP and the entry replies */

/* The entry of @name in @parent, one more lookup of its node; -errno. */
static int do_lookup(struct node *parent, const char *name,
		     struct fuse_entry_param *e, struct node **res)
{
	struct node *n;
	int fd;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = rc.timeout;
	e->entry_timeout = rc.timeout;
	fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		close(fd);
		return -errno;
	}
	n = node_by_ino(e->attr.st_dev, e->attr.st_ino);
	if (n) {
		close(fd);
	} else {
		n = calloc(1, sizeof(*n));
		if (!n) {
			close(fd);
			return -ENOMEM;
		}
		n->id = rc.next_id++;
		n->fd = fd;
		n->dev = e->attr.st_dev;
		n->ino = e->attr.st_ino;
		n->id_next = rc.by_id[n->id % HASH_SIZE];
		rc.by_id[n->id % HASH_SIZE] = n;
		n->ino_next = rc.by_ino[ino_hash(n->dev, n->ino)];
		rc.by_ino[ino_hash(n->dev, n->ino)] = n;
		__atomic_fetch_add(&rc.nr_nodes, 1, __ATOMIC_RELAXED);
	}
	n->nlookup++;
	e->ino = n->id;
	*res = n;
	return 0;
}

static void rc_init(void *userdata, struct fuse_conn_info *conn)
{
	count(FUSE_INIT);
	/* An O_TRUNC open becomes a SETATTR: one place to unpublish. */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	/* Plain READDIR only: the program edits its records (--hide). */
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

static void rc_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *p = node(parent), *n;
	struct fuse_entry_param e;
	int err;

	count(FUSE_LOOKUP);
	if (!p) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (refuse_hidden(name)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	err = do_lookup(p, name, &e, &n);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	publish_entry(p, name, n, &e);
	if (fuse_reply_entry(req, &e))
		n->nlookup--;
}

/* Reply to a CREATE/MKNOD/MKDIR/SYMLINK/LINK with the entry of @name. */
static void reply_new_entry(fuse_req_t req, struct node *parent,
			    const char *name, int err)
{
	struct fuse_entry_param e;
	struct node *n;

	if (!err)
		err = -do_lookup(parent, name, &e, &n);
	if (err)
		fuse_reply_err(req, err);
	else if (fuse_reply_entry(req, &e))
		n->nlookup--;
}

static void forget_one(fuse_ino_t id, __u64 nlookup)
{
	struct node *n = node_by_id(id);

	if (!n)
		return;
	n->forgotten += nlookup;
	/*
	 * The kernel holds no reference: delete the entries naming @n so
	 * that it can be freed (node_maybe_free() reads the handed counter
	 * again after the deletion, see fuse_bpf_reqcache.bpf.c). A LOOKUP
	 * the program answered meanwhile keeps it; one the program then
	 * undid leaves it until unmount, as it leaves no reference to
	 * forget.
	 */
	if (n != &rc.root && n->pubs && n->nlookup + handed(n) <= n->forgotten)
		unpublish(n);
	node_maybe_free(n);
}

/* the libfuse prototype, uint64_t */
static void rc_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	count(FUSE_FORGET);
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void rc_forget_multi(fuse_req_t req, size_t nr,
			    struct fuse_forget_data *forgets)
{
	size_t i;

	count(FUSE_BATCH_FORGET);
	for (i = 0; i < nr; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* attributes */

static void rc_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node *n = node(ino);
	struct stat st;

	count(FUSE_GETATTR);
	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		fuse_reply_err(req, errno);
		return;
	}
	publish_attr(n, &st);
	fuse_reply_attr(req, &st, rc.timeout);
}

static void proc_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

static void rc_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct node *n = node(ino);
	struct timespec tv[2];
	char path[64];
	struct stat st;
	int ret = 0;

	count(FUSE_SETATTR);
	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	unpublish(n);
	proc_path(path, sizeof(path), n->fd);
	if (valid & FUSE_SET_ATTR_MODE)
		ret = fi ? fchmod(fi->fh, attr->st_mode) :
			   chmod(path, attr->st_mode);
	if (!ret && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		ret = fchownat(n->fd, "",
			       valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1,
			       valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1,
			       AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	if (!ret && (valid & FUSE_SET_ATTR_SIZE))
		ret = fi ? ftruncate(fi->fh, attr->st_size) :
			   truncate(path, attr->st_size);
	if (!ret && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		tv[0].tv_sec = 0;
		tv[0].tv_nsec = UTIME_OMIT;
		tv[1] = tv[0];
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		ret = fi ? futimens(fi->fh, tv) : utimensat(AT_FDCWD, path, tv, 0);
	}
	if (!ret)
		ret = fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	if (ret)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, rc.timeout);
}

static void rc_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct node *n = node(ino);
	char buf[PATH_MAX + 1];
	ssize_t len;

	count(FUSE_READLINK);
	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	len = readlinkat(n->fd, "", buf, sizeof(buf));
	if (len < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if (len == sizeof(buf)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

static void rc_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct node *n = node(ino);
	struct statvfs sv;

	count(FUSE_STATFS);
	if (!n)
		fuse_reply_err(req, ESTALE);
	else if (fstatvfs(n->fd, &sv))
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/* changes of a directory: each unpublishes what it makes stale first */

/*
 * The directory a request makes @name in, with what the maps hold of both
 * taken out first; NULL when the request is answered already (a stale node,
 * a hidden name).
 */
static struct node *new_name_parent(fuse_req_t req, fuse_ino_t parent,
				    const char *name, __u32 opcode)
{
	struct node *p = node(parent);

	count(opcode);
	if (!p) {
		fuse_reply_err(req, ESTALE);
		return NULL;
	}
	if (refuse_hidden(name)) {
		fuse_reply_err(req, ENOENT);
		return NULL;
	}
	unpublish_name(p, name);
	unpublish(p);
	return p;
}

static void rc_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct node *p = new_name_parent(req, parent, name, FUSE_MKNOD);
	int err = 0;

	if (!p)
		return;
	if (mknodat(p->fd, name, mode, rdev))
		err = errno;
	reply_new_entry(req, p, name, err);
}

static void rc_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct node *p = new_name_parent(req, parent, name, FUSE_MKDIR);
	int err = 0;

	if (!p)
		return;
	if (mkdirat(p->fd, name, mode))
		err = errno;
	reply_new_entry(req, p, name, err);
}

static void rc_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct node *p = new_name_parent(req, parent, name, FUSE_SYMLINK);
	int err = 0;

	if (!p)
		return;
	if (symlinkat(link, p->fd, name))
		err = errno;
	reply_new_entry(req, p, name, err);
}

static void rc_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct node *n = node(ino), *p = node(newparent);
	char path[64];
	int err = 0;

	count(FUSE_LINK);
	if (!n || !p) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (refuse_hidden(newname)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* its link count and ctime change, and the directory's */
	unpublish(n);
	unpublish_name(p, newname);
	unpublish(p);
	proc_path(path, sizeof(path), n->fd);
	if (linkat(AT_FDCWD, path, p->fd, newname, AT_SYMLINK_FOLLOW))
		err = errno;
	reply_new_entry(req, p, newname, err);
}

/* UNLINK and RMDIR (@flags AT_REMOVEDIR) of @name in @parent. */
static void rc_remove(fuse_req_t req, fuse_ino_t parent, const char *name,
		      int flags, unsigned int opcode)
{
	struct node *p = node(parent), *n;
	int err = 0;

	count(opcode);
	if (!p) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (refuse_hidden(name)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	n = unpublish_name(p, name);
	unpublish(p);
	if (unlinkat(p->fd, name, flags))
		err = errno;
	fuse_reply_err(req, err);
	if (n)
		node_maybe_free(n);
}

static void rc_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	rc_remove(req, parent, name, 0, FUSE_UNLINK);
}

static void rc_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	rc_remove(req, parent, name, AT_REMOVEDIR, FUSE_RMDIR);
}

static void rc_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct node *p = node(parent), *np = node(newparent), *n, *target;
	int err = 0;

	count(flags ? FUSE_RENAME2 : FUSE_RENAME);
	if (!p || !np) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/* (both counted) */
	if (refuse_hidden(name) | refuse_hidden(newname)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* both names, both nodes (a directory's ".." and ctime), both dirs */
	n = unpublish_name(p, name);
	target = unpublish_name(np, newname);
	unpublish(p);
	unpublish(np);
	if (renameat2(p->fd, name, np->fd, newname, flags))
		err = errno;
	fuse_reply_err(req, err);
	if (n)
		node_maybe_free(n);
	if (target && target != n)
		node_maybe_free(target);
}

/* open files */

static void rc_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = node(ino);
	char path[64];
	int fd;

	count(FUSE_OPEN);
	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/* not expected: FUSE_CAP_ATOMIC_O_TRUNC is off */
	if (fi->flags & O_TRUNC)
		unpublish(n);
	proc_path(path, sizeof(path), n->fd);
	fd = open(path, (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = fd;
	if (fuse_reply_open(req, fi))
		close(fd);
}

static void rc_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct node *p = new_name_parent(req, parent, name,
						FUSE_CREATE), *n;
	struct fuse_entry_param e;
	int fd, err;

	if (!p)
		return;
	/* a symlink here is a race with SOURCE: fail it with ELOOP */
	fd = openat(p->fd, name, fi->flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    mode);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	err = do_lookup(p, name, &e, &n);
	if (err) {
		close(fd);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = fd;
	if (fuse_reply_create(req, &e, fi)) {
		n->nlookup--;
		close(fd);
	}
}

static void rc_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	count(FUSE_READ);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void rc_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct node *n = node(ino);
	ssize_t ret;

	count(FUSE_WRITE);
	/* size, mtime, ctime, blocks */
	if (n)
		unpublish(n);
	ret = pwrite(fi->fh, data, size, off);
	if (ret < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, ret);
}

static void rc_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd;

	count(FUSE_FLUSH);
	/* as close(2) of the caller's file would */
	fd = dup(fi->fh);
	fuse_reply_err(req, fd < 0 || close(fd) ? errno : 0);
}

static void rc_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	count(FUSE_FSYNC);
	if (datasync ? fdatasync(fi->fh) : fsync(fi->fh))
		fuse_reply_err(req, errno);
	else
		fuse_reply_err(req, 0);
}

static void rc_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	count(FUSE_RELEASE);
	close(fi->fh);
	fuse_reply_err(req, 0);
}

/* directories */

static void rc_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node *n = node(ino);
	struct dirp *d;
	int fd, err;

	count(FUSE_OPENDIR);
	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d->dp = fd < 0 ? NULL : fdopendir(fd);
	if (!d->dp) {
		err = errno;
		if (fd >= 0)
			close(fd);
		free(d);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi)) {
		closedir(d->dp);
		free(d);
	}
}

static void rc_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	struct dirp *d = (struct dirp *)(uintptr_t)fi->fh;
	size_t used = 0, len;
	bool shown = false;
	char *buf;

	count(FUSE_READDIR);
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}
	for (;;) {
		struct stat st = {};

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				if (errno && !used) {
					free(buf);
					fuse_reply_err(req, errno);
					return;
				}
				break;
			}
		}
		if (hidden(d->entry->d_name) && rc.no_bpf) {
			d->offset = d->entry->d_off;
			d->entry = NULL;
			continue;
		}
		st.st_ino = d->entry->d_ino;
		st.st_mode = DTTOIF(d->entry->d_type);
		len = fuse_add_direntry(req, buf + used, size - used,
					d->entry->d_name, &st,
					d->entry->d_off);
		if (len > size - used && used && !shown) {
			/*
			 * A full reply of hidden names only, which the
			 * program would empty: an empty reply ends the
			 * listing. Leave them out here and go on.
			 */
			used = 0;
			continue;
		}
		if (len > size - used)
			break;
		used += len;
		shown |= !hidden(d->entry->d_name);
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void rc_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct dirp *d = (struct dirp *)(uintptr_t)fi->fh;

	count(FUSE_RELEASEDIR);
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops rc_ops = {
	.init = rc_init,
	.lookup = rc_lookup,
	.forget = rc_forget,
	.forget_multi = rc_forget_multi,
	.getattr = rc_getattr,
	.setattr = rc_setattr,
	.readlink = rc_readlink,
	.mknod = rc_mknod,
	.mkdir = rc_mkdir,
	.symlink = rc_symlink,
	.link = rc_link,
	.unlink = rc_unlink,
	.rmdir = rc_rmdir,
	.rename = rc_rename,
	.open = rc_open,
	.create = rc_create,
	.read = rc_read,
	.write = rc_write,
	.flush = rc_flush,
	.fsync = rc_fsync,
	.release = rc_release,
	.opendir = rc_opendir,
	.readdir = rc_readdir,
	.releasedir = rc_releasedir,
	.statfs = rc_statfs,
};

/* the status file */

static void write_status(void)
{
	char tmp[PATH_MAX];
	size_t i;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", rc.status);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		return;
	}
	for (i = 0; i < ARRAY_SIZE(opcodes); i++)
		fprintf(f, "%s %llu\n", opcodes[i].name,
			(unsigned long long)__atomic_load_n(&rc.counts[opcodes[i].opcode],
							    __ATOMIC_RELAXED));
	fprintf(f, "nodes %llu\n", (unsigned long long)
		__atomic_load_n(&rc.nr_nodes, __ATOMIC_RELAXED));
	if (rc.hide)
		fprintf(f, "hidden_received %llu\n", (unsigned long long)
			__atomic_load_n(&rc.hidden_received, __ATOMIC_RELAXED));
	if (rc.skel) {
		struct fuse_bpf_reqcache__bss *bss = rc.skel->bss;

		/* the program's counters, in its mmap()ed .bss */
		fprintf(f, "bpf:served_getattr %llu\n", (unsigned long long)
			__atomic_load_n(&bss->served_getattr, __ATOMIC_RELAXED));
		fprintf(f, "bpf:served_lookup %llu\n", (unsigned long long)
			__atomic_load_n(&bss->served_lookup, __ATOMIC_RELAXED));
		fprintf(f, "bpf:sent %llu\n", (unsigned long long)
			__atomic_load_n(&bss->sent, __ATOMIC_RELAXED));
		if (rc.hide) {
			fprintf(f, "bpf:hidden_lookups %llu\n", (unsigned long long)
				__atomic_load_n(&bss->hidden_lookups, __ATOMIC_RELAXED));
			fprintf(f, "bpf:hidden_refused %llu\n", (unsigned long long)
				__atomic_load_n(&bss->hidden_refused, __ATOMIC_RELAXED));
			fprintf(f, "bpf:hidden_dirents %llu\n", (unsigned long long)
				__atomic_load_n(&bss->hidden_dirents, __ATOMIC_RELAXED));
		}
	}
	if (fclose(f) || rename(tmp, rc.status))
		fprintf(stderr, PROG ": %s: %s\n", rc.status, strerror(errno));
}

/* Writes the status file on each SIGUSR1, which only it takes. */
static void *status_thread(void *arg)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;)
		if (!sigwait(&set, &sig))
			write_status();
	return NULL;
}

static int start_status_thread(void)
{
	sigset_t all, usr1, old;
	pthread_t t;
	int err;

	/* The loop keeps SIGINT/SIGTERM/SIGHUP; the thread takes SIGUSR1. */
	sigfillset(&all);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&t, NULL, status_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (err) {
		fprintf(stderr, PROG ": status thread: %s\n", strerror(err));
		return -1;
	}
	pthread_detach(t);
	return 0;
}

/* BPF */

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Is this kernel's fuse built with request programs? */
static bool have_request_ops(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct btf *btf = vmlinux;
	bool ok;

	if (!vmlinux)
		return false;
	if (btf__find_by_name_kind(btf, "fuse_bpf_request_ops",
				   BTF_KIND_STRUCT) <= 0)
		btf = btf__load_module_btf("fuse", vmlinux);
	ok = btf && btf__find_by_name_kind(btf, "fuse_bpf_request_ops",
					   BTF_KIND_STRUCT) > 0;
	if (btf != vmlinux)
		btf__free(btf);
	btf__free(vmlinux);
	return ok;
}

/*
 * Load the program and attach it to the connection of the session fd:
 * the map names it by a descriptor of the attaching process, which the
 * kernel takes when libbpf loads the map and looks up at the attach.
 */
static int bpf_start(int fuse_fd)
{
	struct fuse_bpf_reqcache *skel;
	int err;

	libbpf_set_print(libbpf_print);
	skel = fuse_bpf_reqcache__open();
	if (!skel) {
		fprintf(stderr, PROG ": opening the BPF program: %s\n",
			strerror(errno));
		return -1;
	}
	rc.skel = skel;
	skel->struct_ops.reqcache->fuse_fd = fuse_fd;
	skel->rodata->send_all = rc.send_all;
	if (rc.hide) {
		memcpy((char *)skel->rodata->hide_prefix, rc.hide,
		       strlen(rc.hide));
		skel->rodata->hide_len = strlen(rc.hide);
	}
	err = fuse_bpf_reqcache__load(skel);
	if (err) {
		fprintf(stderr, PROG ": loading the BPF program: %s\n",
			strerror(-err));
		return -1;
	}
	rc.link = bpf_map__attach_struct_ops(skel->maps.reqcache);
	if (!rc.link) {
		fprintf(stderr, PROG ": attaching the BPF program: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* options */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options] SOURCE MOUNTPOINT\n"
		"Mirror SOURCE at MOUNTPOINT as a classic FUSE file system whose\n"
		"LOOKUP and GETATTR a fuse-bpf request program answers from maps.\n"
		"  --timeout=SECONDS  entry and attribute timeouts (default 0)\n"
		"  --hide=PREFIX      names starting with PREFIX do not exist\n"
		"                     (1 to %d characters, no '/')\n"
		"  --no-bpf           no request program: every request reaches\n"
		"                     the daemon\n"
		"  --send-all         a request program that answers nothing (what\n"
		"                     the program's call costs a request)\n"
		"  --status=FILE      write the request counters to FILE on SIGUSR1\n"
		"  -h, --help         this text\n"
		"Must run as root. Exits when unmounted or on SIGTERM/SIGINT.\n"
		"Changes made directly in SOURCE are not seen through the mount\n"
		"while the program has the file in its maps (until a change\n"
		"through the mount); --no-bpf sees them at once.\n",
		REQCACHE_HIDE_MAX);
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
		{ "timeout", required_argument, NULL, 't' },
		{ "hide", required_argument, NULL, 'H' },
		{ "no-bpf", no_argument, NULL, 'n' },
		{ "send-all", no_argument, NULL, 'a' },
		{ "status", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			rc.timeout = strtod(optarg, &end);
			if (!*optarg || *end || errno || !(rc.timeout >= 0) ||
			    rc.timeout > UINT32_MAX)
				return bad_option("--timeout=%s: seconds, 0 or more",
						  optarg);
			break;
		case 'H':
			if (rc.hide)
				return bad_option("--hide given twice");
			if (!*optarg || strlen(optarg) > REQCACHE_HIDE_MAX ||
			    strchr(optarg, '/'))
				return bad_option("--hide=%s: 1 to %d characters, no '/'",
						  optarg, REQCACHE_HIDE_MAX);
			rc.hide = optarg;
			break;
		case 'n':
			rc.no_bpf = true;
			break;
		case 'a':
			rc.send_all = true;
			break;
		case 's':
			if (!*optarg)
				return bad_option("--status needs a file");
			rc.status = optarg;
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
	if (rc.hide && rc.send_all)
		return bad_option("--send-all answers nothing: not with --hide");
	rc.source = argv[optind];
	rc.mountpoint = argv[optind + 1];
	return 0;
}

/*
 * Every node holds an O_PATH fd: raise the soft limit on open files to
 * the hard one, as libfuse's passthrough_ll does, or a few thousand
 * files looked up fail with EMFILE.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fprintf(stderr, PROG ": RLIMIT_NOFILE: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	bool mounted = false;
	struct stat st;
	int ret;

	ret = parse_args(argc, argv);
	if (ret)
		return ret;
	if (geteuid()) {
		fprintf(stderr,
			PROG ": must run as root (request programs need CAP_SYS_ADMIN)\n");
		return 1;
	}
	if (!rc.no_bpf && !have_request_ops()) {
		fprintf(stderr,
			PROG ": this kernel has no fuse-bpf request programs (use --no-bpf)\n");
		return 1;
	}
	raise_nofile();
	rc.root.fd = open(rc.source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rc.root.fd < 0 || fstat(rc.root.fd, &st)) {
		fprintf(stderr, PROG ": %s: %s\n", rc.source, strerror(errno));
		return 1;
	}
	rc.root.dev = st.st_dev;
	rc.root.ino = st.st_ino;

	ret = 1;
	/*
	 * Before the mount: a SIGUSR1 sent as soon as the mount shows must
	 * find its thread, not kill the daemon.
	 */
	if (rc.status && start_status_thread())
		goto out;
	if (fuse_opt_add_arg(&args, PROG) ||
	    fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, "fsname=" PROG ",subtype=" PROG))
		goto out;
	rc.se = fuse_session_new(&args, &rc_ops, sizeof(rc_ops), NULL);
	fuse_opt_free_args(&args);
	if (!rc.se)
		goto out;
	if (fuse_set_signal_handlers(rc.se))
		goto out;
	if (fuse_session_mount(rc.se, rc.mountpoint))
		goto out;
	mounted = true;
	/* Nothing is answered before the loop: INIT waits for it. */
	if (!rc.no_bpf && bpf_start(fuse_session_fd(rc.se)))
		goto out;

	/* 0, or the number of the signal that ended it */
	ret = fuse_session_loop(rc.se) < 0 ? 1 : 0;
out:
	/* Detach first: nothing answers for the connection after it. */
	bpf_link__destroy(rc.link);
	if (rc.se) {
		fuse_remove_signal_handlers(rc.se);
		if (mounted)
			fuse_session_unmount(rc.se);
		fuse_session_destroy(rc.se);
	}
	fuse_bpf_reqcache__destroy(rc.skel);
	close(rc.root.fd);
	return ret;
}
