// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_bpf_union: the union of the top-level entries of two directories,
 * UPPER and LOWER, on a fuse-bpf mount, with the choice between them made
 * by a request program (libfuse 3, low-level API, as in Debian's libfuse3
 * 3.14).
 *
 *   fuse_bpf_union [--status=FILE] UPPER LOWER MOUNTPOINT
 *
 * The mount's root lists every name UPPER or LOWER has at its top level.
 * A name both have is UPPER's: its file, or its directory with everything
 * below it (directories are not merged below the top level). The daemon
 * serves the root itself (GETATTR, OPENDIR, READDIR, RELEASEDIR, STATFS).
 * At start it registers, for each top-level name, a backing id for its
 * entry in UPPER and one for its entry in LOWER, where there is one
 * (files, directories and symlinks), gives the name a node id and
 * publishes {node id, upper id, lower id} in the program's picks map. The
 * program (fuse_bpf_union.bpf.c) answers a LOOKUP of a published name in
 * the kernel with the entry and a struct fuse_bpf_entry_out naming the
 * upper backing if there is one, else the lower one. The daemon never
 * sees those LOOKUPs, and the kernel serves every later operation on the
 * node, and below it, from the chosen backing: stat, open, read, write,
 * readdir, create... The status file shows the daemon's counters to prove
 * it.
 *
 * What it leaves out, to stay small:
 *   - The top level is read at start: names added to or removed from
 *     UPPER or LOWER later are not seen there (below the top level, the
 *     kernel reads the backing directories as they are). Names cannot be
 *     created, removed or renamed at the top level through the mount
 *     (EROFS).
 *   - No copy-up: LOWER is never written. The daemon opens it through a
 *     private read-only mount of it, so that a write to a name only LOWER
 *     has, or below a directory only LOWER has, fails with EROFS. Writes
 *     to UPPER's entries land in UPPER.
 *   - No whiteouts: a name LOWER has cannot be hidden by UPPER but by
 *     UPPER having the name too.
 *   - Top-level devices, fifos and sockets are not shown (fuse-bpf backs
 *     files, directories and symlinks).
 *
 *   --status=FILE  write the request counters to FILE on SIGUSR1
 *
 * See "Choosing a backing in BPF: a union of two trees" in
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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <linux/types.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fuse_attr.h"
#include "fuse_bpf_union.h"
#include "fuse_bpf_union.skel.h"

#define PROG		"fuse_bpf_union"
#define MAX_OPCODE	64
#define FIRST_NODEID	(FUSE_ROOT_ID + 1)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum side { UPPER, LOWER, SIDES };

/*
 * A top-level name: what each side has under it. Entries are made at
 * start and live as long as the mount (see "The FORGET rule" below).
 */
struct entry {
	char *name;
	__u64 nodeid;		/* FIRST_NODEID + its index */
	__u32 id[SIDES];	/* backing ids, 0: the side has no such name */
	int fd[SIDES];		/* the chosen side's registered file, or -1 */
	ino_t ino[SIDES];
	mode_t type[SIDES];
	bool published;		/* in the picks map */
	__u64 nlookup;		/* the daemon's own replies, less FORGETs */
};

/* The root's listing, built at OPENDIR and read piece by piece. */
struct buf {
	char *p;
	size_t size;
};

static struct {
	const char *dir[SIDES];
	const char *mountpoint;
	const char *status;
	int dir_fd[SIDES];	/* LOWER's on a private read-only mount */
	int fuse_fd;
	struct fuse_session *se;
	bool se_has_fd;		/* libfuse closes fuse_fd */

	struct entry *entries;
	size_t nr_entries;

	struct fuse_bpf_union *skel;
	bool loaded;		/* its .bss is mapped */
	struct bpf_link *link;

	/* written by the loop, read by the status thread */
	__u64 counts[MAX_OPCODE];
	__u64 published;	/* names in the picks map */
	__u64 published_received;	/* their LOOKUPs that reached us */
	__u64 backed_requests;	/* on published nodes, FORGET aside */
	__u64 forgotten_beyond;	/* FORGET counts above our own replies */
} u = {
	.dir_fd = { -1, -1 },
	.fuse_fd = -1,
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

static void add(__u64 *counter, __u64 v)
{
	__atomic_fetch_add(counter, v, __ATOMIC_RELAXED);
}

static void count(__u32 opcode)
{
	if (opcode < MAX_OPCODE)
		add(&u.counts[opcode], 1);
}

/*
 * Count a request on node @ino. The kernel serves the published nodes
 * itself; a request for one of them here would be a bug.
 */
static void count_on(__u32 opcode, fuse_ino_t ino)
{
	count(opcode);
	if (ino != FUSE_ROOT_ID)
		add(&u.backed_requests, 1);
}

/* entries */

static struct entry *entry_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < u.nr_entries; i++)
		if (!strcmp(u.entries[i].name, name))
			return &u.entries[i];
	return NULL;
}

static struct entry *entry_by_id(fuse_ino_t id)
{
	if (id < FIRST_NODEID || id - FIRST_NODEID >= u.nr_entries)
		return NULL;
	return &u.entries[id - FIRST_NODEID];
}

/* The same choice as the program's: UPPER wins on a name both have. */
static enum side chosen(const struct entry *e)
{
	return e->id[UPPER] ? UPPER : LOWER;
}

/*
 * Open @name of side @s the way a backing of its type is opened, and
 * register it. Nothing is opened for writing: the kernel opens the
 * backing's path again for each open of the node, with the open's flags.
 */
static int side_open(struct entry *e, enum side s, const char *name)
{
	struct fuse_backing_map map = {};
	struct stat st;
	int fd, id, flags;
	mode_t type;

	if (fstatat(u.dir_fd[s], name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		flags = O_RDONLY | O_DIRECTORY;
		break;
	case S_IFREG:
		flags = O_RDONLY;
		break;
	case S_IFLNK:
		flags = O_PATH;
		break;
	default:
		return -EOPNOTSUPP;
	}
	/*
	 * Non-blocking, and the same type as the fstatat() said: the mount
	 * is up and INIT waits for the scan, so a FIFO renamed over the
	 * file meanwhile must not hang the daemon.
	 */
	type = st.st_mode & S_IFMT;
	fd = openat(u.dir_fd[s], name,
		    flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		id = -errno;
		close(fd);
		return id;
	}
	if ((st.st_mode & S_IFMT) != type) {
		close(fd);
		return -ESTALE;
	}
	map.fd = fd;
	id = ioctl(u.fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	if (id <= 0) {
		id = id ? -errno : -EIO;
		close(fd);
		return id;
	}
	/*
	 * Kept open for the daemon's own replies (fstat), on the side the
	 * replies name: UPPER's, scanned first, wins on a name both have.
	 */
	if (s == LOWER && e->id[UPPER]) {
		close(fd);
		fd = -1;
	}
	e->fd[s] = fd;
	e->id[s] = id;
	e->ino[s] = st.st_ino;
	e->type[s] = st.st_mode & S_IFMT;
	return 0;
}

/* Add side @s of every top-level name to the entries. */
static int scan(enum side s)
{
	struct entry *e, *entries;
	struct dirent *de;
	DIR *dir;
	int fd, err;

	fd = openat(u.dir_fd[s], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		e = entry_by_name(de->d_name);
		if (!e) {
			entries = realloc(u.entries,
					  (u.nr_entries + 1) * sizeof(*e));
			if (!entries) {
				closedir(dir);
				return -ENOMEM;
			}
			u.entries = entries;
			e = &u.entries[u.nr_entries];
			memset(e, 0, sizeof(*e));
			e->fd[UPPER] = -1;
			e->fd[LOWER] = -1;
			e->name = strdup(de->d_name);
			if (!e->name) {
				closedir(dir);
				return -ENOMEM;
			}
			e->nodeid = FIRST_NODEID + u.nr_entries;
			u.nr_entries++;
		}
		err = side_open(e, s, de->d_name);
		if (err)
			fprintf(stderr, PROG ": %s/%s: %s: not shown\n",
				u.dir[s], de->d_name, strerror(-err));
	}
	closedir(dir);
	return 0;
}

/*
 * Drop the names neither side could register (their node ids go unused),
 * and publish the others: (root, name) -> {node id, upper id, lower id}.
 * Names too long for the key are left to the daemon.
 */
static void publish(void)
{
	struct union_key key;
	struct union_pick pick;
	struct entry *e;
	size_t i;
	int err;

	for (i = 0; i < u.nr_entries; i++) {
		e = &u.entries[i];
		if ((!e->id[UPPER] && !e->id[LOWER]) ||
		    strlen(e->name) >= sizeof(key.name))
			continue;
		memset(&key, 0, sizeof(key));
		key.parent = FUSE_ROOT_ID;
		memcpy(key.name, e->name, strlen(e->name));
		pick.nodeid = e->nodeid;
		pick.upper = e->id[UPPER];
		pick.lower = e->id[LOWER];
		err = bpf_map__update_elem(u.skel->maps.picks, &key, sizeof(key),
					   &pick, sizeof(pick), BPF_NOEXIST);
		if (err) {
			fprintf(stderr, PROG ": publishing %s: %s: the daemon answers it\n",
				e->name, strerror(-err));
			continue;
		}
		e->published = true;
		u.published++;
	}
}

/* requests */

static void u_init(void *userdata, struct fuse_conn_info *conn)
{
	count(FUSE_INIT);
	/* READDIRPLUS replies carry no fuse-bpf extension: list names only. */
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

/*
 * A LOOKUP the program did not answer: a name not published (ENOENT if
 * the union has no such name; the answer the program would give if the
 * name was too long for its key).
 */
static void u_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_bpf_entry_out ext = {
		.entry_type = FUSE_BPF_ENTRY_BACKING,
	};
	struct fuse_entry_out eo = {
		.generation = 1,
		.entry_valid = UNION_ENTRY_TIMEOUT,
		.attr_valid = UNION_ENTRY_TIMEOUT,
	};
	struct iovec iov[2] = {
		{ &eo, sizeof(eo) },
		{ &ext, sizeof(ext) },
	};
	struct entry *e;
	struct stat st;
	enum side s;

	count_on(FUSE_LOOKUP, parent);
	e = parent == FUSE_ROOT_ID ? entry_by_name(name) : NULL;
	if (!e || (!e->id[UPPER] && !e->id[LOWER])) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (e->published)
		add(&u.published_received, 1);
	s = chosen(e);
	if (fstat(e->fd[s], &st)) {
		fuse_reply_err(req, errno);
		return;
	}
	eo.nodeid = e->nodeid;
	fuse_attr_from_stat(&eo.attr, &st);
	ext.backing_id = e->id[s];
	if (!fuse_reply_iov(req, iov, 2))
		e->nlookup++;
}

/*
 * The FORGET rule. A LOOKUP the program answers gives the kernel a
 * reference to the node that the daemon never saw, and the kernel's
 * FORGET returns every reference it counted: a FORGET may return more
 * than the daemon's own replies gave. So the daemon
 *   - clamps its own count at zero (what is above it, the program's
 *     answers, shows as forgotten_beyond_replies in the status file);
 *   - never frees a published node nor gives its node id to another
 *     name, nor closes the backing ids the map names: the program may
 *     hand the node out again at any moment, whatever FORGET said.
 * The union's top level is read once at start, so the entries, their
 * node ids and backing ids simply live as long as the mount. A daemon
 * that unpublishes names while mounted must also count the program's
 * answers (fuse_bpf_reqcache's handed map) before it frees a node.
 */
static void forget_one(fuse_ino_t id, __u64 nlookup)
{
	struct entry *e = entry_by_id(id);

	if (!e)
		return;
	if (nlookup > e->nlookup) {
		add(&u.forgotten_beyond, nlookup - e->nlookup);
		e->nlookup = 0;
	} else {
		e->nlookup -= nlookup;
	}
}

/* the libfuse prototype, uint64_t */
static void u_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	count(FUSE_FORGET);
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void u_forget_multi(fuse_req_t req, size_t nr,
			   struct fuse_forget_data *forgets)
{
	size_t i;

	count(FUSE_BATCH_FORGET);
	for (i = 0; i < nr; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void u_getattr(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi)
{
	struct stat st;

	count_on(FUSE_GETATTR, ino);
	if (ino != FUSE_ROOT_ID) {
		/* the kernel's, from the backing */
		fuse_reply_err(req, EIO);
		return;
	}
	/* The root has UPPER's attributes. */
	if (fstat(u.dir_fd[UPPER], &st)) {
		fuse_reply_err(req, errno);
		return;
	}
	st.st_ino = FUSE_ROOT_ID;
	fuse_reply_attr(req, &st, UNION_ENTRY_TIMEOUT);
}

static void u_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	count_on(FUSE_STATFS, ino);
	if (fstatvfs(u.dir_fd[UPPER], &sv))
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

/* The root's listing: every name of the union, as the chosen side has it. */
static void u_opendir(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi)
{
	struct entry *e;
	struct buf *b;
	enum side s;
	size_t i;
	int err;

	count_on(FUSE_OPENDIR, ino);
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, EIO);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	err = buf_add_dirent(req, b, ".", FUSE_ROOT_ID, S_IFDIR);
	if (!err)
		err = buf_add_dirent(req, b, "..", FUSE_ROOT_ID, S_IFDIR);
	for (i = 0; !err && i < u.nr_entries; i++) {
		e = &u.entries[i];
		if (!e->id[UPPER] && !e->id[LOWER])
			continue;
		s = chosen(e);
		err = buf_add_dirent(req, b, e->name, e->ino[s], e->type[s]);
	}
	if (err) {
		fuse_reply_err(req, -err);
		goto free;
	}
	fi->fh = (uintptr_t)b;
	if (!fuse_reply_open(req, fi))
		return;
free:
	free(b->p);
	free(b);
}

static void u_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct buf *b = (struct buf *)(uintptr_t)fi->fh;

	count_on(FUSE_READDIR, ino);
	if (off < 0 || (size_t)off >= b->size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, b->p + off,
			       b->size - off < size ? b->size - off : size);
}

static void u_releasedir(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct buf *b = (struct buf *)(uintptr_t)fi->fh;

	count_on(FUSE_RELEASEDIR, ino);
	free(b->p);
	free(b);
	fuse_reply_err(req, 0);
}

/* Only the root reaches the daemon, and it opens no files. */
static void u_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	count_on(FUSE_OPEN, ino);
	fuse_reply_err(req, EIO);
}

static void u_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	count_on(FUSE_READ, ino);
	fuse_reply_err(req, EIO);
}

/* The top level is read at start: it does not change through the mount. */
static void u_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		      int to_set, struct fuse_file_info *fi)
{
	count_on(FUSE_SETATTR, ino);
	fuse_reply_err(req, EROFS);
}

static void u_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, dev_t rdev)
{
	count_on(FUSE_MKNOD, parent);
	fuse_reply_err(req, EROFS);
}

static void u_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode)
{
	count_on(FUSE_MKDIR, parent);
	fuse_reply_err(req, EROFS);
}

static void u_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, struct fuse_file_info *fi)
{
	count_on(FUSE_CREATE, parent);
	fuse_reply_err(req, EROFS);
}

static void u_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		      const char *name)
{
	count_on(FUSE_SYMLINK, parent);
	fuse_reply_err(req, EROFS);
}

static void u_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		   const char *newname)
{
	count_on(FUSE_LINK, newparent);
	fuse_reply_err(req, EROFS);
}

static void u_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count_on(FUSE_UNLINK, parent);
	fuse_reply_err(req, EROFS);
}

static void u_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count_on(FUSE_RMDIR, parent);
	fuse_reply_err(req, EROFS);
}

static void u_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		     fuse_ino_t newparent, const char *newname,
		     unsigned int flags)
{
	count_on(FUSE_RENAME, parent);
	fuse_reply_err(req, EROFS);
}

static const struct fuse_lowlevel_ops union_ops = {
	.init = u_init,
	.lookup = u_lookup,
	.forget = u_forget,
	.forget_multi = u_forget_multi,
	.getattr = u_getattr,
	.setattr = u_setattr,
	.statfs = u_statfs,
	.opendir = u_opendir,
	.readdir = u_readdir,
	.releasedir = u_releasedir,
	.open = u_open,
	.read = u_read,
	.mknod = u_mknod,
	.mkdir = u_mkdir,
	.create = u_create,
	.symlink = u_symlink,
	.link = u_link,
	.unlink = u_unlink,
	.rmdir = u_rmdir,
	.rename = u_rename,
};

/* the status file */

static __u64 load(const __u64 *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static void write_status(void)
{
	struct fuse_bpf_union__bss *bss;
	char tmp[PATH_MAX];
	size_t i;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", u.status);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		return;
	}
	for (i = 0; i < ARRAY_SIZE(opcodes); i++)
		fprintf(f, "%s %llu\n", opcodes[i].name,
			(unsigned long long)load(&u.counts[opcodes[i].opcode]));
	fprintf(f, "nodes %llu\n", (unsigned long long)u.nr_entries);
	fprintf(f, "published %llu\n", (unsigned long long)load(&u.published));
	fprintf(f, "published_received %llu\n",
		(unsigned long long)load(&u.published_received));
	fprintf(f, "backed_node_requests %llu\n",
		(unsigned long long)load(&u.backed_requests));
	fprintf(f, "forgotten_beyond_replies %llu\n",
		(unsigned long long)load(&u.forgotten_beyond));
	if (!__atomic_load_n(&u.loaded, __ATOMIC_ACQUIRE))
		goto close;
	/* the program's counters, in its mmap()ed .bss */
	bss = u.skel->bss;
	fprintf(f, "bpf:served_lookup %llu\n",
		(unsigned long long)load(&bss->served_lookup));
	fprintf(f, "bpf:picked_upper %llu\n",
		(unsigned long long)load(&bss->picked_upper));
	fprintf(f, "bpf:picked_lower %llu\n",
		(unsigned long long)load(&bss->picked_lower));
	fprintf(f, "bpf:sent_lookup %llu\n",
		(unsigned long long)load(&bss->sent_lookup));
	fprintf(f, "bpf:lookup_errors %llu\n",
		(unsigned long long)load(&bss->lookup_errors));
close:
	if (fclose(f) || rename(tmp, u.status))
		fprintf(stderr, PROG ": %s: %s\n", u.status, strerror(errno));
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
 * Load the program before the mount (one that does not load leaves no
 * mount behind). The map names the connection by u.fuse_fd, which the
 * kernel reads now and looks up when the map is attached, after the
 * mount.
 */
static int bpf_load(void)
{
	int err;

	libbpf_set_print(libbpf_print);
	u.skel = fuse_bpf_union__open();
	if (!u.skel) {
		fprintf(stderr, PROG ": opening the BPF program: %s\n",
			strerror(errno));
		return -1;
	}
	u.skel->struct_ops.union_ops->fuse_fd = u.fuse_fd;
	err = fuse_bpf_union__load(u.skel);
	if (err) {
		fprintf(stderr, PROG ": loading the BPF program: %s\n",
			strerror(-err));
		return -1;
	}
	__atomic_store_n(&u.loaded, true, __ATOMIC_RELEASE);
	return 0;
}

/* mounting */

/*
 * LOWER through a private read-only mount of it, which no one else sees:
 * the kernel opens a backing's path again for each open of a node (and
 * looks names up beneath a backing directory), on the mount the path is
 * on, so nothing of LOWER can be written through the union.
 */
static int open_lower(void)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	int tree;

	tree = open_tree(AT_FDCWD, u.dir[LOWER], OPEN_TREE_CLONE |
			 OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return -1;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			  sizeof(attr))) {
		close(tree);
		return -1;
	}
	/* the mount lives as long as a file is open on it */
	u.dir_fd[LOWER] = openat(tree, ".", O_RDONLY | O_DIRECTORY |
				 O_CLOEXEC);
	close(tree);
	return u.dir_fd[LOWER] < 0 ? -1 : 0;
}

static int mount_fuse(void)
{
	char opts[256];

	u.fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (u.fuse_fd < 0) {
		fprintf(stderr, PROG ": /dev/fuse: %s\n", strerror(errno));
		return -1;
	}
	if (bpf_load())
		return -1;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=%u,group_id=%u,fuse_bpf,default_permissions",
		 u.fuse_fd, getuid(), getgid());
	if (mount(PROG, u.mountpoint, "fuse." PROG, MS_NOSUID | MS_NODEV,
		  opts)) {
		if (errno == EINVAL)
			fprintf(stderr, PROG ": this kernel has no fuse-bpf (%s)\n",
				"the fuse_bpf mount option is refused");
		else
			fprintf(stderr, PROG ": mounting %s: %s\n",
				u.mountpoint, strerror(errno));
		return -1;
	}
	return 0;
}

/* options */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options] UPPER LOWER MOUNTPOINT\n"
		"Show the union of the top-level entries of UPPER and LOWER at\n"
		"MOUNTPOINT (UPPER's on a name both have); a fuse-bpf request\n"
		"program chooses, and the kernel serves each entry from it.\n"
		"LOWER is not written through the mount (EROFS); the top level\n"
		"is read at start and does not change.\n"
		"  --status=FILE  write the request counters to FILE on SIGUSR1\n"
		"  -h, --help     this text\n"
		"Must run as root. Exits when unmounted or on SIGTERM/SIGINT.\n");
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
		{ "status", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg)
				return bad_option("--status needs a file");
			u.status = optarg;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 3)
		return bad_option("expected UPPER, LOWER and MOUNTPOINT");
	u.dir[UPPER] = argv[optind];
	u.dir[LOWER] = argv[optind + 1];
	u.mountpoint = argv[optind + 2];
	return 0;
}

static void cleanup(void)
{
	size_t i;

	/* Detach first: nothing answers for the connection after it. */
	bpf_link__destroy(u.link);
	if (u.se) {
		fuse_remove_signal_handlers(u.se);
		fuse_session_unmount(u.se);
		fuse_session_destroy(u.se);
		if (u.se_has_fd)
			u.fuse_fd = -1;
	}
	/* the connection is gone, and its backing ids with it */
	for (i = 0; i < u.nr_entries; i++) {
		if (u.entries[i].fd[UPPER] >= 0)
			close(u.entries[i].fd[UPPER]);
		if (u.entries[i].fd[LOWER] >= 0)
			close(u.entries[i].fd[LOWER]);
		free(u.entries[i].name);
	}
	free(u.entries);
	if (u.fuse_fd >= 0)
		close(u.fuse_fd);
	fuse_bpf_union__destroy(u.skel);
	for (i = 0; i < SIDES; i++)
		if (u.dir_fd[i] >= 0)
			close(u.dir_fd[i]);
}

/*
 * The daemon keeps a file open for every top-level name: raise the soft
 * limit on open files to the hard one, as libfuse's passthrough_ll does,
 * or the names past it are not shown.
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
	char devfd[32];
	int ret, err;

	ret = parse_args(argc, argv);
	if (ret)
		return ret;
	if (geteuid()) {
		fprintf(stderr,
			PROG ": must run as root (mount, fuse-bpf ioctls and request programs)\n");
		return 1;
	}
	if (!have_request_ops()) {
		fprintf(stderr, PROG ": this kernel has no fuse-bpf request programs\n");
		return 1;
	}
	raise_nofile();
	ret = 1;
	u.dir_fd[UPPER] = open(u.dir[UPPER], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.dir_fd[UPPER] < 0) {
		fprintf(stderr, PROG ": %s: %s\n", u.dir[UPPER], strerror(errno));
		goto out;
	}
	if (open_lower()) {
		fprintf(stderr, PROG ": %s (read-only): %s\n", u.dir[LOWER],
			strerror(errno));
		goto out;
	}
	/*
	 * Before the mount: a SIGUSR1 sent as soon as the mount shows must
	 * find its thread, not kill the daemon.
	 */
	if (u.status && start_status_thread())
		goto out;
	if (mount_fuse())
		goto out;
	mounted = true;

	/* Backing ids need the connection, which the mount made. */
	err = scan(UPPER);
	if (!err)
		err = scan(LOWER);
	if (err) {
		fprintf(stderr, PROG ": reading the top level: %s\n",
			strerror(-err));
		goto out;
	}
	publish();
	/* Before any request is served: INIT waits for the loop. */
	u.link = bpf_map__attach_struct_ops(u.skel->maps.union_ops);
	if (!u.link) {
		fprintf(stderr, PROG ": attaching the BPF program: %s\n",
			strerror(errno));
		goto out;
	}

	if (fuse_opt_add_arg(&args, PROG))
		goto out;
	u.se = fuse_session_new(&args, &union_ops, sizeof(union_ops), NULL);
	fuse_opt_free_args(&args);
	if (!u.se)
		goto out;
	if (fuse_set_signal_handlers(u.se))
		goto out;
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", u.fuse_fd);
	if (fuse_session_mount(u.se, devfd))
		goto out;
	u.se_has_fd = true;

	/* 0, or the number of the signal that ended it */
	ret = fuse_session_loop(u.se) < 0 ? 1 : 0;
out:
	if (mounted && umount2(u.mountpoint, MNT_DETACH) && errno != EINVAL &&
	    errno != ENOENT)
		fprintf(stderr, PROG ": unmounting %s: %s\n", u.mountpoint,
			strerror(errno));
	cleanup();
	return ret;
}
