// SPDX-License-Identifier: GPL-2.0
/*
 * fs_diff: run one seeded random sequence of file system operations on two
 * directory trees and report every divergence. See fs_diff.h.
 *
 * Paths are made of names from a small pool (FSD_NAMES per level, at most
 * FSD_DEPTH levels when created). The generator keeps a model of the tree
 * as it would be if every operation did what the generator expects, and
 * mostly picks what the model says exists with the right type (a file to
 * write, a directory to readdir, a new name in an existing directory to
 * create), some of the time anything or any random path: this gives the
 * operations a fair rate of success along with all the usual errors
 * (ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY...). The model is fed only by
 * the generator, never by results: the sequence depends on the seed alone,
 * and op N of a seed is the same whatever the file systems do.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "../../kselftest.h"
#include "fs_diff.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define FSD_NAMES	8	/* names per level */
#define FSD_DEPTH	3	/* levels for new names */
#define FSD_MODEL_MAX	1024	/* nodes in the model */
#define FSD_IO_MAX	8192	/* largest read/write */
#define FSD_DATA_MAX	16384	/* data kept from one result */
#define FSD_XATTR_MAX	65536	/* listxattr buffer */
#define FSD_XNAMES_MAX	512
#define FSD_CHUNK	65536	/* content comparison */
#define FSD_INJECTED	"fsd-injected"

static const char * const pool[FSD_NAMES] = {
	"a", "b", "c", "d", "e", "f", "g", "h",
};

static const char * const xattr_names[] = {
	"user.a", "user.b", "user.fs_diff",
};

static const mode_t file_modes[] = { 0644, 0600, 0755, 0444, 0640 };
static const mode_t dir_modes[] = { 0755, 0700, 0775, 0555 };
static const mode_t chmod_modes[] = {
	0644, 0600, 0755, 0700, 0444, 0000, 01777, 04755, 02750,
};

/*
 * Directory modes (mkdir, chmod) in the extended set: one time in 16 a
 * mode that locks its owner out of changing or searching it, else one
 * that does not. A user other than root cannot remove what such a
 * directory holds, and every removal that fails leaves the model
 * believing in a name that the tree still has: so that long sequences of
 * such users do not drift into mostly ENOTDIR and ENOENT (and prune
 * mends what drifted).
 */
static const mode_t ext_dir_modes[] = {
	0755, 0700, 0775, 01777, 02775, 0750, 0711,
};

static const mode_t ext_dir_locked[] = { 0555, 0000, 0644, 0444 };

/* chown to others: fsfuzz.c's users and nobody */
static const unsigned int other_ids[] = { 0, 1001, 1002, 1003, 65534 };

/* What an operation wants at a path. */
enum fsd_want {
	WANT_ANY,	/* anything existing */
	WANT_FILE,
	WANT_DIR,
	WANT_LINK,
	WANT_NONDIR,
	WANT_XATTR,	/* anything with user xattrs */
	WANT_NEW,	/* a new name in an existing directory */
	WANT_TARGET,	/* WANT_NEW or WANT_ANY */
};

enum fsd_post {
	POST_NONE,
	POST_LSTAT,	/* lstat the path(s) after success */
	POST_STAT,	/* stat (follow) the path after success */
};

static const struct {
	const char *name;
	int weight;
	int paths;		/* 2: path2 is a second path in the tree */
	enum fsd_want want;	/* for path */
	enum fsd_want want2;	/* for path2 if paths == 2 */
	enum fsd_post post;
} op_info[FSD_OP_NR] = {
#define OP(op, name, weight, paths, want, want2, post)			\
	[FSD_OP_##op] = { name, weight, paths, WANT_##want, WANT_##want2, \
			  POST_##post }
	OP(CREATE,	     "create",		 8, 1, NEW,    ANY,    STAT),
	OP(WRITE,	     "write",		 9, 1, FILE,   ANY,    STAT),
	OP(READ,	     "read",		 6, 1, FILE,   ANY,    NONE),
	OP(TRUNCATE,	     "truncate",	 3, 1, FILE,   ANY,    STAT),
	OP(FTRUNCATE,	     "ftruncate",	 3, 1, FILE,   ANY,    STAT),
	OP(FALLOCATE,	     "fallocate",	 2, 1, FILE,   ANY,    STAT),
	OP(PUNCH_HOLE,	     "punch_hole",	 2, 1, FILE,   ANY,    STAT),
	OP(RENAME,	     "rename",		 4, 2, ANY,    TARGET, LSTAT),
	OP(RENAME_NOREPLACE, "rename_noreplace", 3, 2, ANY,    TARGET, LSTAT),
	OP(RENAME_EXCHANGE,  "rename_exchange",	 3, 2, ANY,    ANY,    LSTAT),
	OP(LINK,	     "link",		 3, 2, FILE,   NEW,    LSTAT),
	OP(SYMLINK,	     "symlink",		 3, 1, NEW,    ANY,    LSTAT),
	OP(UNLINK,	     "unlink",		 5, 1, NONDIR, ANY,    LSTAT),
	OP(MKDIR,	     "mkdir",		 6, 1, NEW,    ANY,    LSTAT),
	OP(RMDIR,	     "rmdir",		 3, 1, DIR,    ANY,    LSTAT),
	OP(CHMOD,	     "chmod",		 3, 1, ANY,    ANY,    STAT),
	OP(UTIMENS,	     "utimensat",	 3, 1, ANY,    ANY,    STAT),
	OP(SETXATTR,	     "setxattr",	 4, 1, ANY,    ANY,    NONE),
	OP(GETXATTR,	     "getxattr",	 3, 1, XATTR,  ANY,    NONE),
	OP(LISTXATTR,	     "listxattr",	 2, 1, ANY,    ANY,    NONE),
	OP(REMOVEXATTR,	     "removexattr",	 2, 1, XATTR,  ANY,    NONE),
	OP(READDIR,	     "readdir",		 4, 1, DIR,    ANY,    NONE),
	OP(STAT,	     "stat",		 4, 1, ANY,    ANY,    NONE),
	OP(LSTAT,	     "lstat",		 3, 1, ANY,    ANY,    NONE),
	OP(READLINK,	     "readlink",	 3, 1, LINK,   ANY,    NONE),
	OP(MKNOD,	     "mknod_fifo",	 2, 1, NEW,    ANY,    LSTAT),
	OP(COPY_RANGE,	     "copy_file_range",	 3, 2, FILE,   FILE,   STAT),
	OP(MMAP_WRITE,	     "mmap_write",	 3, 1, FILE,   ANY,    STAT),
	OP(CHOWN,	     "chown",		 3, 1, ANY,    ANY,    NONE),
	OP(UTIMES,	     "utimes",		 2, 1, ANY,    ANY,    STAT),
	OP(LOCK,	     "lock",		 3, 1, FILE,   ANY,    NONE),
	OP(FLOCK,	     "flock",		 2, 1, FILE,   ANY,    NONE),
	OP(PRUNE,	     "prune",		 1, 1, ANY,    ANY,    LSTAT),
#undef OP
};

enum fsd_stage {
	STAGE_OP,
	STAGE_OPEN,	/* the open() before the operation failed */
	STAGE_SELF,	/* the side contradicted itself (data read back) */
};

struct fsd_res {
	long long ret;
	int err;
	enum fsd_stage stage;
	bool text;		/* data is text, one item per line */
	size_t len;
	char data[FSD_DATA_MAX];
};

/* What the generator believes is in the trees. */
struct fsd_node {
	char path[FSD_REL_MAX];
	char type;		/* 'f', 'd', 'l' or 'p' */
	unsigned char xattrs;	/* bit i: xattr_names[i] is set */
	int ino;		/* the same for hard links */
};

struct fsd_ctx {
	const char *root[2];
	struct fsd_opts opts;
	struct fsd_report *rep;
	unsigned long long rng;
	int total_weight;
	struct fsd_node model[FSD_MODEL_MAX];
	int nr_nodes;
	int last_ino;
	unsigned char wbuf[FSD_IO_MAX];
	struct fsd_res res[2];
};

/* splitmix64: small, fast and the same everywhere */
static unsigned long long rnd64(struct fsd_ctx *c)
{
	unsigned long long z;

	c->rng += 0x9e3779b97f4a7c15ULL;
	z = c->rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rnd(struct fsd_ctx *c, unsigned int n)
{
	return rnd64(c) % n;
}

const char *fsd_op_name(int op)
{
	if (op < 0 || op >= FSD_OP_NR)
		return "?";
	return op_info[op].name;
}

static const char *errname(int err)
{
	static __thread char bufs[2][32];
	static __thread int k;
	char *buf = bufs[k ^= 1];

	switch (err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENXIO: return "ENXIO";
	case ESPIPE: return "ESPIPE";
	case ENOLCK: return "ENOLCK";
	case ENODEV: return "ENODEV";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ETXTBSY: return "ETXTBSY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case EMLINK: return "EMLINK";
	case ERANGE: return "ERANGE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ESTALE: return "ESTALE";
	}
	snprintf(buf, sizeof(bufs[0]), "errno %d", err);
	return buf;
}

static void add_msg(struct fsd_report *rep, const char *fmt, ...)
	__printf(2, 3);

/* Count one divergence, keep its text if there is room. */
static void add_msg(struct fsd_report *rep, const char *fmt, ...)
{
	va_list ap;

	rep->nr_diffs++;
	if (rep->nr_msgs >= FSD_MAX_MSGS)
		return;
	va_start(ap, fmt);
	vsnprintf(rep->msgs[rep->nr_msgs], FSD_MSG_LEN, fmt, ap);
	va_end(ap);
	rep->nr_msgs++;
}

/*
 * @root/@rel into @out (PATH_MAX), @root alone if @rel is empty. Too long
 * a path becomes "", which every syscall refuses with ENOENT.
 */
static void join(char *out, const char *root, const char *rel)
{
	int n;

	if (*rel)
		n = snprintf(out, PATH_MAX, "%s/%s", root, rel);
	else
		n = snprintf(out, PATH_MAX, "%s", root);
	if (n < 0 || n >= PATH_MAX)
		out[0] = '\0';
}

/* @dir/@name, or @name alone if @dir is empty. */
static void child_path(char *out, const char *dir, const char *name)
{
	if (*dir)
		join(out, dir, name);
	else
		join(out, name, "");
}

static char type_char(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return 'f';
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'l';
	case S_IFIFO: return 'p';
	case S_IFSOCK: return 's';
	case S_IFCHR: return 'c';
	case S_IFBLK: return 'b';
	}
	return '?';
}

/* ---- results ---- */

static void res_init(struct fsd_res *r)
{
	r->ret = 0;
	r->err = 0;
	r->stage = STAGE_OP;
	r->text = true;
	r->len = 0;
}

/* Record a syscall's result: call right after it, errno is still fresh. */
static void set_res(struct fsd_res *r, long long ret, enum fsd_stage stage)
{
	r->ret = ret;
	r->err = ret < 0 ? errno : 0;
	r->stage = stage;
}

static void res_printf(struct fsd_res *r, const char *fmt, ...)
	__printf(2, 3);

static void res_printf(struct fsd_res *r, const char *fmt, ...)
{
	size_t room = sizeof(r->data) - r->len;
	va_list ap;
	int n;

	if (room <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->data + r->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	r->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void stat_text(struct fsd_res *r, const struct stat *st, bool mtime)
{
	res_printf(r, "%c mode=%04o nlink=%lu uid=%u gid=%u",
		   type_char(st->st_mode), st->st_mode & 07777,
		   (unsigned long)st->st_nlink, st->st_uid, st->st_gid);
	if (!S_ISDIR(st->st_mode))
		res_printf(r, " size=%lld", (long long)st->st_size);
	if (mtime)
		res_printf(r, " mtime=%lld.%09ld",
			   (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

static bool res_equal(const struct fsd_res *a, const struct fsd_res *b)
{
	return a->ret == b->ret && a->err == b->err && a->stage == b->stage &&
	       a->len == b->len && !memcmp(a->data, b->data, a->len);
}

static void res_str(const struct fsd_res *r, char *buf, size_t size)
{
	if (r->ret >= 0)
		snprintf(buf, size, "%lld", r->ret);
	else
		snprintf(buf, size, "%s%s", r->stage == STAGE_OPEN ? "open " :
			 r->stage == STAGE_SELF ? "read back wrong data " : "",
			 errname(r->err));
}

/* ---- generation ---- */

static int depth_of(const char *path)
{
	int depth = 1;

	for (; *path; path++)
		depth += *path == '/';
	return depth;
}

/* @path is @dir or inside it */
static bool in_tree(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return !strncmp(path, dir, len) && (!path[len] || path[len] == '/');
}

static struct fsd_node *model_node(struct fsd_ctx *c, const char *path)
{
	int i;

	for (i = 0; i < c->nr_nodes; i++)
		if (!strcmp(c->model[i].path, path))
			return &c->model[i];
	return NULL;
}

static char model_type(struct fsd_ctx *c, const char *path)
{
	const struct fsd_node *n = model_node(c, path);

	return n ? n->type : 0;
}

/* The parent of @path is the root or a directory in the model. */
static bool model_parent_ok(struct fsd_ctx *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	char parent[FSD_REL_MAX];

	if (!slash)
		return true;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	return model_type(c, parent) == 'd';
}

static bool model_has_children(struct fsd_ctx *c, const char *path)
{
	int i;

	for (i = 0; i < c->nr_nodes; i++)
		if (in_tree(c->model[i].path, path) &&
		    strcmp(c->model[i].path, path))
			return true;
	return false;
}

/* Add @path, a new inode of @type or a hard link of @link. */
static void model_add(struct fsd_ctx *c, const char *path, char type,
		      const struct fsd_node *link)
{
	struct fsd_node *n = &c->model[c->nr_nodes];

	if (c->nr_nodes == FSD_MODEL_MAX)
		return;
	c->nr_nodes++;
	snprintf(n->path, FSD_REL_MAX, "%s", path);
	n->type = link ? link->type : type;
	n->xattrs = link ? link->xattrs : 0;
	n->ino = link ? link->ino : ++c->last_ino;
}

/* Set (@set) or remove user xattr @bit of @n and its hard links. */
static void model_xattr(struct fsd_ctx *c, const struct fsd_node *n,
			unsigned char bit, bool set)
{
	int ino = n->ino, i;

	for (i = 0; i < c->nr_nodes; i++) {
		if (c->model[i].ino != ino)
			continue;
		if (set)
			c->model[i].xattrs |= bit;
		else
			c->model[i].xattrs &= ~bit;
	}
}

static unsigned char xattr_bit(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xattr_names); i++)
		if (!strcmp(name, xattr_names[i]))
			return 1 << i;
	return 0;
}

static void model_del(struct fsd_ctx *c, int i)
{
	c->model[i] = c->model[--c->nr_nodes];
}

/* Move @src and all below to @dst; NULL @dst deletes them. */
static void model_move(struct fsd_ctx *c, const char *src, const char *dst)
{
	char path[FSD_REL_MAX];
	size_t len = strlen(src);
	int i, n;

	/* backwards: model_del() moves an already visited node here */
	for (i = c->nr_nodes - 1; i >= 0; i--) {
		if (!in_tree(c->model[i].path, src))
			continue;
		n = dst ? snprintf(path, sizeof(path), "%s%s", dst,
				   c->model[i].path + len) : -1;
		if (n < 0 || n >= FSD_REL_MAX)
			model_del(c, i);
		else
			memcpy(c->model[i].path, path, n + 1);
	}
}

static void model_rename(struct fsd_ctx *c, const char *src, const char *dst,
			 unsigned int flags)
{
	const struct fsd_node *ns = model_node(c, src), *nd = model_node(c, dst);
	char ts = ns ? ns->type : 0, td = nd ? nd->type : 0;

	/* renaming a hard link onto another of the same inode does nothing */
	if (!ts || !strcmp(src, dst) || in_tree(dst, src) ||
	    !model_parent_ok(c, dst) || (nd && nd->ino == ns->ino))
		return;
	if (flags & RENAME_EXCHANGE) {
		if (!td || in_tree(src, dst))
			return;
		model_move(c, src, "\x01");
		model_move(c, dst, src);
		model_move(c, "\x01", dst);
		return;
	}
	if (td) {
		if ((flags & RENAME_NOREPLACE) || (ts == 'd') != (td == 'd') ||
		    model_has_children(c, dst))
			return;
		model_move(c, dst, NULL);
	}
	model_move(c, src, dst);
}

static bool slashed(const char *path)
{
	return path[0] && strchr(path, '\0')[-1] == '/';
}

static void strip_slash(char *out, const char *path)
{
	snprintf(out, FSD_REL_MAX, "%.*s", (int)(strlen(path) - slashed(path)),
		 path);
}

/* What the generator expects @d to do. */
static void model_apply(struct fsd_ctx *c, const struct fsd_opdesc *d)
{
	char path[FSD_REL_MAX], path2[FSD_REL_MAX];
	struct fsd_node *n;
	unsigned char bit;
	bool creat;
	char t;

	/* a trailing slash: only for directories, stripped */
	strip_slash(path, d->path);
	strip_slash(path2, d->path2);
	n = model_node(c, path);
	t = n ? n->type : 0;
	if (slashed(d->path) && d->kind != FSD_OP_MKDIR && t != 'd')
		return;
	if (op_info[d->kind].paths == 2 && slashed(d->path2) &&
	    (t != 'd' || (model_type(c, path2) && model_type(c, path2) != 'd')))
		return;
	creat = !t && model_parent_ok(c, path);

	switch (d->kind) {
	case FSD_OP_CREATE:
		if (creat)
			model_add(c, path, 'f', NULL);
		break;
	case FSD_OP_WRITE:
		if (creat && (d->flags & O_CREAT))
			model_add(c, path, 'f', NULL);
		break;
	case FSD_OP_MKDIR:
		if (creat)
			model_add(c, path, 'd', NULL);
		break;
	case FSD_OP_SYMLINK:
		if (creat)
			model_add(c, path, 'l', NULL);
		break;
	case FSD_OP_MKNOD:
		if (creat)
			model_add(c, path, 'p', NULL);
		break;
	case FSD_OP_PRUNE:
		/*
		 * Whatever the tree holds there goes, if its owner may remove
		 * it: the model and the tree agree on that name again, however
		 * far they had drifted (see op_prune()).
		 */
		model_move(c, path, NULL);
		break;
	case FSD_OP_LINK:
		/* following a symlink: whatever is there, unknown */
		if (t && t != 'd' && !(t == 'l' && d->flags) &&
		    !model_type(c, path2) && model_parent_ok(c, path2))
			model_add(c, path2, 0, n);
		break;
	case FSD_OP_UNLINK:
		if (t && t != 'd')
			model_del(c, n - c->model);
		break;
	case FSD_OP_RMDIR:
		if (t == 'd' && !model_has_children(c, path))
			model_del(c, n - c->model);
		break;
	case FSD_OP_RENAME:
		model_rename(c, path, path2, 0);
		break;
	case FSD_OP_RENAME_NOREPLACE:
		model_rename(c, path, path2, RENAME_NOREPLACE);
		break;
	case FSD_OP_RENAME_EXCHANGE:
		model_rename(c, path, path2, RENAME_EXCHANGE);
		break;
	case FSD_OP_SETXATTR:
		bit = xattr_bit(d->xname);
		if (!t || t == 'l' ||
		    (d->flags == XATTR_CREATE && (n->xattrs & bit)) ||
		    (d->flags == XATTR_REPLACE && !(n->xattrs & bit)))
			break;
		model_xattr(c, n, bit, true);
		break;
	case FSD_OP_REMOVEXATTR:
		bit = xattr_bit(d->xname);
		if (t && t != 'l' && (n->xattrs & bit))
			model_xattr(c, n, bit, false);
		break;
	default:
		break;
	}
}

static bool wanted(const struct fsd_node *n, enum fsd_want want,
		   int max_depth)
{
	if (depth_of(n->path) > max_depth)
		return false;
	switch (want) {
	case WANT_FILE: return n->type == 'f';
	case WANT_DIR: return n->type == 'd';
	case WANT_LINK: return n->type == 'l';
	case WANT_NONDIR: return n->type != 'd';
	case WANT_XATTR: return n->xattrs;
	default: return true;
	}
}

/* A random node of the model that is @want, not deeper than @max_depth. */
static const char *model_pick(struct fsd_ctx *c, enum fsd_want want,
			      int max_depth)
{
	int i, n = 0;

	for (i = 0; i < c->nr_nodes; i++)
		n += wanted(&c->model[i], want, max_depth);
	if (!n)
		return NULL;
	n = rnd(c, n);
	for (i = 0; i < c->nr_nodes; i++)
		if (wanted(&c->model[i], want, max_depth) && !n--)
			break;
	return c->model[i].path;
}

static void random_path(struct fsd_ctx *c, char *out, int max_depth)
{
	unsigned int r = rnd(c, 100);
	int depth = r < 45 ? 1 : r < 80 ? 2 : 3;
	size_t len = 0;
	int i;

	if (depth > max_depth)
		depth = max_depth;
	for (i = 0; i < depth; i++)
		len += snprintf(out + len, FSD_REL_MAX - len, "%s%s",
				i ? "/" : "", pool[rnd(c, FSD_NAMES)]);
}

/* Mostly a name that the model lacks, in the root or a model directory. */
static void new_path(struct fsd_ctx *c, char *out)
{
	const char *dir = NULL;
	int try;

	for (try = 0; try < 4; try++) {
		if (rnd(c, 4))
			dir = model_pick(c, WANT_DIR, FSD_DEPTH - 1);
		if (dir)
			snprintf(out, FSD_REL_MAX, "%s/%s", dir,
				 pool[rnd(c, FSD_NAMES)]);
		else
			snprintf(out, FSD_REL_MAX, "%s", pool[rnd(c, FSD_NAMES)]);
		if (!model_node(c, out))
			break;
	}
}

static void pick_path(struct fsd_ctx *c, char *out, enum fsd_want want)
{
	unsigned int r = rnd(c, 100);
	const char *path = NULL;
	size_t len;

	if (want == WANT_TARGET)
		want = r & 1 ? WANT_NEW : WANT_ANY;
	if (want == WANT_NEW) {
		if (r < 80)
			new_path(c, out);
		else if (r < 92)
			path = model_pick(c, WANT_ANY, INT_MAX);
	} else if (r < 80) {
		path = model_pick(c, want, INT_MAX);
	} else if (r < 90) {
		path = model_pick(c, WANT_ANY, INT_MAX);
	}
	if (path)
		snprintf(out, FSD_REL_MAX, "%s", path);
	else if (!*out)
		random_path(c, out, FSD_DEPTH);

	/* now and then a trailing slash, for the ENOTDIR/EISDIR corners */
	if (rnd(c, 40) == 0) {
		len = strlen(out);
		snprintf(out + len, FSD_REL_MAX - len, "/");
	}
}

/* Relative and without "..": never points out of the tree. */
static void symlink_target(struct fsd_ctx *c, const struct fsd_opdesc *d,
			   char *out)
{
	const char *slash = strrchr(d->path, '/');
	const char *path = rnd(c, 10) < 6 ? model_pick(c, WANT_ANY, INT_MAX) : NULL;
	size_t len = slash ? slash - d->path : 0;

	if (rnd(c, 10) == 0) {
		snprintf(out, FSD_REL_MAX, ".");
	} else if (!path) {
		random_path(c, out, 2);
	} else if (len && !strncmp(path, d->path, len) && path[len] == '/') {
		/* relative to the link's directory */
		snprintf(out, FSD_REL_MAX, "%s", path + len + 1);
	} else {
		snprintf(out, FSD_REL_MAX, "%s", path);
	}
}

static long long gen_off(struct fsd_ctx *c)
{
	unsigned int r = rnd(c, 100);

	if (r < 70)
		return rnd(c, 8192);
	if (r < 92)
		return rnd(c, 65536);
	return rnd(c, 1 << 20);
}

static void fill_bytes(struct fsd_ctx *c, size_t len)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i % 8))
			v = rnd64(c);
		c->wbuf[i] = v >> (8 * (i % 8));
	}
}

/* Data for @d, which apply() makes again from @d->data_rng. */
static void fill_wbuf(struct fsd_ctx *c, struct fsd_opdesc *d, size_t len)
{
	d->data_rng = c->rng;
	fill_bytes(c, len);
}

static void load_wbuf(struct fsd_ctx *c, const struct fsd_opdesc *d)
{
	unsigned long long rng = c->rng;

	c->rng = d->data_rng;
	fill_bytes(c, d->len);
	c->rng = rng;
}

/*
 * Now and then (fsd_opts.cross) one path of @d goes into a directory
 * beside the tree, shared with other callers: "../DIR/NAME".
 */
static void cross_path(struct fsd_ctx *c, struct fsd_opdesc *d)
{
	const char *dir = c->opts.cross[rnd(c, c->opts.nr_cross)];
	bool second = op_info[d->kind].paths == 2 && rnd(c, 2);
	char *out = second ? d->path2 : d->path;

	snprintf(out, FSD_REL_MAX, "../%s/%s", dir, pool[rnd(c, FSD_NAMES)]);
	d->cross = true;
}

static mode_t ext_dir_mode(struct fsd_ctx *c)
{
	if (!rnd(c, 16))
		return ext_dir_locked[rnd(c, ARRAY_SIZE(ext_dir_locked))];
	return ext_dir_modes[rnd(c, ARRAY_SIZE(ext_dir_modes))];
}

static unsigned int pick_id(struct fsd_ctx *c, unsigned int own)
{
	unsigned int r = rnd(c, 8);

	if (r < 4)
		return own;
	if (r < 6)
		return -1;
	return other_ids[rnd(c, ARRAY_SIZE(other_ids))];
}

static enum fsd_op pick_kind(struct fsd_ctx *c)
{
	int r = rnd(c, c->total_weight);
	int op;

	for (op = 0; op < FSD_OP_NR; op++) {
		if (c->opts.skip_ops & FSD_OP_BIT(op))
			continue;
		r -= op_info[op].weight;
		if (r < 0)
			break;
	}
	return op;
}

/* Mostly an xattr that the model has on @path. */
static const char *pick_xattr(struct fsd_ctx *c, const char *path)
{
	const struct fsd_node *n = model_node(c, path);
	unsigned int i = rnd(c, ARRAY_SIZE(xattr_names));
	unsigned int try;

	for (try = 0; n && n->xattrs && try < 8 && rnd(c, 5); try++) {
		if (n->xattrs & (1 << i))
			break;
		i = rnd(c, ARRAY_SIZE(xattr_names));
	}
	return xattr_names[i];
}

static void gen_op(struct fsd_ctx *c, struct fsd_opdesc *d)
{
	static const int write_flags[] = {
		0, 0, 0, 0, O_CREAT, O_CREAT, O_APPEND, O_TRUNC,
	};
	static const int setxattr_flags[] = {
		0, 0, XATTR_CREATE, XATTR_REPLACE,
	};
	static const size_t getxattr_sizes[] = { 256, 256, 0, 4 };

	memset(d, 0, sizeof(*d));
	d->kind = pick_kind(c);
	pick_path(c, d->path, op_info[d->kind].want);
	if (op_info[d->kind].paths == 2)
		pick_path(c, d->path2, op_info[d->kind].want2);
	if (c->opts.nr_cross && !rnd(c, 25))
		cross_path(c, d);

	switch (d->kind) {
	case FSD_OP_CREATE:
		d->mode = file_modes[rnd(c, ARRAY_SIZE(file_modes))];
		break;
	case FSD_OP_WRITE:
		d->flags = write_flags[rnd(c, ARRAY_SIZE(write_flags))];
		d->off = gen_off(c);
		d->len = 1 + rnd(c, FSD_IO_MAX);
		fill_wbuf(c, d, d->len);
		break;
	case FSD_OP_READ:
		d->off = rnd(c, 4) ? rnd(c, 8192) : gen_off(c);
		d->len = 1 + rnd(c, FSD_IO_MAX);
		break;
	case FSD_OP_TRUNCATE:
	case FSD_OP_FTRUNCATE:
		d->off = gen_off(c);
		break;
	case FSD_OP_FALLOCATE:
	case FSD_OP_PUNCH_HOLE:
		d->off = gen_off(c);
		d->len = 1 + rnd(c, 65536);
		break;
	case FSD_OP_LINK:
		d->flags = rnd(c, 4) ? 0 : AT_SYMLINK_FOLLOW;
		break;
	case FSD_OP_SYMLINK:
		symlink_target(c, d, d->path2);
		break;
	case FSD_OP_MKDIR:
		if (c->opts.ext)
			d->mode = ext_dir_mode(c);
		else
			d->mode = dir_modes[rnd(c, ARRAY_SIZE(dir_modes))];
		break;
	case FSD_OP_CHMOD:
		if (c->opts.ext && model_type(c, d->path) == 'd')
			d->mode = ext_dir_mode(c);
		else
			d->mode = chmod_modes[rnd(c, ARRAY_SIZE(chmod_modes))];
		break;
	case FSD_OP_UTIMENS:
		d->times[0].tv_sec = 1000000000 + rnd(c, 1000000000);
		d->times[0].tv_nsec = rnd(c, 4) ? rnd(c, 1000000000) : UTIME_OMIT;
		d->times[1].tv_sec = 1000000000 + rnd(c, 1000000000);
		d->times[1].tv_nsec = rnd(c, 1000000000);
		d->flags = rnd(c, 4) ? 0 : AT_SYMLINK_NOFOLLOW;
		break;
	case FSD_OP_SETXATTR:
		d->xname = xattr_names[rnd(c, ARRAY_SIZE(xattr_names))];
		d->flags = setxattr_flags[rnd(c, ARRAY_SIZE(setxattr_flags))];
		d->len = rnd(c, 49);
		fill_wbuf(c, d, d->len);
		break;
	case FSD_OP_GETXATTR:
		d->xname = pick_xattr(c, d->path);
		d->len = getxattr_sizes[rnd(c, ARRAY_SIZE(getxattr_sizes))];
		break;
	case FSD_OP_REMOVEXATTR:
		d->xname = pick_xattr(c, d->path);
		break;
	case FSD_OP_MKNOD:
		d->mode = file_modes[rnd(c, ARRAY_SIZE(file_modes))];
		break;
	case FSD_OP_COPY_RANGE:
		d->off = rnd(c, 4) ? rnd(c, 8192) : gen_off(c);
		d->off2 = gen_off(c);
		d->len = rnd(c, 4) ? 1 + rnd(c, FSD_IO_MAX) : 1 + rnd(c, 1 << 20);
		break;
	case FSD_OP_MMAP_WRITE:
		d->off = rnd(c, 4) ? rnd(c, 8192) : gen_off(c);
		d->len = 1 + rnd(c, FSD_IO_MAX);
		fill_wbuf(c, d, d->len);
		break;
	case FSD_OP_CHOWN:
		d->uid = pick_id(c, c->opts.uid);
		d->gid = pick_id(c, c->opts.gid);
		d->flags = rnd(c, 4) ? 0 : AT_SYMLINK_NOFOLLOW;
		break;
	case FSD_OP_UTIMES:
		d->times[0].tv_sec = 1000000000 + rnd(c, 1000000000);
		d->times[0].tv_nsec = rnd(c, 1000000) * 1000;
		d->times[1].tv_sec = 1000000000 + rnd(c, 1000000000);
		d->times[1].tv_nsec = rnd(c, 1000000) * 1000;
		break;
	case FSD_OP_LOCK:
		d->flags = rnd(c, 2) ? F_SETLK : F_OFD_SETLK;
		d->flags2 = rnd(c, 2) ? F_RDLCK : F_WRLCK;
		d->off = rnd(c, 8192);
		d->len = rnd(c, 4) ? rnd(c, 4096) : 0;
		d->off2 = rnd(c, 8192);
		break;
	case FSD_OP_FLOCK:
		d->flags = rnd(c, 2) ? LOCK_SH : LOCK_EX;
		d->flags2 = rnd(c, 2) ? LOCK_SH : LOCK_EX;
		break;
	case FSD_OP_PRUNE:
		/* a top-level name of the tree, whatever was picked */
		if (!d->cross)
			snprintf(d->path, FSD_REL_MAX, "%s", pool[rnd(c, FSD_NAMES)]);
		break;
	default:
		break;
	}
	model_apply(c, d);
}

void fsd_op_str(const struct fsd_opdesc *d, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s %s", op_info[d->kind].name, d->path);

	if (n < 0 || (size_t)n >= size)
		return;
	buf += n;
	size -= n;

	switch (d->kind) {
	case FSD_OP_CREATE:
	case FSD_OP_MKDIR:
	case FSD_OP_CHMOD:
		snprintf(buf, size, " mode=%04o", d->mode);
		break;
	case FSD_OP_WRITE:
		snprintf(buf, size, " off=%lld len=%zu%s%s%s", d->off, d->len,
			 d->flags & O_CREAT ? " O_CREAT" : "",
			 d->flags & O_APPEND ? " O_APPEND" : "",
			 d->flags & O_TRUNC ? " O_TRUNC" : "");
		break;
	case FSD_OP_READ:
	case FSD_OP_FALLOCATE:
	case FSD_OP_PUNCH_HOLE:
		snprintf(buf, size, " off=%lld len=%zu", d->off, d->len);
		break;
	case FSD_OP_TRUNCATE:
	case FSD_OP_FTRUNCATE:
		snprintf(buf, size, " size=%lld", d->off);
		break;
	case FSD_OP_RENAME:
	case FSD_OP_RENAME_NOREPLACE:
	case FSD_OP_RENAME_EXCHANGE:
		snprintf(buf, size, " %s", d->path2);
		break;
	case FSD_OP_LINK:
		snprintf(buf, size, " %s%s", d->path2,
			 d->flags ? " AT_SYMLINK_FOLLOW" : "");
		break;
	case FSD_OP_SYMLINK:
		snprintf(buf, size, " -> %s", d->path2);
		break;
	case FSD_OP_UTIMENS:
		snprintf(buf, size, " mtime=%lld.%09ld%s",
			 (long long)d->times[1].tv_sec, d->times[1].tv_nsec,
			 d->flags ? " AT_SYMLINK_NOFOLLOW" : "");
		break;
	case FSD_OP_SETXATTR:
		snprintf(buf, size, " %s len=%zu%s%s", d->xname, d->len,
			 d->flags == XATTR_CREATE ? " XATTR_CREATE" : "",
			 d->flags == XATTR_REPLACE ? " XATTR_REPLACE" : "");
		break;
	case FSD_OP_GETXATTR:
		snprintf(buf, size, " %s size=%zu", d->xname, d->len);
		break;
	case FSD_OP_REMOVEXATTR:
		snprintf(buf, size, " %s", d->xname);
		break;
	case FSD_OP_MKNOD:
		snprintf(buf, size, " mode=%04o", d->mode);
		break;
	case FSD_OP_COPY_RANGE:
		snprintf(buf, size, " %s off_in=%lld off_out=%lld len=%zu",
			 d->path2, d->off, d->off2, d->len);
		break;
	case FSD_OP_MMAP_WRITE:
		snprintf(buf, size, " off=%lld len=%zu", d->off, d->len);
		break;
	case FSD_OP_CHOWN:
		snprintf(buf, size, " %d:%d%s", (int)d->uid, (int)d->gid,
			 d->flags ? " AT_SYMLINK_NOFOLLOW" : "");
		break;
	case FSD_OP_UTIMES:
		snprintf(buf, size, " mtime=%lld.%06ld",
			 (long long)d->times[1].tv_sec, d->times[1].tv_nsec / 1000);
		break;
	case FSD_OP_LOCK:
		snprintf(buf, size, " %s %s start=%lld len=%zu, probe at %lld",
			 d->flags == F_SETLK ? "F_SETLK" : "F_OFD_SETLK",
			 d->flags2 == F_RDLCK ? "F_RDLCK" : "F_WRLCK", d->off,
			 d->len, d->off2);
		break;
	case FSD_OP_PRUNE:
		snprintf(buf, size, " (rm -rf)");
		break;
	case FSD_OP_FLOCK:
		snprintf(buf, size, " %s, then %s|LOCK_NB",
			 d->flags == LOCK_SH ? "LOCK_SH" : "LOCK_EX",
			 d->flags2 == LOCK_SH ? "LOCK_SH" : "LOCK_EX");
		break;
	default:
		break;
	}
}

/* ---- helpers shared by operations and the tree comparison ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/*
 * The sorted user.* xattr names of @path, pointing into @buf. Other
 * namespaces (security.*, system.*) may legitimately differ.
 */
static int user_xattrs(const char *path, bool follow, char *buf,
		       char **names, int max)
{
	ssize_t len;
	char *p;
	int n = 0;

	if (follow)
		len = listxattr(path, buf, FSD_XATTR_MAX);
	else
		len = llistxattr(path, buf, FSD_XATTR_MAX);
	if (len < 0)
		return -1;
	for (p = buf; p < buf + len && n < max; p += strlen(p) + 1)
		if (!strncmp(p, "user.", 5))
			names[n++] = p;
	qsort(names, n, sizeof(*names), cmp_str);
	return n;
}

/* ---- operations ---- */

static void op_readdir(const char *p, struct fsd_res *r)
{
	char child[PATH_MAX];
	struct dirent **ents;
	struct stat st;
	char type;
	int n, i;

	n = scandir(p, &ents, NULL, cmp_dirent);
	if (n < 0) {
		set_res(r, -1, STAGE_OP);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct dirent *de = ents[i];

		if (!is_dot(de->d_name)) {
			type = type_char(DTTOIF(de->d_type));
			if (de->d_type == DT_UNKNOWN) {
				join(child, p, de->d_name);
				if (!lstat(child, &st))
					type = type_char(st.st_mode);
			}
			r->ret++;
			res_printf(r, "%s:%c\n", de->d_name, type);
		}
		free(ents[i]);
	}
	free(ents);
}

static void op_listxattr(const char *p, struct fsd_res *r)
{
	char *names[FSD_XNAMES_MAX];
	char *buf = malloc(FSD_XATTR_MAX);
	int n, i;

	if (!buf) {
		set_res(r, -1, STAGE_OP);
		return;
	}
	n = user_xattrs(p, true, buf, names, FSD_XNAMES_MAX);
	set_res(r, n, STAGE_OP);
	for (i = 0; i < n; i++)
		res_printf(r, "%s\n", names[i]);
	free(buf);
}

static int open_for(struct fsd_res *r, const char *p, int flags)
{
	/* O_NONBLOCK: a fifo must neither block an open nor its reads */
	int fd = open(p, flags | O_NONBLOCK, 0644);

	if (fd < 0)
		set_res(r, -1, STAGE_OPEN);
	return fd;
}

static void op_copy_range(const char *p, const char *p2,
			  const struct fsd_opdesc *d, struct fsd_res *r)
{
	loff_t off_in = d->off, off_out = d->off2;
	int in, out;

	in = open_for(r, p, O_RDONLY);
	if (in < 0)
		return;
	out = open_for(r, p2, O_WRONLY);
	if (out >= 0) {
		set_res(r, copy_file_range(in, &off_in, out, &off_out, d->len, 0),
			STAGE_OP);
		if (r->ret >= 0)
			res_printf(r, "offsets %lld %lld\n", (long long)off_in,
				   (long long)off_out);
		close(out);
	}
	close(in);
}

/*
 * Write through a shared mapping, msync, and read it back with pread():
 * what was written, else the side contradicts itself (STAGE_SELF), which
 * fsd_apply_op() counts as a divergence even if both sides agree. Only
 * within the file's size: a mapping past it would fault.
 */
static void op_mmap_write(struct fsd_ctx *c, const char *p,
			  const struct fsd_opdesc *d, struct fsd_res *r)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len, map_len, delta;
	struct stat st;
	ssize_t got;
	char *map;
	int fd;

	fd = open_for(r, p, O_RDWR);
	if (fd < 0)
		return;
	if (fstat(fd, &st)) {
		set_res(r, -1, STAGE_OP);
		goto out;
	}
	if (d->off >= st.st_size) {
		res_printf(r, "past EOF\n");
		goto out;
	}
	len = st.st_size - d->off < (long long)d->len ? st.st_size - d->off :
							 d->len;
	delta = d->off % page;
	map_len = delta + len;
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   d->off - delta);
	if (map == MAP_FAILED) {
		set_res(r, -1, STAGE_OP);
		goto out;
	}
	memcpy(map + delta, c->wbuf, len);
	set_res(r, msync(map, map_len, MS_SYNC), STAGE_OP);
	munmap(map, map_len);
	if (r->ret)
		goto out;
	got = pread(fd, r->data, len, d->off);
	set_res(r, got, STAGE_OP);
	r->text = false;
	r->len = got > 0 ? got : 0;
	if (got >= 0 && ((size_t)got != len || memcmp(r->data, c->wbuf, len))) {
		r->ret = -1;
		r->err = EIO;
		r->stage = STAGE_SELF;
	}
out:
	close(fd);
}

/*
 * A lock on one descriptor, then from a second one (another open file
 * description, so another owner even for POSIX locks of this process):
 * F_OFD_GETLK of a write lock, and F_OFD_SETLK of a read lock.
 */
static void op_lock(const char *p, const struct fsd_opdesc *d,
		    struct fsd_res *r)
{
	struct flock fl = {
		.l_type = d->flags2,
		.l_whence = SEEK_SET,
		.l_start = d->off,
		.l_len = d->len,
	};
	int fd, fd2;

	fd = open_for(r, p, O_RDWR);
	if (fd < 0)
		return;
	set_res(r, fcntl(fd, d->flags, &fl), STAGE_OP);
	if (r->ret)
		goto out;
	fd2 = open(p, O_RDONLY | O_NONBLOCK);
	if (fd2 < 0) {
		res_printf(r, "open 2: %s\n", errname(errno));
		goto out;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_start = d->off2;
	fl.l_len = 1024;
	if (fcntl(fd2, F_OFD_GETLK, &fl))
		res_printf(r, "getlk: %s\n", errname(errno));
	else
		res_printf(r, "getlk: type=%d start=%lld len=%lld pid=%s\n",
			   fl.l_type, (long long)fl.l_start,
			   (long long)fl.l_len, fl.l_pid == getpid() ? "self" :
			   fl.l_pid == -1 ? "-1" : fl.l_pid ? "other" : "0");
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_RDLCK;
	fl.l_start = d->off2;
	fl.l_len = 1024;
	res_printf(r, "setlk 2: %s\n",
		   fcntl(fd2, F_OFD_SETLK, &fl) ? errname(errno) : "0");
	close(fd2);
out:
	close(fd);
}

static void op_flock(const char *p, const struct fsd_opdesc *d,
		     struct fsd_res *r)
{
	int fd, fd2;

	fd = open_for(r, p, O_RDONLY);
	if (fd < 0)
		return;
	set_res(r, flock(fd, d->flags), STAGE_OP);
	if (r->ret)
		goto out;
	fd2 = open(p, O_RDONLY | O_NONBLOCK);
	if (fd2 < 0) {
		res_printf(r, "open 2: %s\n", errname(errno));
		goto out;
	}
	res_printf(r, "flock 2: %s\n", flock(fd2, d->flags2 | LOCK_NB) ?
		   errname(errno) : "0");
	close(fd2);
out:
	close(fd);
}

/*
 * rm -rf @p, giving each directory u+rwx first where the caller may:
 * the number of entries removed, which does not depend on the order of
 * the listing (an entry goes if its directory lets the caller remove it
 * and, for a directory, all of its own entries went).
 */
static long prune(const char *p)
{
	char child[PATH_MAX];
	struct dirent *de;
	struct stat st;
	long n = 0;
	DIR *dir;

	if (lstat(p, &st))
		return 0;
	if (S_ISDIR(st.st_mode)) {
		chmod(p, (st.st_mode & 07777) | 0700);
		dir = opendir(p);
		while (dir && (de = readdir(dir))) {
			if (is_dot(de->d_name))
				continue;
			if (snprintf(child, sizeof(child), "%s/%s", p,
				     de->d_name) < (int)sizeof(child))
				n += prune(child);
		}
		if (dir)
			closedir(dir);
		return n + !rmdir(p);
	}
	return !unlink(p);
}

static void op_prune(const char *p, struct fsd_res *r)
{
	struct stat st;

	if (lstat(p, &st)) {
		set_res(r, -1, STAGE_OP);
		return;
	}
	set_res(r, prune(p), STAGE_OP);
}

/* Append the (l)stat of @p to @r, as "path: fields" or "path: ERRNO". */
static void post_stat(struct fsd_res *r, const char *p, const char *rel,
		      bool follow, bool mtime)
{
	struct stat st;
	int ret;

	ret = follow ? stat(p, &st) : lstat(p, &st);
	res_printf(r, "%s: ", rel);
	if (ret)
		res_printf(r, "%s", errname(errno));
	else
		stat_text(r, &st, mtime);
	res_printf(r, "\n");
}

static void apply(struct fsd_ctx *c, int side, const struct fsd_opdesc *d,
		  struct fsd_res *r)
{
	char p[PATH_MAX], p2[PATH_MAX];
	bool follow;
	struct stat st;
	ssize_t len;
	int fd;

	res_init(r);
	join(p, c->root[side], d->path);
	join(p2, c->root[side], d->path2);
	if (d->kind == FSD_OP_WRITE || d->kind == FSD_OP_SETXATTR ||
	    d->kind == FSD_OP_MMAP_WRITE)
		load_wbuf(c, d);
	errno = 0;

	switch (d->kind) {
	case FSD_OP_CREATE:
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, d->mode);
		set_res(r, fd < 0 ? -1 : 0, STAGE_OP);
		if (fd >= 0)
			close(fd);
		break;
	case FSD_OP_WRITE:
		fd = open_for(r, p, O_WRONLY | d->flags);
		if (fd < 0)
			break;
		set_res(r, pwrite(fd, c->wbuf, d->len, d->off), STAGE_OP);
		close(fd);
		break;
	case FSD_OP_READ:
		fd = open_for(r, p, O_RDONLY);
		if (fd < 0)
			break;
		len = pread(fd, r->data, d->len, d->off);
		set_res(r, len, STAGE_OP);
		r->text = false;
		r->len = len > 0 ? len : 0;
		close(fd);
		break;
	case FSD_OP_TRUNCATE:
		set_res(r, truncate(p, d->off), STAGE_OP);
		break;
	case FSD_OP_FTRUNCATE:
		fd = open_for(r, p, O_WRONLY);
		if (fd < 0)
			break;
		set_res(r, ftruncate(fd, d->off), STAGE_OP);
		close(fd);
		break;
	case FSD_OP_FALLOCATE:
	case FSD_OP_PUNCH_HOLE:
		fd = open_for(r, p, O_RDWR);
		if (fd < 0)
			break;
		set_res(r, fallocate(fd, d->kind == FSD_OP_FALLOCATE ? 0 :
				     FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
				     d->off, d->len), STAGE_OP);
		close(fd);
		break;
	case FSD_OP_RENAME:
		set_res(r, rename(p, p2), STAGE_OP);
		break;
	case FSD_OP_RENAME_NOREPLACE:
		set_res(r, renameat2(AT_FDCWD, p, AT_FDCWD, p2,
				     RENAME_NOREPLACE), STAGE_OP);
		break;
	case FSD_OP_RENAME_EXCHANGE:
		set_res(r, renameat2(AT_FDCWD, p, AT_FDCWD, p2,
				     RENAME_EXCHANGE), STAGE_OP);
		break;
	case FSD_OP_LINK:
		set_res(r, linkat(AT_FDCWD, p, AT_FDCWD, p2, d->flags), STAGE_OP);
		break;
	case FSD_OP_SYMLINK:
		set_res(r, symlink(d->path2, p), STAGE_OP);
		break;
	case FSD_OP_UNLINK:
		set_res(r, unlink(p), STAGE_OP);
		break;
	case FSD_OP_MKDIR:
		set_res(r, mkdir(p, d->mode), STAGE_OP);
		break;
	case FSD_OP_RMDIR:
		set_res(r, rmdir(p), STAGE_OP);
		break;
	case FSD_OP_CHMOD:
		set_res(r, chmod(p, d->mode), STAGE_OP);
		break;
	case FSD_OP_UTIMENS:
		set_res(r, utimensat(AT_FDCWD, p, d->times, d->flags), STAGE_OP);
		break;
	case FSD_OP_SETXATTR:
		set_res(r, setxattr(p, d->xname, c->wbuf, d->len, d->flags),
			STAGE_OP);
		break;
	case FSD_OP_GETXATTR:
		len = getxattr(p, d->xname, r->data, d->len);
		set_res(r, len, STAGE_OP);
		r->text = false;
		r->len = len > 0 && d->len ? len : 0;
		break;
	case FSD_OP_LISTXATTR:
		op_listxattr(p, r);
		break;
	case FSD_OP_REMOVEXATTR:
		set_res(r, removexattr(p, d->xname), STAGE_OP);
		break;
	case FSD_OP_READDIR:
		op_readdir(p, r);
		break;
	case FSD_OP_STAT:
	case FSD_OP_LSTAT:
		if (d->kind == FSD_OP_STAT)
			set_res(r, stat(p, &st), STAGE_OP);
		else
			set_res(r, lstat(p, &st), STAGE_OP);
		if (!r->ret)
			stat_text(r, &st, false);
		break;
	case FSD_OP_READLINK:
		len = readlink(p, r->data, sizeof(r->data));
		set_res(r, len, STAGE_OP);
		r->len = len > 0 ? len : 0;
		break;
	case FSD_OP_MKNOD:
		set_res(r, mknod(p, S_IFIFO | d->mode, 0), STAGE_OP);
		break;
	case FSD_OP_COPY_RANGE:
		op_copy_range(p, p2, d, r);
		break;
	case FSD_OP_MMAP_WRITE:
		op_mmap_write(c, p, d, r);
		break;
	case FSD_OP_CHOWN:
		set_res(r, fchownat(AT_FDCWD, p, d->uid, d->gid, d->flags),
			STAGE_OP);
		if (!r->ret)
			post_stat(r, p, d->path, !d->flags, false);
		break;
	case FSD_OP_UTIMES: {
		struct timeval tv[2] = {
			{ d->times[0].tv_sec, d->times[0].tv_nsec / 1000 },
			{ d->times[1].tv_sec, d->times[1].tv_nsec / 1000 },
		};

		set_res(r, utimes(p, tv), STAGE_OP);
		break;
	}
	case FSD_OP_LOCK:
		op_lock(p, d, r);
		break;
	case FSD_OP_FLOCK:
		op_flock(p, d, r);
		break;
	case FSD_OP_PRUNE:
		op_prune(p, r);
		break;
	default:
		set_res(r, -1, STAGE_OP);
		r->err = EINVAL;
		break;
	}

	if (r->ret < 0 || op_info[d->kind].post == POST_NONE)
		return;
	/* what the operation left behind, mtime only where it was set */
	follow = op_info[d->kind].post == POST_STAT;
	if (d->kind == FSD_OP_UTIMENS || d->kind == FSD_OP_UTIMES) {
		follow = d->kind == FSD_OP_UTIMES ||
			 !(d->flags & AT_SYMLINK_NOFOLLOW);
		post_stat(r, p, d->path, follow, true);
		return;
	}
	post_stat(r, p, d->path, follow, false);
	if (op_info[d->kind].paths == 2)
		post_stat(r, p2, d->path2, follow, false);
}

/* ---- reporting one diverging operation ---- */

/* Printable excerpt of text data around @at, lines joined by '|'. */
static void excerpt(const struct fsd_res *r, size_t at, char *buf, size_t size)
{
	size_t i, n = 0;

	while (at > 0 && r->data[at - 1] != '\n')
		at--;
	for (i = at; i < r->len && n + 1 < size; i++)
		buf[n++] = r->data[i] == '\n' ? '|' : r->data[i];
	buf[n] = '\0';
}

static void report_op(struct fsd_ctx *c, int nr, const struct fsd_opdesc *d)
{
	const struct fsd_res *a = &c->res[0], *b = &c->res[1];
	char op[160], ra[64], rb[64], ea[96], eb[96];
	char msg[512];
	size_t at = 0;

	fsd_op_str(d, op, sizeof(op));
	res_str(a, ra, sizeof(ra));
	res_str(b, rb, sizeof(rb));

	if (a->ret != b->ret || a->err != b->err || a->stage != b->stage) {
		snprintf(msg, sizeof(msg), "op %d %s: A %s, B %s", nr, op, ra, rb);
	} else {
		while (at < a->len && at < b->len && a->data[at] == b->data[at])
			at++;
		if (a->text && b->text) {
			excerpt(a, at, ea, sizeof(ea));
			excerpt(b, at, eb, sizeof(eb));
			snprintf(msg, sizeof(msg), "op %d %s: %s, A {%s} B {%s}",
				 nr, op, ra, ea, eb);
		} else {
			snprintf(msg, sizeof(msg),
				 "op %d %s: %s, data differs at byte %zu (A %zu bytes, B %zu bytes)",
				 nr, op, ra, at, a->len, b->len);
		}
	}
	c->rep->nr_op_diffs++;
	add_msg(c->rep, "%s", msg);
	if (c->opts.log)
		fprintf(c->opts.log, "fs_diff: DIVERGENCE %s\n", msg);
}

/* ---- final trees ---- */

struct link_ent {
	ino_t ino;
	dev_t dev;
	char *path;
};

struct link_table {
	struct link_ent *v;
	int n;
	int cap;
};

struct tree_ctx {
	const char *root[2];
	struct fsd_report *rep;
	int diffs;
	struct link_table links[2];
	char *buf[2];		/* FSD_CHUNK, also FSD_XATTR_MAX */
	char *xbuf[2];		/* FSD_XATTR_MAX */
};

static void tree_diff(struct tree_ctx *t, const char *fmt, ...)
	__printf(2, 3);

static void tree_diff(struct tree_ctx *t, const char *fmt, ...)
{
	char msg[FSD_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->diffs++;
	t->rep->nr_tree_diffs++;
	add_msg(t->rep, "tree %s", msg);
}

/*
 * Check the results of the same call on both sides: true if either failed,
 * which is a divergence unless both failed alike (say EACCES for non-root).
 */
static bool tree_failed(struct tree_ctx *t, const char *rel, const char *call,
			long ret_a, int err_a, long ret_b, int err_b)
{
	if (ret_a >= 0 && ret_b >= 0)
		return false;
	if (ret_a >= 0 || ret_b >= 0 || err_a != err_b)
		tree_diff(t, "%s: %s: A %s, B %s", *rel ? rel : ".", call,
			  ret_a < 0 ? errname(err_a) : "ok",
			  ret_b < 0 ? errname(err_b) : "ok");
	return true;
}

/* The first path seen for @st's inode, recording @rel if it is new. */
static const char *link_first(struct link_table *lt, const struct stat *st,
			      const char *rel)
{
	struct link_ent *v;
	int i;

	for (i = 0; i < lt->n; i++)
		if (lt->v[i].ino == st->st_ino && lt->v[i].dev == st->st_dev)
			return lt->v[i].path;
	if (lt->n == lt->cap) {
		v = realloc(lt->v, (lt->cap * 2 + 16) * sizeof(*v));
		if (!v)
			return NULL;
		lt->v = v;
		lt->cap = lt->cap * 2 + 16;
	}
	lt->v[lt->n].ino = st->st_ino;
	lt->v[lt->n].dev = st->st_dev;
	lt->v[lt->n].path = strdup(rel);
	lt->n++;
	return NULL;
}

static void cmp_content(struct tree_ctx *t, const char *rel, const char *pa,
			const char *pb)
{
	long long off = 0;
	int fa, fb, ea, eb;
	ssize_t la, lb;
	ssize_t i;

	fa = open(pa, O_RDONLY | O_NOFOLLOW);
	ea = errno;
	fb = open(pb, O_RDONLY | O_NOFOLLOW);
	eb = errno;
	if (tree_failed(t, rel, "open", fa, ea, fb, eb))
		goto out;
	for (;;) {
		la = pread(fa, t->buf[0], FSD_CHUNK, off);
		ea = errno;
		lb = pread(fb, t->buf[1], FSD_CHUNK, off);
		eb = errno;
		if (tree_failed(t, rel, "read", la, ea, lb, eb))
			break;
		for (i = 0; i < la && i < lb; i++)
			if (t->buf[0][i] != t->buf[1][i])
				break;
		if (i < la || i < lb) {
			tree_diff(t, "%s: content differs at byte %lld", rel,
				  off + i);
			break;
		}
		if (!la)
			break;
		off += la;
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
}

static void cmp_xattrs(struct tree_ctx *t, const char *rel, const char *pa,
		       const char *pb)
{
	char *na[FSD_XNAMES_MAX], *nb[FSD_XNAMES_MAX];
	int a, b, i = 0, j = 0, cmp, ea, eb;
	ssize_t la, lb;

	a = user_xattrs(pa, false, t->xbuf[0], na, FSD_XNAMES_MAX);
	ea = errno;
	b = user_xattrs(pb, false, t->xbuf[1], nb, FSD_XNAMES_MAX);
	eb = errno;
	if (tree_failed(t, rel, "llistxattr", a, ea, b, eb))
		return;
	while (i < a || j < b) {
		cmp = i == a ? 1 : j == b ? -1 : strcmp(na[i], nb[j]);
		if (cmp < 0) {
			tree_diff(t, "%s: xattr %s only in A", rel, na[i++]);
			continue;
		}
		if (cmp > 0) {
			tree_diff(t, "%s: xattr %s only in B", rel, nb[j++]);
			continue;
		}
		la = lgetxattr(pa, na[i], t->buf[0], FSD_CHUNK);
		lb = lgetxattr(pb, nb[j], t->buf[1], FSD_CHUNK);
		if (la != lb || (la > 0 && memcmp(t->buf[0], t->buf[1], la)))
			tree_diff(t, "%s: xattr %s differs (A %zd bytes, B %zd bytes)",
				  rel, na[i], la, lb);
		i++;
		j++;
	}
}

static void cmp_dir(struct tree_ctx *t, const char *rel);

static void cmp_entry(struct tree_ctx *t, const char *rel)
{
	char pa[PATH_MAX], pb[PATH_MAX];
	const char *fa, *fb;
	int ra, rb, ea, eb;
	struct stat a, b;
	ssize_t la, lb;

	join(pa, t->root[0], rel);
	join(pb, t->root[1], rel);
	ra = lstat(pa, &a);
	ea = errno;
	rb = lstat(pb, &b);
	eb = errno;
	if (tree_failed(t, rel, "lstat", ra, ea, rb, eb))
		return;
	if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT)) {
		tree_diff(t, "%s: type A %c, B %c", rel, type_char(a.st_mode),
			  type_char(b.st_mode));
		return;
	}
	if ((a.st_mode & 07777) != (b.st_mode & 07777))
		tree_diff(t, "%s: mode A %04o, B %04o", rel, a.st_mode & 07777,
			  b.st_mode & 07777);
	if (a.st_uid != b.st_uid || a.st_gid != b.st_gid)
		tree_diff(t, "%s: owner A %u:%u, B %u:%u", rel, a.st_uid,
			  a.st_gid, b.st_uid, b.st_gid);
	if (a.st_nlink != b.st_nlink)
		tree_diff(t, "%s: nlink A %lu, B %lu", rel,
			  (unsigned long)a.st_nlink, (unsigned long)b.st_nlink);
	if (!S_ISDIR(a.st_mode) && a.st_size != b.st_size)
		tree_diff(t, "%s: size A %lld, B %lld", rel,
			  (long long)a.st_size, (long long)b.st_size);

	/* hard links: the same first path for the inode on both sides */
	if (!S_ISDIR(a.st_mode) && (a.st_nlink > 1 || b.st_nlink > 1)) {
		fa = link_first(&t->links[0], &a, rel);
		fb = link_first(&t->links[1], &b, rel);
		if ((fa || fb) && (!fa || !fb || strcmp(fa, fb)))
			tree_diff(t, "%s: hard link of A %s, B %s", rel,
				  fa ? fa : "(none)", fb ? fb : "(none)");
	}

	if (S_ISREG(a.st_mode)) {
		cmp_content(t, rel, pa, pb);
	} else if (S_ISLNK(a.st_mode)) {
		la = readlink(pa, t->buf[0], FSD_CHUNK - 1);
		lb = readlink(pb, t->buf[1], FSD_CHUNK - 1);
		t->buf[0][la > 0 ? la : 0] = '\0';
		t->buf[1][lb > 0 ? lb : 0] = '\0';
		if (la != lb || strcmp(t->buf[0], t->buf[1]))
			tree_diff(t, "%s: symlink A -> %s, B -> %s", rel,
				  t->buf[0], t->buf[1]);
	}
	cmp_xattrs(t, rel, pa, pb);
	if (S_ISDIR(a.st_mode))
		cmp_dir(t, rel);
}

static void cmp_dir(struct tree_ctx *t, const char *rel)
{
	char pa[PATH_MAX], pb[PATH_MAX], child[PATH_MAX];
	struct dirent **ea = NULL, **eb = NULL;
	int na, nb, i = 0, j = 0, cmp, err_a, err_b;

	join(pa, t->root[0], rel);
	join(pb, t->root[1], rel);
	na = scandir(pa, &ea, NULL, cmp_dirent);
	err_a = errno;
	nb = scandir(pb, &eb, NULL, cmp_dirent);
	err_b = errno;
	if (tree_failed(t, rel, "scandir", na, err_a, nb, err_b))
		goto out;
	while (i < na || j < nb) {
		if (i < na && is_dot(ea[i]->d_name)) {
			i++;
			continue;
		}
		if (j < nb && is_dot(eb[j]->d_name)) {
			j++;
			continue;
		}
		cmp = i == na ? 1 : j == nb ? -1 :
		      strcmp(ea[i]->d_name, eb[j]->d_name);
		child_path(child, rel, cmp > 0 ? eb[j]->d_name : ea[i]->d_name);
		if (cmp < 0) {
			tree_diff(t, "%s: only in A", child);
			i++;
		} else if (cmp > 0) {
			tree_diff(t, "%s: only in B", child);
			j++;
		} else {
			cmp_entry(t, child);
			i++;
			j++;
		}
	}
out:
	for (i = 0; i < na; i++)
		free(ea[i]);
	for (j = 0; j < nb; j++)
		free(eb[j]);
	free(ea);
	free(eb);
}

int fsd_compare_trees(const char *dir_a, const char *dir_b,
		      struct fsd_report *rep)
{
	struct tree_ctx t = {
		.root = { dir_a, dir_b },
		.rep = rep,
	};
	int side, i;

	for (side = 0; side < 2; side++) {
		t.buf[side] = malloc(FSD_CHUNK);
		t.xbuf[side] = malloc(FSD_XATTR_MAX);
		if (!t.buf[side] || !t.xbuf[side]) {
			t.diffs = -1;
			goto out;
		}
	}
	cmp_dir(&t, "");
out:
	for (side = 0; side < 2; side++) {
		for (i = 0; i < t.links[side].n; i++)
			free(t.links[side].v[i].path);
		free(t.links[side].v);
		free(t.buf[side]);
		free(t.xbuf[side]);
	}
	if (t.diffs < 0)
		errno = ENOMEM;
	return t.diffs;
}

/* ---- the run ---- */

void fsd_inject_tree(const char *dir_b)
{
	char p[PATH_MAX];
	int fd;

	join(p, dir_b, FSD_INJECTED);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (write(fd, "injected\n", 9) != 9)
		fprintf(stderr, "fs_diff: cannot write %s\n", p);
	close(fd);
}

/* FNV-1a */
static void hash_str(unsigned long long *hash, const char *str)
{
	for (; *str; str++)
		*hash = (*hash ^ (unsigned char)*str) * 0x100000001b3ULL;
}

struct fsd_gen *fsd_gen_new(const struct fsd_opts *opts)
{
	struct fsd_ctx *c = calloc(1, sizeof(*c));
	int op;

	if (!c)
		return NULL;
	c->opts = *opts;
	/* the extended set only when asked for: older seeds stay the same */
	if (!opts->ext)
		c->opts.skip_ops |= ~(FSD_OP_BIT(FSD_OP_FIRST_EXT) - 1);
	if (c->opts.nr_cross > FSD_MAX_CROSS)
		c->opts.nr_cross = FSD_MAX_CROSS;
	c->rng = opts->seed;
	for (op = 0; op < FSD_OP_NR; op++)
		if (!(c->opts.skip_ops & FSD_OP_BIT(op)))
			c->total_weight += op_info[op].weight;
	if (!c->total_weight) {
		free(c);
		errno = EINVAL;
		return NULL;
	}
	return (struct fsd_gen *)c;
}

void fsd_gen_free(struct fsd_gen *g)
{
	free(g);
}

void fsd_gen_next(struct fsd_gen *g, struct fsd_opdesc *d)
{
	gen_op((struct fsd_ctx *)g, d);
}

int fsd_apply_op(struct fsd_gen *g, const char *dir_a, const char *dir_b,
		 const struct fsd_opdesc *d, int nr, enum fsd_inject inject,
		 struct fsd_report *rep, char *a_res, char *b_res)
{
	struct fsd_ctx *c = (struct fsd_ctx *)g;
	char op[160], ra[64], p[PATH_MAX];
	bool diverged;

	c->root[0] = dir_a;
	c->root[1] = dir_b;
	c->rep = rep;
	apply(c, 0, d, &c->res[0]);
	apply(c, 1, d, &c->res[1]);
	if (inject == FSD_INJECT_RESULT)
		c->res[1].ret++;
	if (inject == FSD_INJECT_TREE)
		fsd_inject_tree(dir_b);
	if (inject == FSD_INJECT_MODE) {
		join(p, dir_b, d->path);
		chmod(p, 0);
	}

	rep->nr_ops++;
	rep->op[d->kind].run++;
	if (c->res[0].ret >= 0) {
		rep->nr_ok++;
		rep->op[d->kind].ok++;
	} else {
		rep->nr_failed++;
		if (c->res[0].err >= 0 && c->res[0].err < FSD_MAX_ERRNO)
			rep->errnos[c->res[0].err]++;
	}
	if (c->opts.log) {
		fsd_op_str(d, op, sizeof(op));
		res_str(&c->res[0], ra, sizeof(ra));
		fprintf(c->opts.log, "fs_diff: op %d %s = %s\n", nr, op, ra);
	}
	if (a_res)
		res_str(&c->res[0], a_res, 64);
	if (b_res)
		res_str(&c->res[1], b_res, 64);
	/* a side that contradicts itself is wrong even if both agree */
	diverged = !res_equal(&c->res[0], &c->res[1]) ||
		   c->res[0].stage == STAGE_SELF;
	if (diverged)
		report_op(c, nr, d);
	return diverged;
}

int fsd_run_opts(const char *dir_a, const char *dir_b,
		 const struct fsd_opts *opts, struct fsd_report *rep)
{
	struct fsd_opdesc d;
	struct fsd_gen *g;
	struct stat st;
	char op[160];
	int nr, ret;

	memset(rep, 0, sizeof(*rep));
	rep->seed = opts->seed;
	if (stat(dir_a, &st) || !S_ISDIR(st.st_mode) ||
	    stat(dir_b, &st) || !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	g = fsd_gen_new(opts);
	if (!g)
		return -1;
	rep->seq_hash = 0xcbf29ce484222325ULL;
	for (nr = 1; nr <= opts->nr_ops; nr++) {
		fsd_gen_next(g, &d);
		fsd_op_str(&d, op, sizeof(op));
		hash_str(&rep->seq_hash, op);
		fsd_apply_op(g, dir_a, dir_b, &d, nr,
			     nr == opts->inject_op ? opts->inject :
						     FSD_INJECT_NONE,
			     rep, NULL, NULL);
	}
	fsd_gen_free(g);

	ret = fsd_compare_trees(dir_a, dir_b, rep);
	if (ret < 0)
		return -1;
	if (opts->log && ret)
		fprintf(opts->log, "fs_diff: %d divergences between the final trees\n",
			ret);
	return rep->nr_diffs;
}

int fsd_run(const char *dir_a, const char *dir_b, unsigned int seed,
	    int nr_ops, struct fsd_report *rep)
{
	struct fsd_opts opts = {
		.seed = seed,
		.nr_ops = nr_ops,
	};

	return fsd_run_opts(dir_a, dir_b, &opts, rep);
}

void fsd_print_report(FILE *f, const struct fsd_report *rep)
{
	int op, i;

	fprintf(f, "fs_diff: seed %u (sequence %016llx): %d ops (%d ok, %d failed), ",
		rep->seed, rep->seq_hash, rep->nr_ops, rep->nr_ok,
		rep->nr_failed);
	fprintf(f, "%d divergences (%d ops, %d in the final trees)\n",
		rep->nr_diffs, rep->nr_op_diffs, rep->nr_tree_diffs);
	fprintf(f, "fs_diff:");
	for (op = 0; op < FSD_OP_NR; op++)
		fprintf(f, " %s %d/%d", op_info[op].name, rep->op[op].ok,
			rep->op[op].run);
	fprintf(f, "\n");
	for (i = 0; i < rep->nr_msgs; i++)
		fprintf(f, "fs_diff: %s\n", rep->msgs[i]);
	if (rep->nr_diffs > rep->nr_msgs)
		fprintf(f, "fs_diff: ... and %d more\n",
			rep->nr_diffs - rep->nr_msgs);
}

static bool rm_keep_top;

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	if (rm_keep_top && !ftw->level)
		return 0;
	return remove(path) ? -1 : 0;
}

int fsd_rm_rf(const char *path, bool keep_top)
{
	rm_keep_top = keep_top;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
