// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: extended attributes of backed nodes.
 */

#include "bpf_internal.h"

#include <linux/mount.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
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

/*
 * For a postfilter, the value or list is read whole into a buffer of our
 * own, even when the caller only asks for its size: what the postfilter
 * leaves there is what the caller gets, or the size it is told.
 */
static int fuse_bpf_xattr_init_out(struct fuse_bpf_args *fa, void *data)
{
	void *buf;

	if (!fa->post)
		return 0;
	static_assert(XATTR_SIZE_MAX == XATTR_LIST_MAX);
	buf = kvmalloc(XATTR_SIZE_MAX + 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	fuse_bpf_buf_out_arg(fa, buf, 0, XATTR_SIZE_MAX, FUSE_BPF_BUF_OWNED);
	return 0;
}

/*
 * POSIX ACLs are no xattrs to the VFS any more: a backing file system
 * reads and sets them through vfs_get_acl()/vfs_set_acl(), which fuse-bpf
 * calls with the xattr form that fuse_get_acl() and fuse_set_acl() use.
 */
static ssize_t fuse_bpf_get_acl(struct inode *inode, const struct path *path,
				const char *name, void *value, size_t size)
{
	struct posix_acl *acl;
	ssize_t ret;

	acl = vfs_get_acl(mnt_idmap(path->mnt), path->dentry, name);
	if (IS_ERR_OR_NULL(acl))
		return acl ? PTR_ERR(acl) : -ENODATA;
	ret = posix_acl_to_xattr(get_fuse_conn(inode)->user_ns, acl,
				 size ? value : NULL, size);
	posix_acl_release(acl);
	return ret;
}

static int fuse_bpf_set_acl_backing(struct inode *inode,
				    const struct path *path, const char *name,
				    const void *value, size_t size)
{
	struct mnt_idmap *idmap = mnt_idmap(path->mnt);
	struct posix_acl *acl;
	int err;

	if (!value)
		return vfs_remove_acl(idmap, path->dentry, name);
	acl = posix_acl_from_xattr(get_fuse_conn(inode)->user_ns, value,
				   size);
	if (IS_ERR(acl))
		return PTR_ERR(acl);
	err = vfs_set_acl(idmap, path->dentry, name, acl);
	posix_acl_release(acl);
	return err;
}

/* getxattr, listxattr */

/* The value of @name, or with no name the list, from the backing inode. */
static ssize_t fuse_bpf_xattr_read(struct fuse_bpf_xattr_io *io,
				   const char *name, void *value, size_t size)
{
	struct path *path = fuse_bpf_backing_path(io->inode);

	if (!name)
		return vfs_listxattr(path->dentry, value, size);
	if (is_posix_acl_xattr(name))
		return fuse_bpf_get_acl(io->inode, path, name, value, size);
	return vfs_getxattr(mnt_idmap(path->mnt), path->dentry, name, value,
			    size);
}

static int fuse_bpf_xattr_read_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_xattr_io *io = data;
	const char *name = NULL;
	void *value = io->value;
	size_t size = io->in.get.size;

	if (fa->post) {
		value = fa->out_args[0].ro.data;
		size = fa->out_args[0].max_size;
	}
	if (fa->meta.opcode == FUSE_GETXATTR)
		name = fa->in_args[1].ro.data;
	io->size = fuse_bpf_xattr_read(io, name, value, size);
	if (io->size < 0)
		return io->size;
	if (fa->post)
		fa->out_args[0].ro.size = io->size;
	return 0;
}

/* Straight into the caller's buffer (for a listxattr, io->name is NULL). */
static int fuse_bpf_xattr_read_direct(void *data)
{
	struct fuse_bpf_xattr_io *io = data;

	io->size = fuse_bpf_xattr_read(io, io->name, io->value,
				       io->in.get.size);
	return io->size < 0 ? io->size : 0;
}

/* setxattr, removexattr */
static int fuse_bpf_xattr_write_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_xattr_io *io = data;
	struct path *path = fuse_bpf_backing_path(io->inode);
	struct mnt_idmap *idmap = mnt_idmap(path->mnt);
	int err;

	err = mnt_want_write(path->mnt);
	if (err)
		return err;
	if (fa->meta.opcode == FUSE_SETXATTR &&
	    is_posix_acl_xattr(fa->in_args[1].ro.data))
		err = fuse_bpf_set_acl_backing(io->inode, path,
					       fa->in_args[1].ro.data,
					       fa->in_args[2].ro.data,
					       fa->in_args[2].ro.size);
	else if (fa->meta.opcode == FUSE_SETXATTR)
		err = vfs_setxattr(idmap, path->dentry, fa->in_args[1].ro.data,
				   fa->in_args[2].ro.data, fa->in_args[2].ro.size,
				   io->in.set.flags);
	else if (is_posix_acl_xattr(fa->in_args[0].ro.data))
		err = fuse_bpf_set_acl_backing(io->inode, path,
					       fa->in_args[0].ro.data, NULL, 0);
	else
		err = vfs_removexattr(idmap, path->dentry,
				      fa->in_args[0].ro.data);
	mnt_drop_write(path->mnt);
	return err;
}

/* What a postfilter left is the value or list the caller gets. */
static int fuse_bpf_xattr_read_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_xattr_io *io = data;
	const struct fuse_bpf_rdonly_buf *buf = &fa->out_args[0].ro;
	const char *list = buf->data;

	if (fa->meta.error || !fa->post)
		return fa->meta.error;
	if (fa->meta.opcode == FUSE_LISTXATTR && buf->size &&
	    list[buf->size - 1])
		return -EIO;
	if (io->in.get.size) {
		if (buf->size > io->in.get.size)
			return -ERANGE;
		memcpy(io->value, buf->data, buf->size);
	}
	io->size = buf->size;
	return 0;
}

static int fuse_bpf_xattr_write_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_xattr_io *io = data;

	if (!fa->meta.error)
		fuse_bpf_copy_attr(io->inode);
	return fa->meta.error;
}

static const struct fuse_bpf_op fuse_bpf_getxattr_op = {
	.opcode = FUSE_GETXATTR,
	.filter = FUSE_BPF_OP_IDX(getxattr),
	FUSE_BPF_IN(struct fuse_bpf_xattr_io, in.get),
	.init_in = fuse_bpf_xattr_init_in,
	.init_out = fuse_bpf_xattr_init_out,
	.backing = fuse_bpf_xattr_read_backing,
	.finalize = fuse_bpf_xattr_read_finalize,
	.direct = fuse_bpf_xattr_read_direct,
};

static const struct fuse_bpf_op fuse_bpf_listxattr_op = {
	.opcode = FUSE_LISTXATTR,
	.filter = FUSE_BPF_OP_IDX(listxattr),
	FUSE_BPF_IN(struct fuse_bpf_xattr_io, in.get),
	.init_in = fuse_bpf_xattr_init_in,
	.init_out = fuse_bpf_xattr_init_out,
	.backing = fuse_bpf_xattr_read_backing,
	.finalize = fuse_bpf_xattr_read_finalize,
	.direct = fuse_bpf_xattr_read_direct,
};

static const struct fuse_bpf_op fuse_bpf_setxattr_op = {
	.opcode = FUSE_SETXATTR,
	.filter = FUSE_BPF_OP_IDX(setxattr),
	FUSE_BPF_IN(struct fuse_bpf_xattr_io, in.set),
	.init_in = fuse_bpf_xattr_init_in,
	.backing = fuse_bpf_xattr_write_backing,
	.finalize = fuse_bpf_xattr_write_finalize,
};

static const struct fuse_bpf_op fuse_bpf_removexattr_op = {
	.opcode = FUSE_REMOVEXATTR,
	.filter = FUSE_BPF_OP_IDX(removexattr),
	.init_in = fuse_bpf_xattr_init_in,
	.backing = fuse_bpf_xattr_write_backing,
	.finalize = fuse_bpf_xattr_write_finalize,
};

bool __fuse_bpf_getxattr(ssize_t *res, struct inode *inode, const char *name,
			 void *value, size_t size)
{
	struct fuse_bpf_xattr_io io = {
		.in.get.size = size,
		.inode = inode,
		.name = name,
		.value = value,
	};
	int err;

	if (!fuse_bpf_run(&fuse_bpf_getxattr_op, inode, &io, &err))
		return false;
	*res = err ?: io.size;
	return true;
}

/*
 * The backing file system lists trusted.* names to the registered
 * credentials: keep them from a caller who could not read them, as
 * ovl_listxattr() does.
 */
static ssize_t fuse_bpf_list_for_caller(char *list, ssize_t size)
{
	char *s = list, *end = list + size;
	ssize_t len = 0;
	size_t n;

	for (; s < end; s += n) {
		n = min_t(size_t, strnlen(s, end - s) + 1, end - s);
		if (!strncmp(s, XATTR_TRUSTED_PREFIX, XATTR_TRUSTED_PREFIX_LEN))
			continue;
		memmove(list + len, s, n);
		len += n;
	}
	return len;
}

bool __fuse_bpf_listxattr(ssize_t *res, struct inode *inode, char *list,
			  size_t size)
{
	struct fuse_bpf_xattr_io io = {
		.in.get.size = size,
		.inode = inode,
		.value = list,
	};
	char *all = NULL;
	int err;

	/*
	 * For a caller who may not see trusted.* names, list them all into
	 * a buffer of our own: the caller's may be big enough for what it
	 * gets only. A size query may overestimate.
	 */
	if (size && !ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN)) {
		all = kvmalloc(XATTR_LIST_MAX, GFP_KERNEL);
		if (!all) {
			*res = -ENOMEM;
			return true;
		}
		io.value = all;
		io.in.get.size = XATTR_LIST_MAX;
	}
	if (!fuse_bpf_run(&fuse_bpf_listxattr_op, inode, &io, &err)) {
		kvfree(all);
		return false;
	}
	*res = err ?: io.size;
	if (!err && all) {
		*res = fuse_bpf_list_for_caller(all, io.size);
		if (*res > size)
			*res = -ERANGE;
		else
			memcpy(list, all, *res);
	}
	kvfree(all);
	return true;
}

bool __fuse_bpf_setxattr(int *err, struct inode *inode, const char *name,
			 const void *value, size_t size, int flags)
{
	struct fuse_bpf_xattr_io io = {
		.in.set = { .size = size, .flags = flags },
		.inode = inode,
		.name = name,
		.cvalue = value,
	};

	return fuse_bpf_run(value ? &fuse_bpf_setxattr_op :
				    &fuse_bpf_removexattr_op,
			    inode, &io, err);
}
