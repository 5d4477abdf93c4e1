// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: names and attributes of backed nodes (lookup, revalidate,
 * getattr, setattr, permission, statfs).
 */

#include "bpf_internal.h"

#include <linux/cred.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/statfs.h>

/* Backed dentries stay until the backing says otherwise. */
void fuse_bpf_entry_valid(struct dentry *entry)
{
	struct fuse_entry_out valid = { .entry_valid = U32_MAX };

	fuse_change_entry_timeout(entry, &valid);
}

/* lookup */

struct fuse_bpf_lookup_io {
	struct fuse_entry_out out;
	struct inode *dir;
	struct dentry *entry;
	struct dentry *backing;
	struct dentry *res;
};

static int fuse_bpf_lookup_init_in(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lookup_io *io = data;

	fuse_bpf_name_arg(fa, &io->entry->d_name);
	return 0;
}

static int fuse_bpf_lookup_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lookup_io *io = data;
	struct path *dir = fuse_bpf_backing_path(io->dir);
	struct dentry *backing;

	backing = lookup_one_unlocked(mnt_idmap(dir->mnt), fa->in_args[0].ro.data,
				      dir->dentry, fa->in_args[0].ro.size);
	if (IS_ERR(backing))
		return PTR_ERR(backing);
	io->backing = backing;
	return 0;
}

/*
 * For a postfilter: the attributes of what was found, as a LOOKUP reply
 * carries them (all zero for a name that does not exist).
 */
static void fuse_bpf_lookup_init_post(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lookup_io *io = data;
	struct path path = {
		.mnt = fuse_bpf_backing_path(io->dir)->mnt,
		.dentry = io->backing,
	};
	struct kstat stat;

	if (fa->meta.error || d_really_is_negative(io->backing) ||
	    vfs_getattr_nosec(&path, &stat, STATX_BASIC_STATS,
			      AT_STATX_SYNC_AS_STAT))
		return;
	fuse_bpf_stat_to_attr(&stat, &io->out.attr);
}

static int fuse_bpf_lookup_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lookup_io *io = data;
	struct fuse_inode *dfi = get_fuse_inode(io->dir);
	struct inode *inode = NULL;
	struct dentry *entry;

	if (fa->meta.error) {
		dput(io->backing);
		return fa->meta.error;
	}

	if (d_really_is_positive(io->backing)) {
		struct path path = {
			.mnt = dfi->backing_path.mnt,
			.dentry = io->backing,
		};

		inode = fuse_bpf_iget(io->dir, &path);
	}
	dput(io->backing);
	if (IS_ERR(inode))
		return PTR_ERR(inode);

	io->res = d_splice_alias(inode, io->entry);
	if (IS_ERR(io->res))
		return PTR_ERR(io->res);

	entry = io->res ? io->res : io->entry;
	if (inode)
		fuse_bpf_entry_valid(entry);
	else
		fuse_invalidate_entry_cache(entry);
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_lookup_op = {
	.opcode = FUSE_LOOKUP,
	.filter = FUSE_BPF_F_LOOKUP,
	FUSE_BPF_OUT(struct fuse_bpf_lookup_io, out),
	.init_in = fuse_bpf_lookup_init_in,
	.backing = fuse_bpf_lookup_backing,
	.init_post = fuse_bpf_lookup_init_post,
	.finalize = fuse_bpf_lookup_finalize,
};

bool fuse_bpf_lookup(struct dentry **res, struct inode *dir,
		     struct dentry *entry, unsigned int flags)
{
	struct fuse_bpf_lookup_io io = { .dir = dir, .entry = entry };
	int err;

	if (!fuse_bpf_inode_backed(dir))
		return false;
	if (!fuse_bpf_run(&fuse_bpf_lookup_op, dir, &io, &err))
		return false;
	*res = err ? ERR_PTR(err) : io.res;
	return true;
}

/**
 * fuse_bpf_revalidate() - revalidate a dentry of a backed directory
 * @res: the result: 1 valid, 0 invalid
 * @dir: the parent, may be NULL in RCU walk
 * @entry: the dentry
 * @flags: lookup flags
 *
 * A node the kernel found in a backing directory is valid while its
 * backing dentry is still hashed under the same parent and name: a rename
 * or unlink done directly in the backing directory invalidates it.
 * Negative dentries of backed directories are never trusted. Nodes the
 * server named keep the server's entry timeouts.
 *
 * Return: true when fuse-bpf decided.
 */
bool fuse_bpf_revalidate(int *res, struct inode *dir, struct dentry *entry,
			 unsigned int flags)
{
	struct inode *inode = d_inode_rcu(entry);
	struct dentry *backing, *parent;

	if (!inode) {
		if (!dir || !fuse_bpf_inode_backed(dir))
			return false;
		*res = 0;
		return true;
	}
	if (!fuse_bpf_inode_backed(inode) ||
	    !(get_fuse_inode(inode)->nodeid & FUSE_BPF_NODEID_BIT))
		return false;

	*res = 0;
	backing = get_fuse_inode(inode)->backing_path.dentry;
	if (d_unhashed(backing))
		return true;
	if (dir && fuse_bpf_inode_backed(dir)) {
		const unsigned char *name;
		unsigned int len;
		bool same;

		parent = get_fuse_inode(dir)->backing_path.dentry;
		/*
		 * The backing name is stable under its d_lock. The entry's may
		 * change under a rename: as dentry_cmp() does, read its pointer
		 * once, under RCU, and compare up to its NUL, never past it.
		 */
		rcu_read_lock();
		spin_lock(&backing->d_lock);
		name = READ_ONCE(entry->d_name.name);
		len = backing->d_name.len;
		same = backing->d_parent == parent &&
		       !strncmp(name, backing->d_name.name, len) && !name[len];
		spin_unlock(&backing->d_lock);
		rcu_read_unlock();
		if (!same)
			return true;
	}
	*res = 1;
	return true;
}

/* getattr */

struct fuse_bpf_getattr_io {
	struct fuse_getattr_in in;
	struct fuse_attr_out out;
	struct inode *inode;
	struct kstat *stat;
	struct kstat tmp;
	u32 request_mask;
	unsigned int flags;
};

static int fuse_bpf_getattr_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_getattr_io *io = data;

	return vfs_getattr(fuse_bpf_backing_path(io->inode), io->stat,
			   io->request_mask, io->flags);
}

/* For a postfilter: the attributes as a GETATTR reply carries them. */
static void fuse_bpf_getattr_init_post(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_getattr_io *io = data;

	if (!fa->meta.error)
		fuse_bpf_stat_to_attr(io->stat, &io->out.attr);
}

/* What a postfilter may change of the attributes. */
static void fuse_bpf_attr_to_stat(const struct fuse_attr *attr,
				  struct kstat *stat)
{
	stat->mode = (stat->mode & S_IFMT) | (attr->mode & ~S_IFMT);
	stat->nlink = attr->nlink;
	stat->uid = make_kuid(&init_user_ns, attr->uid);
	stat->gid = make_kgid(&init_user_ns, attr->gid);
	stat->size = attr->size;
	stat->blocks = attr->blocks;
	stat->atime.tv_sec = attr->atime;
	stat->atime.tv_nsec = attr->atimensec;
	stat->mtime.tv_sec = attr->mtime;
	stat->mtime.tv_nsec = attr->mtimensec;
	stat->ctime.tv_sec = attr->ctime;
	stat->ctime.tv_nsec = attr->ctimensec;
}

static int fuse_bpf_getattr_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_getattr_io *io = data;

	if (fa->meta.error)
		return fa->meta.error;
	fuse_bpf_copy_attr(io->inode);
	if (fa->post)
		fuse_bpf_attr_to_stat(&io->out.attr, io->stat);
	io->stat->dev = io->inode->i_sb->s_dev;
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_getattr_op = {
	.opcode = FUSE_GETATTR,
	.filter = FUSE_BPF_F_GETATTR,
	FUSE_BPF_IN(struct fuse_bpf_getattr_io, in),
	FUSE_BPF_OUT(struct fuse_bpf_getattr_io, out),
	.backing = fuse_bpf_getattr_backing,
	.init_post = fuse_bpf_getattr_init_post,
	.finalize = fuse_bpf_getattr_finalize,
};

bool fuse_bpf_getattr(int *err, struct inode *inode, struct kstat *stat,
		      u32 request_mask, unsigned int flags)
{
	struct fuse_bpf_getattr_io io = {
		.inode = inode,
		.request_mask = request_mask ?: STATX_BASIC_STATS,
		/* the backing call goes through its own security check */
		.flags = flags & ~AT_GETATTR_NOSEC,
	};

	if (!fuse_bpf_inode_backed(inode))
		return false;
	io.stat = stat ?: &io.tmp;
	return fuse_bpf_run(&fuse_bpf_getattr_op, inode, &io, err);
}

/* setattr */

struct fuse_bpf_setattr_io {
	struct fuse_setattr_in in;
	struct dentry *dentry;
	struct iattr *attr;
};

static int fuse_bpf_setattr_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_setattr_io *io = data;
	struct path *path = fuse_bpf_backing_path(d_inode(io->dentry));
	struct inode *backing = d_inode(path->dentry);
	struct iattr attr = *io->attr;
	int err;

	/* What a prefilter may have changed. */
	attr.ia_valid &= io->in.valid |
			 ~(ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE);
	attr.ia_mode = io->in.mode;
	attr.ia_uid = make_kuid(&init_user_ns, io->in.uid);
	attr.ia_gid = make_kgid(&init_user_ns, io->in.gid);
	attr.ia_size = io->in.size;

	/* The fuse file is not the backing file: truncate by path. */
	attr.ia_valid &= ~ATTR_FILE;
	attr.ia_file = NULL;
	/* Killing suid/sgid is recomputed on the backing inode. */
	if (attr.ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr.ia_valid &= ~ATTR_MODE;

	err = mnt_want_write(path->mnt);
	if (err)
		return err;
	inode_lock(backing);
	err = notify_change(mnt_idmap(path->mnt), path->dentry, &attr, NULL);
	inode_unlock(backing);
	mnt_drop_write(path->mnt);
	return err;
}

static int fuse_bpf_setattr_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_setattr_io *io = data;

	fuse_bpf_copy_attr(d_inode(io->dentry));
	return fa->meta.error;
}

static const struct fuse_bpf_op fuse_bpf_setattr_op = {
	.opcode = FUSE_SETATTR,
	.filter = FUSE_BPF_F_SETATTR,
	FUSE_BPF_IN(struct fuse_bpf_setattr_io, in),
	.backing = fuse_bpf_setattr_backing,
	.finalize = fuse_bpf_setattr_finalize,
};

bool fuse_bpf_setattr(int *err, struct dentry *dentry, struct iattr *attr,
		      struct file *file)
{
	struct fuse_bpf_setattr_io io = {
		.in = {
			.valid = attr->ia_valid,
			.size = attr->ia_size,
			.mode = attr->ia_mode,
			.uid = from_kuid(&init_user_ns, attr->ia_uid),
			.gid = from_kgid(&init_user_ns, attr->ia_gid),
		},
		.dentry = dentry,
		.attr = attr,
	};
	struct inode *inode = d_inode(dentry);

	if (!fuse_bpf_inode_backed(inode))
		return false;

	/* The caller's permission, against the attributes of the node. */
	fuse_bpf_copy_attr(inode);
	*err = setattr_prepare(&nop_mnt_idmap, dentry, attr);
	if (*err)
		return true;
	return fuse_bpf_run(&fuse_bpf_setattr_op, inode, &io, err);
}

/* permission: the caller against the node, the backing cred against the backing. */

struct fuse_bpf_access_io {
	struct fuse_access_in in;
	struct inode *inode;
};

static int fuse_bpf_access_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_access_io *io = data;
	struct path *path = fuse_bpf_backing_path(io->inode);

	return inode_permission(mnt_idmap(path->mnt), d_inode(path->dentry),
				io->in.mask);
}

static const struct fuse_bpf_op fuse_bpf_access_op = {
	.opcode = FUSE_ACCESS,
	.filter = FUSE_BPF_F_ACCESS,
	FUSE_BPF_IN(struct fuse_bpf_access_io, in),
	.backing = fuse_bpf_access_backing,
};

bool fuse_bpf_permission(int *err, struct inode *inode, int mask)
{
	struct fuse_bpf_access_io io = { .inode = inode, .in.mask = mask };
	const struct cred *old_cred;

	if (!fuse_bpf_inode_backed(inode))
		return false;

	fuse_bpf_copy_attr(inode);
	*err = generic_permission(&nop_mnt_idmap, inode, mask);
	if (*err)
		return true;
	if (fuse_bpf_has_filter(inode))
		return fuse_bpf_run(&fuse_bpf_access_op, inode, &io, err);

	/*
	 * What the pipeline would do without a filter, without setting it
	 * up: this runs for every component of every path walked.
	 */
	old_cred = override_creds(get_fuse_inode(inode)->backing_cred);
	*err = fuse_bpf_access_backing(NULL, &io);
	revert_creds(old_cred);
	return true;
}

/* statfs */

struct fuse_bpf_statfs_io {
	struct fuse_statfs_out out;
	struct inode *inode;
	struct kstatfs *buf;
};

static void fuse_bpf_statfs_init_post(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_statfs_io *io = data;
	struct fuse_kstatfs *st = &io->out.st;

	st->blocks = io->buf->f_blocks;
	st->bfree = io->buf->f_bfree;
	st->bavail = io->buf->f_bavail;
	st->files = io->buf->f_files;
	st->ffree = io->buf->f_ffree;
	st->bsize = io->buf->f_bsize;
	st->namelen = io->buf->f_namelen;
	st->frsize = io->buf->f_frsize;
}

static int fuse_bpf_statfs_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_statfs_io *io = data;

	return vfs_statfs(fuse_bpf_backing_path(io->inode), io->buf);
}

static int fuse_bpf_statfs_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_statfs_io *io = data;

	if (fa->meta.error)
		return fa->meta.error;
	if (fa->post)
		convert_fuse_statfs(io->buf, &io->out.st);
	io->buf->f_type = FUSE_SUPER_MAGIC;
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_statfs_op = {
	.opcode = FUSE_STATFS,
	.filter = FUSE_BPF_F_STATFS,
	FUSE_BPF_OUT(struct fuse_bpf_statfs_io, out),
	.backing = fuse_bpf_statfs_backing,
	.init_post = fuse_bpf_statfs_init_post,
	.finalize = fuse_bpf_statfs_finalize,
};

bool fuse_bpf_statfs(int *err, struct dentry *dentry, struct kstatfs *buf)
{
	struct fuse_bpf_statfs_io io = { .inode = d_inode(dentry), .buf = buf };

	if (!fuse_bpf_inode_backed(io.inode))
		return false;
	return fuse_bpf_run(&fuse_bpf_statfs_op, io.inode, &io, err);
}
