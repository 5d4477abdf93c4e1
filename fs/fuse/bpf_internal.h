/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse-bpf internals shared by the bpf_*.c files.
 */
#ifndef _FS_FUSE_BPF_INTERNAL_H
#define _FS_FUSE_BPF_INTERNAL_H

#include "fuse_i.h"

#include <linux/fuse_bpf.h>

#define FUSE_BPF_MAX_IN_ARGS	3
#define FUSE_BPF_MAX_OUT_ARGS	2

/* struct fuse_bpf_buf flags */
#define FUSE_BPF_BUF_OWNED	BIT(0)	/* data is ours, kvfree()d at the end */
#define FUSE_BPF_BUF_CHANGED	BIT(1)	/* a filter got it writable */
#define FUSE_BPF_BUF_STRING	BIT(2)	/* a string, no NUL inside */
#define FUSE_BPF_BUF_NAME	BIT(3)	/* a file name */

/*
 * The index of an operation's callbacks (linux/fuse_bpf_ops.h) in struct
 * fuse_bpf_prefilters and fuse_bpf_postfilters, as sched_ext's SCX_OP_IDX().
 */
#define FUSE_BPF_OP_IDX(op)						\
	(offsetof(struct fuse_bpf_prefilters, op) / sizeof(void *))
#define FUSE_BPF_NR_OPS							\
	(offsetof(struct fuse_bpf_prefilters, fuse_fd) / sizeof(void *))

/**
 * struct fuse_bpf_args - the FUSE view of an operation on a backed node
 * @meta: node id, opcode, caller; @meta.error is the result of the
 *	backing call, for the postfilter and finalize
 * @in_numargs: number of @in_args
 * @out_numargs: number of @out_args
 * @in_args: the in-arguments, as the FUSE request would carry them, but
 *	names and strings without their NUL
 * @out_args: the out-arguments, as the FUSE reply would carry them
 * @post: a postfilter (BPF or the server's) is to see the out-arguments
 * @flags: the FUSE_BPF_BUF_* flags of the arguments, or-ed: as they were
 *	added, and after each filter and each server's reply. A flag
 *	clear here is clear in every argument (one set may have been
 *	cleared since), so the common case needs no look at each
 *
 * The backing call reads its parameters from @in_args, so an edit a
 * prefilter makes there is what the backing file system sees.
 */
struct fuse_bpf_args {
	struct fuse_bpf_meta meta;
	unsigned int in_numargs;
	unsigned int out_numargs;
	struct fuse_bpf_buf in_args[FUSE_BPF_MAX_IN_ARGS];
	struct fuse_bpf_buf out_args[FUSE_BPF_MAX_OUT_ARGS];
	u32 flags;
	bool post;
};

/**
 * struct fuse_bpf_op - one operation of the fuse-bpf pipeline
 * @opcode: the FUSE opcode the operation corresponds to
 * @filter: the index of the operation's filters, FUSE_BPF_OP_IDX()
 * @creates: the backing call creates an object, which is to belong to the
 *	caller: it runs with the caller's fsuid and fsgid
 * @own_creds: the backing call switches to the backing's credentials
 *	itself (the passthrough read and write helpers do, after what they
 *	do as the caller)
 * @in_off: offset in @io of the operation's fixed in-argument (a fuse_*_in)
 * @in_size: its size, 0 if there is none; it becomes the first in-argument
 * @out_off: offset in @io of the fixed out-argument (a fuse_*_out)
 * @out_size: its size, 0 if there is none
 * @init_in: add the variable in-arguments (names, values) from @io
 * @init_out: set up further out-arguments; @fa->post tells whether a
 *	postfilter is to see them. It runs as the caller, after the
 *	prefilter: the place to check what the prefilter changed against
 *	the caller, and to do what the caller's identity decides
 * @init_post: fill the out-arguments from the backing call's result for
 *	the postfilter (when the operation keeps its result elsewhere)
 * @backing: do the operation on the backing object; runs with the
 *	credentials of the backing; returns 0 or a negative errno
 * @finalize: bring the fuse node up to date and compute the result of
 *	the VFS call from @fa->meta.error, releasing what the backing call
 *	acquired when that is an error (a postfilter may have set it); may
 *	be NULL (the result is @fa->meta.error)
 * @direct: optional; what @backing and @finalize do together when no
 *	postfilter is to run, from @io alone: the operation's result. It
 *	runs with the credentials @backing runs with, also after a
 *	prefilter that let the operation through, so only an operation
 *	whose @init_in and @init_out do nothing unless @fa->post is set,
 *	and none of whose fields a prefilter may change needs checking
 *	against the caller (no @init_out check), may have one
 *
 * Every operation runs initialize_in, prefilter, initialize_out, backing,
 * postfilter, finalize, in fuse_bpf_run(). @io is the operation's own
 * structure holding the VFS arguments and the FUSE argument structures.
 * On a node without a prefilter for the operation, an operation with
 * @direct runs only that, and builds no arguments for filters; after a
 * prefilter that let it through unchanged but for its fixed in-argument,
 * it runs @direct too.
 */
struct fuse_bpf_op {
	u32 opcode;
	u8 filter;
	bool creates;
	bool own_creds;
	u16 in_off;
	u16 in_size;
	u16 out_off;
	u16 out_size;
	int (*init_in)(struct fuse_bpf_args *fa, void *io);
	int (*init_out)(struct fuse_bpf_args *fa, void *io);
	int (*backing)(struct fuse_bpf_args *fa, void *io);
	void (*init_post)(struct fuse_bpf_args *fa, void *io);
	int (*finalize)(struct fuse_bpf_args *fa, void *io);
	int (*direct)(void *io);
};

/* The fixed in- and out-argument of an operation, members of its @io. */
#define FUSE_BPF_IN(type, member)				\
	.in_off = offsetof(type, member),			\
	.in_size = sizeof_field(type, member)
#define FUSE_BPF_OUT(type, member)				\
	.out_off = offsetof(type, member),			\
	.out_size = sizeof_field(type, member)

bool fuse_bpf_run_filtered(const struct fuse_bpf_op *op, struct inode *inode,
			   void *io, int *res);
int fuse_bpf_run_direct(const struct fuse_bpf_op *op, struct inode *inode,
			void *io);
int fuse_bpf_run_prefilter(const struct fuse_bpf_op *op, struct inode *inode,
			   void *io);

/*
 * A variable in-argument: @max_size bounds what a prefilter may make of
 * it, the kernel keeps a NUL after it.
 */
static inline void fuse_bpf_buf_arg(struct fuse_bpf_args *fa, void *value,
				    u32 size, u32 max_size, u32 flags)
{
	struct fuse_bpf_buf *buf;

	if (WARN_ON_ONCE(fa->in_numargs >= FUSE_BPF_MAX_IN_ARGS))
		return;
	buf = &fa->in_args[fa->in_numargs++];
	buf->ro.data = value;
	buf->ro.size = size;
	buf->max_size = max_size;
	buf->flags = flags;
	fa->flags |= flags;
}

/* A fixed in-argument, which prefilters reach as a structure. */
static inline void fuse_bpf_in_arg(struct fuse_bpf_args *fa, void *value,
				   u32 size)
{
	fuse_bpf_buf_arg(fa, value, size, 0, 0);
}

/*
 * An out-argument. A variable one (@max_size set) must be the last: a
 * postfilter may resize it up to @max_size, and the server's userspace
 * postfilter may reply with another size.
 */
static inline void fuse_bpf_buf_out_arg(struct fuse_bpf_args *fa, void *value,
					u32 size, u32 max_size, u32 flags)
{
	struct fuse_bpf_buf *buf;

	if (WARN_ON_ONCE(fa->out_numargs >= FUSE_BPF_MAX_OUT_ARGS))
		return;
	buf = &fa->out_args[fa->out_numargs++];
	buf->ro.data = value;
	buf->ro.size = size;
	buf->max_size = max_size;
	buf->flags = flags;
	fa->flags |= flags;
}

static inline void fuse_bpf_out_arg(struct fuse_bpf_args *fa, void *value,
				    u32 size)
{
	fuse_bpf_buf_out_arg(fa, value, size, 0, 0);
}

/* A file name; the FUSE request would carry it with its NUL. */
static inline void fuse_bpf_name_arg(struct fuse_bpf_args *fa,
				     const struct qstr *name)
{
	fuse_bpf_buf_arg(fa, (void *)name->name, name->len, NAME_MAX,
			 FUSE_BPF_BUF_STRING | FUSE_BPF_BUF_NAME);
}

static inline struct path *fuse_bpf_backing_path(struct inode *inode)
{
	return &get_fuse_inode(inode)->backing_path;
}

static inline struct inode *fuse_bpf_backing_inode(struct inode *inode)
{
	return d_inode(get_fuse_inode(inode)->backing_path.dentry);
}

/*
 * What ends the attributes a node copied early: a write through the mount,
 * a server's FUSE_NOTIFY_INVAL_INODE. Not a read, which sets the atime.
 */
#define FUSE_BPF_CACHE_INVAL	(STATX_BASIC_STATS & ~STATX_ATIME)

/*
 * backing_timeout=: whether a stat may take the attributes
 * fuse_bpf_copy_attr() last copied, as FUSE's attribute cache serves one.
 * Not if anything else changed them since (a server's reply to LOOKUP
 * sets a server-named node's).
 */
static inline bool fuse_bpf_attr_cached(struct inode *inode)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	bool cached;

	cached = READ_ONCE(fi->backing_timeout) &&
		 time_before64(get_jiffies_64(),
			       READ_ONCE(fi->backing_attr_time)) &&
		 READ_ONCE(fi->attr_version) ==
		 READ_ONCE(fi->backing_attr_version) &&
		 !(READ_ONCE(fi->inval_mask) & FUSE_BPF_CACHE_INVAL);
	/* Pairs with smp_wmb() in fuse_bpf_copy_attr(). */
	smp_rmb();
	return cached;
}

/* Whether the node has filters: each operation on it may run a program. */
static inline bool fuse_bpf_has_filter(struct inode *inode)
{
	return rcu_access_pointer(get_fuse_inode(inode)->bpf_filter);
}

/* bpf_ops.c */
bool __fuse_bpf_has_callback(struct inode *inode, unsigned int filter_op);

/* Whether the node has a prefilter for @filter_op, so that it can act. */
static inline bool fuse_bpf_has_callback(struct inode *inode,
					 unsigned int filter_op)
{
	return fuse_bpf_has_filter(inode) &&
	       __fuse_bpf_has_callback(inode, filter_op);
}

/**
 * fuse_bpf_run() - run an operation on a backed node
 * @op: the operation
 * @inode: the fuse inode the operation is on; it must be backed
 * @io: the operation's arguments, passed to @op's hooks
 * @res: the result of the operation when fuse-bpf served it
 *
 * A node without filters, or whose filters have no prefilter for @op,
 * runs no BPF program: then an operation with a @direct hook runs only
 * that (fuse_bpf_run_direct()), the rest the whole pipeline
 * (fuse_bpf_run_filtered(), which also ends in the direct hook after a
 * prefilter that let the operation through as it came).
 *
 * Return: true when fuse-bpf served the operation (the result is in
 * *@res), false when the operation must take the normal FUSE path to the
 * server (a prefilter returned %FUSE_BPF_USER).
 */
static __always_inline bool fuse_bpf_run(const struct fuse_bpf_op *op,
					 struct inode *inode, void *io,
					 int *res)
{
	if (op->direct && !fuse_bpf_has_callback(inode, op->filter)) {
		*res = fuse_bpf_run_direct(op, inode, io);
		return true;
	}
	return fuse_bpf_run_filtered(op, inode, io, res);
}

bool fuse_bpf_call_filter(struct inode *inode, unsigned int filter_op,
			  bool post, struct fuse_bpf_args *fa, int *res);
bool fuse_bpf_same_filter(struct inode *a, struct inode *b);
int fuse_bpf_check_fixed(unsigned int filter_op, bool post, const void *old,
			 const void *new, u32 size);
void fuse_bpf_set_filter(struct inode *inode, struct fuse_bpf_filter *filter);
struct fuse_bpf_filter *fuse_bpf_get_filter(struct inode *inode);
struct fuse_bpf_filter *fuse_bpf_filter_get(struct fuse_bpf_filter *filter);
void fuse_bpf_filter_put(struct fuse_bpf_filter *filter);
struct fuse_bpf_filter *fuse_bpf_ops_lookup(struct fuse_conn *fc, u64 id);
struct fuse_bpf_filter *fuse_bpf_ops_root(struct fuse_conn *fc, u32 id);
int fuse_bpf_conn_init(struct fuse_conn *fc);

/* bpf_dir.c */
void fuse_bpf_entry_valid(struct dentry *entry);

/* bpf_node.c */
struct inode *fuse_bpf_iget(struct inode *dir, const struct path *path);
void fuse_bpf_copy_attr(struct inode *inode);
void fuse_bpf_copy_size(struct inode *inode);
void fuse_bpf_copy_times(struct inode *inode, struct inode *backing);
void fuse_bpf_refresh(struct inode *inode);
bool fuse_bpf_attr_stale(struct inode *inode, struct inode *backing);
void fuse_bpf_stat_to_attr(const struct kstat *stat, struct fuse_attr *attr);

#endif /* _FS_FUSE_BPF_INTERNAL_H */
