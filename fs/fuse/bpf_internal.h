/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse-bpf internals shared by the bpf_*.c files.
 */
#ifndef _FS_FUSE_BPF_INTERNAL_H
#define _FS_FUSE_BPF_INTERNAL_H

#include "fuse_i.h"

#define FUSE_BPF_MAX_IN_ARGS	3
#define FUSE_BPF_MAX_OUT_ARGS	2

/**
 * struct fuse_bpf_arg - one argument of a fuse-bpf operation
 * @value: the argument, a FUSE protocol structure or a buffer
 * @size: its size in bytes
 */
struct fuse_bpf_arg {
	void *value;
	u32 size;
};

/**
 * struct fuse_bpf_args - the FUSE view of an operation on a backed node
 * @nodeid: node id of the inode the operation is on
 * @opcode: FUSE opcode
 * @error: result of the backing call, for the postfilter and finalize
 * @in_numargs: number of @in_args
 * @out_numargs: number of @out_args
 * @in_args: the in-arguments, as the FUSE request would carry them
 * @out_args: the out-arguments, as the FUSE reply would carry them
 *
 * The backing call reads its parameters from @in_args, so an edit a
 * prefilter makes there is what the backing file system sees.
 */
struct fuse_bpf_args {
	u64 nodeid;
	u32 opcode;
	int error;
	unsigned int in_numargs;
	unsigned int out_numargs;
	struct fuse_bpf_arg in_args[FUSE_BPF_MAX_IN_ARGS];
	struct fuse_bpf_arg out_args[FUSE_BPF_MAX_OUT_ARGS];
};

/**
 * struct fuse_bpf_op - one operation of the fuse-bpf pipeline
 * @opcode: the FUSE opcode the operation corresponds to
 * @in_off: offset in @io of the operation's fixed in-argument (a fuse_*_in)
 * @in_size: its size, 0 if there is none; it becomes the first in-argument
 * @out_off: offset in @io of the fixed out-argument (a fuse_*_out)
 * @out_size: its size, 0 if there is none
 * @init_in: add the variable in-arguments (names, values) from @io
 * @init_out: set up further out-arguments
 * @backing: do the operation on the backing object; runs with the
 *	credentials of the backing; returns 0 or a negative errno
 * @finalize: bring the fuse node up to date and compute the result of
 *	the VFS call from @fa->error; may be NULL (the result is @fa->error)
 *
 * Every operation runs initialize_in, prefilter, initialize_out, backing,
 * postfilter, finalize, in fuse_bpf_run(). @io is the operation's own
 * structure holding the VFS arguments and the FUSE argument structures.
 */
struct fuse_bpf_op {
	u32 opcode;
	u16 in_off;
	u16 in_size;
	u16 out_off;
	u16 out_size;
	int (*init_in)(struct fuse_bpf_args *fa, void *io);
	int (*init_out)(struct fuse_bpf_args *fa, void *io);
	int (*backing)(struct fuse_bpf_args *fa, void *io);
	int (*finalize)(struct fuse_bpf_args *fa, void *io);
};

/* The fixed in- and out-argument of an operation, members of its @io. */
#define FUSE_BPF_IN(type, member)				\
	.in_off = offsetof(type, member),			\
	.in_size = sizeof_field(type, member)
#define FUSE_BPF_OUT(type, member)				\
	.out_off = offsetof(type, member),			\
	.out_size = sizeof_field(type, member)

bool fuse_bpf_run(const struct fuse_bpf_op *op, struct inode *inode,
		  void *io, int *res);

static inline void fuse_bpf_in_arg(struct fuse_bpf_args *fa, void *value,
				   u32 size)
{
	if (WARN_ON_ONCE(fa->in_numargs >= FUSE_BPF_MAX_IN_ARGS))
		return;
	fa->in_args[fa->in_numargs].value = value;
	fa->in_args[fa->in_numargs++].size = size;
}

static inline void fuse_bpf_out_arg(struct fuse_bpf_args *fa, void *value,
				    u32 size)
{
	if (WARN_ON_ONCE(fa->out_numargs >= FUSE_BPF_MAX_OUT_ARGS))
		return;
	fa->out_args[fa->out_numargs].value = value;
	fa->out_args[fa->out_numargs++].size = size;
}

/* A name as the FUSE request carries it: with its terminating NUL. */
static inline void fuse_bpf_name_arg(struct fuse_bpf_args *fa,
				     const struct qstr *name)
{
	fuse_bpf_in_arg(fa, (void *)name->name, name->len + 1);
}

static inline struct path *fuse_bpf_backing_path(struct inode *inode)
{
	return &get_fuse_inode(inode)->backing_path;
}

static inline struct inode *fuse_bpf_backing_inode(struct inode *inode)
{
	return d_inode(get_fuse_inode(inode)->backing_path.dentry);
}

/* bpf_dir.c */
void fuse_bpf_entry_valid(struct dentry *entry);

/* bpf_node.c */
struct inode *fuse_bpf_iget(struct super_block *sb, const struct path *path,
			    const struct cred *cred);
void fuse_bpf_copy_attr(struct inode *inode);

/* bpf_file.c */
struct file *fuse_bpf_backing_file(struct file *file);

#endif /* _FS_FUSE_BPF_INTERNAL_H */
