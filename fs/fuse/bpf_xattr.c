// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: extended attributes of backed nodes.
 */

#include "bpf_internal.h"

#include <linux/mount.h>
#include <linux/xattr.h>

struct fuse_bpf_xattr_io {
	union {
		struct fuse_getxattr_in get;
		struct fuse_setxattr_in set;
	} in;
	struct inode *inode;
	const char *name;
	void *value;		/* get, list */
	const void *cvalue;	/* set */
	ssize_t size;		/* get, list: the result */
};

/* The in-arguments in the order of the FUSE request. */
static int fuse_bpf_xattr_init_in(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_xattr_io *io = data;

	if (fa->meta.opcode != FUSE_LISTXATTR)
		fuse_bpf_buf_arg(fa, (void *)io->name, strlen(io->name),
				 XATTR_NAME_MAX, FUSE_BPF_BUF_STRING);
	if (fa->meta.opcode == FUSE_SETXATTR)
		fuse_bpf_buf_arg(fa, (void *)io->cvalue, io->in.set.size,
				 XATTR_SIZE_MAX, 0);
	return 0;
}

static int fuse_bpf_xattr_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_xattr_io *io = data;
	struct path *path = fuse_bpf_backing_path(io->inode);
	struct mnt_idmap *idmap = mnt_idmap(path->mnt);
	int err;

	switch (fa->meta.opcode) {
	case FUSE_GETXATTR:
		io->size = vfs_getxattr(idmap, path->dentry,
					fa->in_args[1].ro.data, io->value,
					io->in.get.size);
		return io->size < 0 ? io->size : 0;
	case FUSE_LISTXATTR:
		io->size = vfs_listxattr(path->dentry, io->value,
					 io->in.get.size);
		return io->size < 0 ? io->size : 0;
	}

	err = mnt_want_write(path->mnt);
	if (err)
		return err;
	if (fa->meta.opcode == FUSE_SETXATTR)
		err = vfs_setxattr(idmap, path->dentry, fa->in_args[1].ro.data,
				   fa->in_args[2].ro.data, fa->in_args[2].ro.size,
				   io->in.set.flags);
	else
		err = vfs_removexattr(idmap, path->dentry,
				      fa->in_args[0].ro.data);
	mnt_drop_write(path->mnt);
	return err;
}

static int fuse_bpf_xattr_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_xattr_io *io = data;

	if (fa->meta.opcode == FUSE_SETXATTR || fa->meta.opcode == FUSE_REMOVEXATTR)
		fuse_bpf_copy_attr(io->inode);
	return fa->meta.error;
}

static const struct fuse_bpf_op fuse_bpf_getxattr_op = {
	.opcode = FUSE_GETXATTR,
	.filter = FUSE_BPF_F_GETXATTR,
	FUSE_BPF_IN(struct fuse_bpf_xattr_io, in.get),
	.init_in = fuse_bpf_xattr_init_in,
	.backing = fuse_bpf_xattr_backing,
	.finalize = fuse_bpf_xattr_finalize,
};

static const struct fuse_bpf_op fuse_bpf_listxattr_op = {
	.opcode = FUSE_LISTXATTR,
	.filter = FUSE_BPF_F_LISTXATTR,
	FUSE_BPF_IN(struct fuse_bpf_xattr_io, in.get),
	.init_in = fuse_bpf_xattr_init_in,
	.backing = fuse_bpf_xattr_backing,
	.finalize = fuse_bpf_xattr_finalize,
};

static const struct fuse_bpf_op fuse_bpf_setxattr_op = {
	.opcode = FUSE_SETXATTR,
	.filter = FUSE_BPF_F_SETXATTR,
	FUSE_BPF_IN(struct fuse_bpf_xattr_io, in.set),
	.init_in = fuse_bpf_xattr_init_in,
	.backing = fuse_bpf_xattr_backing,
	.finalize = fuse_bpf_xattr_finalize,
};

static const struct fuse_bpf_op fuse_bpf_removexattr_op = {
	.opcode = FUSE_REMOVEXATTR,
	.filter = FUSE_BPF_F_REMOVEXATTR,
	.init_in = fuse_bpf_xattr_init_in,
	.backing = fuse_bpf_xattr_backing,
	.finalize = fuse_bpf_xattr_finalize,
};

bool fuse_bpf_getxattr(ssize_t *res, struct inode *inode, const char *name,
		       void *value, size_t size)
{
	struct fuse_bpf_xattr_io io = {
		.in.get.size = size,
		.inode = inode,
		.name = name,
		.value = value,
	};
	int err;

	if (!fuse_bpf_inode_backed(inode))
		return false;
	if (!fuse_bpf_run(&fuse_bpf_getxattr_op, inode, &io, &err))
		return false;
	*res = err ?: io.size;
	return true;
}

bool fuse_bpf_listxattr(ssize_t *res, struct inode *inode, char *list,
			size_t size)
{
	struct fuse_bpf_xattr_io io = {
		.in.get.size = size,
		.inode = inode,
		.value = list,
	};
	int err;

	if (!fuse_bpf_inode_backed(inode))
		return false;
	if (!fuse_bpf_run(&fuse_bpf_listxattr_op, inode, &io, &err))
		return false;
	*res = err ?: io.size;
	return true;
}

bool fuse_bpf_setxattr(int *err, struct inode *inode, const char *name,
		       const void *value, size_t size, int flags)
{
	struct fuse_bpf_xattr_io io = {
		.in.set = { .size = size, .flags = flags },
		.inode = inode,
		.name = name,
		.cvalue = value,
	};

	if (!fuse_bpf_inode_backed(inode))
		return false;
	return fuse_bpf_run(value ? &fuse_bpf_setxattr_op :
				    &fuse_bpf_removexattr_op,
			    inode, &io, err);
}
