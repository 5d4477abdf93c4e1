// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: directory operations on backed directories (mknod, create,
 * mkdir, symlink, link, unlink, rmdir, rename, tmpfile) and get_link.
 *
 * The operations that make a new name share one backing function, and so
 * do unlink and rmdir: the opcode picks the vfs call.
 */

#include "bpf_internal.h"

#include <linux/backing-file.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/mount.h>
#include <linux/namei.h>

union fuse_bpf_entry_in {
	struct fuse_mknod_in mknod;
	struct fuse_mkdir_in mkdir;
	struct fuse_link_in link;
};

struct fuse_bpf_entry_io {
	union fuse_bpf_entry_in in;
	union fuse_bpf_entry_in asked;	/* in, before the prefilter */
	struct fuse_entry_out out;
	struct inode *dir;
	struct dentry *entry;
	struct dentry *backing;	/* the new backing dentry */
	struct dentry *old;	/* link: the existing node */
	const char *target;	/* symlink */
	unsigned int name_arg;	/* index of the name in the in-args */
};

/* The in-arguments in the order of the FUSE request. */
static int fuse_bpf_entry_init_in(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_entry_io *io = data;
	const struct qstr *name = &io->entry->d_name;

	io->asked = io->in;
	io->name_arg = fa->in_numargs;
	fuse_bpf_name_arg(fa, name);
	if (fa->meta.opcode == FUSE_SYMLINK)
		fuse_bpf_buf_arg(fa, (void *)io->target, strlen(io->target),
				 PATH_MAX - 1, FUSE_BPF_BUF_STRING);
	return 0;
}

/*
 * A prefilter may take rights away, never give them: the backing call
 * runs with capabilities the caller may lack (CAP_MKNOD, CAP_FSETID). A
 * new object keeps the type the caller asked for and at most its mode
 * bits.
 */
static int fuse_bpf_mode_narrowed(u32 asked, u32 mode)
{
	if ((mode & S_IFMT) != (asked & S_IFMT) || (mode & ~asked & S_IALLUGO))
		return -EPERM;
	return 0;
}

/* After the prefilter, as the caller: what it changed must be narrower. */
static int fuse_bpf_entry_init_out(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_entry_io *io = data;

	if (fa->meta.opcode == FUSE_MKDIR)
		return fuse_bpf_mode_narrowed(io->asked.mkdir.mode,
					      io->in.mkdir.mode);
	if (io->in.mknod.rdev != io->asked.mknod.rdev)
		return -EPERM;
	return fuse_bpf_mode_narrowed(io->asked.mknod.mode, io->in.mknod.mode);
}

/* Look up the name of an entry operation in the locked backing parent. */
static struct dentry *fuse_bpf_entry_lookup(struct fuse_bpf_args *fa,
					    unsigned int idx,
					    const struct path *dir)
{
	return lookup_one(mnt_idmap(dir->mnt), fa->in_args[idx].ro.data,
			  dir->dentry, fa->in_args[idx].ro.size);
}

/*
 * A change of name @idx in backing directory @dir, as overlayfs's
 * ovl_start_write() + ovl_lookup_upper(): write access to the backing
 * mount, the parent locked, the name looked up. fuse_bpf_end_dirop()
 * undoes the first two.
 */
static struct dentry *fuse_bpf_start_dirop(struct fuse_bpf_args *fa,
					   unsigned int idx,
					   const struct path *dir)
{
	struct dentry *entry;
	int err;

	err = mnt_want_write(dir->mnt);
	if (err)
		return ERR_PTR(err);
	inode_lock_nested(d_inode(dir->dentry), I_MUTEX_PARENT);
	entry = fuse_bpf_entry_lookup(fa, idx, dir);
	if (IS_ERR(entry)) {
		inode_unlock(d_inode(dir->dentry));
		mnt_drop_write(dir->mnt);
	}
	return entry;
}

static void fuse_bpf_end_dirop(const struct path *dir)
{
	inode_unlock(d_inode(dir->dentry));
	mnt_drop_write(dir->mnt);
}

static int fuse_bpf_new_entry_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_entry_io *io = data;
	struct path *dir = fuse_bpf_backing_path(io->dir);
	struct mnt_idmap *idmap = mnt_idmap(dir->mnt);
	struct inode *bdir = d_inode(dir->dentry);
	struct path *old = NULL;
	struct dentry *backing;
	int err;

	if (fa->meta.opcode == FUSE_LINK) {
		old = fuse_bpf_backing_path(d_inode(io->old));
		if (old->mnt != dir->mnt)
			return -EXDEV;
	}

	backing = fuse_bpf_start_dirop(fa, io->name_arg, dir);
	if (IS_ERR(backing))
		return PTR_ERR(backing);

	switch (fa->meta.opcode) {
	case FUSE_MKNOD:
		if (S_ISREG(io->in.mknod.mode))
			err = vfs_create(idmap, bdir, backing,
					 io->in.mknod.mode, true);
		else
			err = vfs_mknod(idmap, bdir, backing,
					io->in.mknod.mode,
					new_decode_dev(io->in.mknod.rdev));
		break;
	case FUSE_MKDIR:
		err = vfs_mkdir(idmap, bdir, backing, io->in.mkdir.mode);
		break;
	case FUSE_SYMLINK:
		err = vfs_symlink(idmap, bdir, backing, fa->in_args[1].ro.data);
		break;
	case FUSE_LINK:
		err = vfs_link(old->dentry, idmap, bdir, backing, NULL);
		break;
	default:
		err = -EINVAL;
	}
	/* Some file systems leave the new dentry unhashed: look it up. */
	if (!err && (d_unhashed(backing) || d_really_is_negative(backing))) {
		dput(backing);
		backing = fuse_bpf_entry_lookup(fa, io->name_arg, dir);
		if (IS_ERR(backing))
			err = PTR_ERR(backing);
		else if (d_really_is_negative(backing))
			err = -ENOENT;
	}
	if (err && !IS_ERR(backing))
		dput(backing);
	else if (!err)
		io->backing = backing;
	fuse_bpf_end_dirop(dir);
	return err;
}

static int fuse_bpf_new_entry_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_entry_io *io = data;
	struct fuse_inode *dfi = get_fuse_inode(io->dir);
	struct path path = {
		.mnt = dfi->backing_path.mnt,
		.dentry = io->backing,
	};
	struct inode *inode;
	struct dentry *alias;

	fuse_bpf_copy_attr(io->dir);
	if (fa->meta.error) {
		dput(io->backing);
		return fa->meta.error;
	}

	inode = fuse_bpf_iget(io->dir, &path);
	dput(io->backing);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	d_drop(io->entry);
	alias = d_splice_alias(inode, io->entry);
	if (IS_ERR(alias))
		return PTR_ERR(alias);
	fuse_bpf_entry_valid(alias ?: io->entry);
	dput(alias);
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_mknod_op = {
	.opcode = FUSE_MKNOD,
	.filter = FUSE_BPF_OP_IDX(mknod),
	.creates = true,
	FUSE_BPF_IN(struct fuse_bpf_entry_io, in.mknod),
	FUSE_BPF_OUT(struct fuse_bpf_entry_io, out),
	.init_in = fuse_bpf_entry_init_in,
	.init_out = fuse_bpf_entry_init_out,
	.backing = fuse_bpf_new_entry_backing,
	.finalize = fuse_bpf_new_entry_finalize,
};

static const struct fuse_bpf_op fuse_bpf_mkdir_op = {
	.opcode = FUSE_MKDIR,
	.filter = FUSE_BPF_OP_IDX(mkdir),
	.creates = true,
	FUSE_BPF_IN(struct fuse_bpf_entry_io, in.mkdir),
	FUSE_BPF_OUT(struct fuse_bpf_entry_io, out),
	.init_in = fuse_bpf_entry_init_in,
	.init_out = fuse_bpf_entry_init_out,
	.backing = fuse_bpf_new_entry_backing,
	.finalize = fuse_bpf_new_entry_finalize,
};

static const struct fuse_bpf_op fuse_bpf_symlink_op = {
	.opcode = FUSE_SYMLINK,
	.filter = FUSE_BPF_OP_IDX(symlink),
	.creates = true,
	FUSE_BPF_OUT(struct fuse_bpf_entry_io, out),
	.init_in = fuse_bpf_entry_init_in,
	.backing = fuse_bpf_new_entry_backing,
	.finalize = fuse_bpf_new_entry_finalize,
};

static const struct fuse_bpf_op fuse_bpf_link_op = {
	.opcode = FUSE_LINK,
	.filter = FUSE_BPF_OP_IDX(link),
	FUSE_BPF_IN(struct fuse_bpf_entry_io, in.link),
	FUSE_BPF_OUT(struct fuse_bpf_entry_io, out),
	.init_in = fuse_bpf_entry_init_in,
	.backing = fuse_bpf_new_entry_backing,
	.finalize = fuse_bpf_new_entry_finalize,
};

bool __fuse_bpf_mknod(int *err, struct inode *dir, struct dentry *entry,
		      umode_t mode, dev_t rdev)
{
	struct fuse_bpf_entry_io io = {
		.in.mknod = {
			.mode = mode,
			.rdev = new_encode_dev(rdev),
			.umask = current_umask(),
		},
		.dir = dir,
		.entry = entry,
	};

	return fuse_bpf_run(&fuse_bpf_mknod_op, dir, &io, err);
}

bool __fuse_bpf_mkdir(int *err, struct inode *dir, struct dentry *entry,
		      umode_t mode)
{
	struct fuse_bpf_entry_io io = {
		.in.mkdir = { .mode = mode, .umask = current_umask() },
		.dir = dir,
		.entry = entry,
	};

	return fuse_bpf_run(&fuse_bpf_mkdir_op, dir, &io, err);
}

bool __fuse_bpf_symlink(int *err, struct inode *dir, struct dentry *entry,
			const char *target)
{
	struct fuse_bpf_entry_io io = {
		.dir = dir,
		.entry = entry,
		.target = target,
	};

	return fuse_bpf_run(&fuse_bpf_symlink_op, dir, &io, err);
}

bool __fuse_bpf_link(int *err, struct dentry *old, struct inode *dir,
		     struct dentry *entry)
{
	struct fuse_bpf_entry_io io = {
		.in.link.oldnodeid = get_node_id(d_inode(old)),
		.dir = dir,
		.entry = entry,
		.old = old,
	};

	/* A link may not carry a file into another policy's reach. */
	if (!fuse_bpf_inode_backed(d_inode(old)) ||
	    !fuse_bpf_same_filter(d_inode(old), dir)) {
		*err = -EXDEV;
		return true;
	}
	return fuse_bpf_run(&fuse_bpf_link_op, dir, &io, err);
}

/**
 * __fuse_bpf_atomic_open() - open, and maybe create, in a backed directory
 * @res: the result
 * @dir: the directory
 * @entry: the dentry, maybe still in lookup
 * @file: the file being opened
 * @flags: open flags
 * @mode: mode for a new file
 *
 * Looks up and creates through the pipeline, then lets the VFS open the
 * positive dentry, which reaches fuse_bpf_open().
 *
 * Return: true, fuse-bpf served it (*@res); false when a lookup or mknod
 * prefilter sent the operation to the server: fuse_atomic_open() goes on
 * (the lookup, not done yet, asks the filter again).
 */
bool __fuse_bpf_atomic_open(int *res, struct inode *dir, struct dentry *entry,
			    struct file *file, unsigned int flags, umode_t mode)
{
	struct dentry *alias = NULL;
	int err;

	if (d_in_lookup(entry)) {
		if (!fuse_bpf_lookup(&alias, dir, entry, 0))
			return false;
		if (IS_ERR(alias)) {
			*res = PTR_ERR(alias);
			return true;
		}
		if (alias)
			entry = alias;
	}
	if ((flags & O_CREAT) && d_really_is_negative(entry)) {
		/*
		 * To the server: the entry is negative and out of lookup, so
		 * fuse_atomic_open() sends it a CREATE. An alias is positive.
		 */
		if (!fuse_bpf_mknod(&err, dir, entry,
				    (mode & ~S_IFMT) | S_IFREG, 0))
			return false;
		if (err) {
			dput(alias);
			*res = err;
			return true;
		}
		file->f_mode |= FMODE_CREATED;
	}
	*res = finish_no_open(file, alias);
	return true;
}

/* unlink, rmdir */

struct fuse_bpf_remove_io {
	struct inode *dir;
	struct dentry *entry;
};

static int fuse_bpf_remove_init_in(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_remove_io *io = data;

	fuse_bpf_name_arg(fa, &io->entry->d_name);
	return 0;
}

static int fuse_bpf_remove_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_remove_io *io = data;
	struct path *dir = fuse_bpf_backing_path(io->dir);
	struct mnt_idmap *idmap = mnt_idmap(dir->mnt);
	struct inode *bdir = d_inode(dir->dentry);
	struct dentry *backing;
	int err;

	backing = fuse_bpf_start_dirop(fa, 0, dir);
	if (IS_ERR(backing))
		return PTR_ERR(backing);
	err = -ENOENT;
	if (d_really_is_negative(backing))
		goto out_dput;
	/* The name must still lead to this node's backing object. */
	err = -ESTALE;
	if (d_inode(backing) != fuse_bpf_backing_inode(d_inode(io->entry)))
		goto out_dput;
	if (fa->meta.opcode == FUSE_RMDIR)
		err = vfs_rmdir(idmap, bdir, backing);
	else
		err = vfs_unlink(idmap, bdir, backing, NULL);
out_dput:
	dput(backing);
	fuse_bpf_end_dirop(dir);
	return err;
}

static int fuse_bpf_remove_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_remove_io *io = data;
	struct inode *inode = d_inode(io->entry);

	fuse_bpf_copy_attr(io->dir);
	if (!fa->meta.error) {
		fuse_bpf_copy_attr(inode);
		if (S_ISDIR(inode->i_mode))
			clear_nlink(inode);
	}
	return fa->meta.error;
}

static const struct fuse_bpf_op fuse_bpf_unlink_op = {
	.opcode = FUSE_UNLINK,
	.filter = FUSE_BPF_OP_IDX(unlink),
	.init_in = fuse_bpf_remove_init_in,
	.backing = fuse_bpf_remove_backing,
	.finalize = fuse_bpf_remove_finalize,
};

static const struct fuse_bpf_op fuse_bpf_rmdir_op = {
	.opcode = FUSE_RMDIR,
	.filter = FUSE_BPF_OP_IDX(rmdir),
	.init_in = fuse_bpf_remove_init_in,
	.backing = fuse_bpf_remove_backing,
	.finalize = fuse_bpf_remove_finalize,
};

bool __fuse_bpf_remove(int *err, struct inode *dir, struct dentry *entry,
		       bool isdir)
{
	struct fuse_bpf_remove_io io = { .dir = dir, .entry = entry };

	if (!fuse_bpf_inode_backed(d_inode(entry))) {
		*err = -EXDEV;
		return true;
	}
	return fuse_bpf_run(isdir ? &fuse_bpf_rmdir_op : &fuse_bpf_unlink_op,
			    dir, &io, err);
}

/* rename, rename2 */

struct fuse_bpf_rename_io {
	struct fuse_rename2_in in;
	u32 asked_flags;		/* in.flags, before the prefilter */
	struct inode *olddir;
	struct dentry *oldent;
	struct inode *newdir;
	struct dentry *newent;
};

static int fuse_bpf_rename_init_in(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_rename_io *io = data;

	fuse_bpf_name_arg(fa, &io->oldent->d_name);
	fuse_bpf_name_arg(fa, &io->newent->d_name);
	return 0;
}

/* The backing inode a positive dentry names, NULL for a negative one. */
static struct inode *fuse_bpf_target_inode(struct dentry *entry)
{
	struct inode *inode = d_inode(entry);

	if (!inode)
		return NULL;
	if (!fuse_bpf_inode_backed(inode))
		return ERR_PTR(-ESTALE);
	return fuse_bpf_backing_inode(inode);
}

/*
 * After the prefilter, as the caller: no flag the VFS did not check for
 * the caller (an exchange or a whiteout the caller did not ask for), but
 * it may refuse to replace.
 */
static int fuse_bpf_rename_init_out(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_rename_io *io = data;
	u32 flags = io->in.flags;

	if (flags & ~(io->asked_flags | RENAME_NOREPLACE))
		return -EPERM;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	return 0;
}

static int fuse_bpf_rename_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_rename_io *io = data;
	struct path *olddir = fuse_bpf_backing_path(io->olddir);
	struct path *newdir = fuse_bpf_backing_path(io->newdir);
	struct dentry *trap, *oldb, *newb;
	struct renamedata rd = {};
	int err;

	if (olddir->mnt != newdir->mnt)
		return -EXDEV;
	err = mnt_want_write(olddir->mnt);
	if (err)
		return err;

	trap = lock_rename(olddir->dentry, newdir->dentry);
	err = PTR_ERR(trap);
	if (IS_ERR(trap))
		goto out_drop;
	oldb = fuse_bpf_entry_lookup(fa, 1, olddir);
	err = PTR_ERR(oldb);
	if (IS_ERR(oldb))
		goto out_unlock;
	err = -ESTALE;
	if (d_really_is_negative(oldb) ||
	    d_inode(oldb) != fuse_bpf_backing_inode(d_inode(io->oldent)))
		goto out_dput_old;
	err = -EINVAL;
	if (oldb == trap)
		goto out_dput_old;
	newb = fuse_bpf_entry_lookup(fa, 2, newdir);
	err = PTR_ERR(newb);
	if (IS_ERR(newb))
		goto out_dput_old;
	err = -ENOTEMPTY;
	if (newb == trap)
		goto out_dput_new;
	/*
	 * The target must be the one the VFS checked (sticky bit,
	 * may_delete()) for the caller, as in ovl_rename().
	 */
	err = -ESTALE;
	if (d_inode(newb) != fuse_bpf_target_inode(io->newent))
		goto out_dput_new;

	rd.old_mnt_idmap = mnt_idmap(olddir->mnt);
	rd.old_dir = d_inode(olddir->dentry);
	rd.old_dentry = oldb;
	rd.new_mnt_idmap = mnt_idmap(newdir->mnt);
	rd.new_dir = d_inode(newdir->dentry);
	rd.new_dentry = newb;
	rd.flags = io->in.flags;
	err = vfs_rename(&rd);
out_dput_new:
	dput(newb);
out_dput_old:
	dput(oldb);
out_unlock:
	unlock_rename(olddir->dentry, newdir->dentry);
out_drop:
	mnt_drop_write(olddir->mnt);
	return err;
}

static int fuse_bpf_rename_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_rename_io *io = data;

	fuse_bpf_copy_attr(io->olddir);
	if (io->newdir != io->olddir)
		fuse_bpf_copy_attr(io->newdir);
	if (fa->meta.error)
		return fa->meta.error;
	/* A rename changes the ctime of what it moves, and of a victim. */
	if (fuse_bpf_inode_backed(d_inode(io->oldent)))
		fuse_bpf_copy_attr(d_inode(io->oldent));
	if (d_really_is_positive(io->newent) &&
	    fuse_bpf_inode_backed(d_inode(io->newent)))
		fuse_bpf_copy_attr(d_inode(io->newent));
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_rename_op = {
	.opcode = FUSE_RENAME2,
	.filter = FUSE_BPF_OP_IDX(rename),
	/* a RENAME_WHITEOUT whiteout is the caller's */
	.creates = true,
	FUSE_BPF_IN(struct fuse_bpf_rename_io, in),
	.init_in = fuse_bpf_rename_init_in,
	.init_out = fuse_bpf_rename_init_out,
	.backing = fuse_bpf_rename_backing,
	.finalize = fuse_bpf_rename_finalize,
};

bool __fuse_bpf_rename(int *err, struct inode *olddir, struct dentry *oldent,
		       struct inode *newdir, struct dentry *newent,
		       unsigned int flags)
{
	struct fuse_bpf_rename_io io = {
		.in = { .newdir = get_node_id(newdir), .flags = flags },
		.asked_flags = flags,
		.olddir = olddir,
		.oldent = oldent,
		.newdir = newdir,
		.newent = newent,
	};

	/*
	 * The rename filter of the old directory decides; between
	 * directories with different filters, neither could decide for the
	 * other: -EXDEV, and mv copies, under both directories' filters.
	 */
	if (!fuse_bpf_inode_backed(olddir) || !fuse_bpf_inode_backed(newdir) ||
	    !fuse_bpf_inode_backed(d_inode(oldent)) ||
	    !fuse_bpf_same_filter(olddir, newdir)) {
		*err = -EXDEV;
		return true;
	}
	return fuse_bpf_run(&fuse_bpf_rename_op, olddir, &io, err);
}

/*
 * get_link: the target of a backed symlink. A postfilter sees it as a
 * string it may rewrite.
 */

struct fuse_bpf_get_link_io {
	struct inode *inode;
	struct delayed_call *callback;
	const char *link;
};

static int fuse_bpf_get_link_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_get_link_io *io = data;

	io->link = vfs_get_link(fuse_bpf_backing_path(io->inode)->dentry,
				io->callback);
	return PTR_ERR_OR_ZERO(io->link);
}

static void fuse_bpf_get_link_init_post(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_get_link_io *io = data;
	bool ok = !fa->meta.error;

	fuse_bpf_buf_out_arg(fa, ok ? (void *)io->link : NULL,
			     ok ? strlen(io->link) : 0, PATH_MAX - 1,
			     FUSE_BPF_BUF_STRING);
}

static void fuse_bpf_free_link(void *link)
{
	kvfree(link);
}

static int fuse_bpf_get_link_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_get_link_io *io = data;
	struct fuse_bpf_buf *buf = &fa->out_args[0];

	if (fa->meta.error) {
		/* A filter failed it: release what the backing gave. */
		if (!IS_ERR_OR_NULL(io->link)) {
			do_delayed_call(io->callback);
			clear_delayed_call(io->callback);
		}
		return fa->meta.error;
	}
	if (!fa->post || !(buf->flags & FUSE_BPF_BUF_CHANGED))
		return 0;
	/* The rewritten target is the caller's now. */
	do_delayed_call(io->callback);
	set_delayed_call(io->callback, fuse_bpf_free_link, buf->ro.data);
	io->link = buf->ro.data;
	buf->flags &= ~FUSE_BPF_BUF_OWNED;
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_readlink_op = {
	.opcode = FUSE_READLINK,
	.filter = FUSE_BPF_OP_IDX(readlink),
	.backing = fuse_bpf_get_link_backing,
	.init_post = fuse_bpf_get_link_init_post,
	.finalize = fuse_bpf_get_link_finalize,
};

bool __fuse_bpf_get_link(const char **res, struct inode *inode,
			 struct dentry *dentry, struct delayed_call *callback)
{
	struct fuse_bpf_get_link_io io = {
		.inode = inode,
		.callback = callback,
	};
	int err;

	if (!dentry) {
		*res = ERR_PTR(-ECHILD);
		return true;
	}
	if (!fuse_bpf_run(&fuse_bpf_readlink_op, inode, &io, &err))
		return false;
	*res = err ? ERR_PTR(err) : io.link;
	/* Before readlink(2) updates atime: see __fuse_bpf_accessed(). */
	fuse_bpf_copy_times(inode, fuse_bpf_backing_inode(inode));
	return true;
}

/* tmpfile: an unnamed file in the backing directory. */

struct fuse_bpf_tmpfile_io {
	struct fuse_create_in in;
	u32 asked_mode;			/* in.mode, before the prefilter */
	struct inode *dir;
	struct file *file;
	struct file *backing;
};

static int fuse_bpf_tmpfile_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_tmpfile_io *io = data;
	struct fuse_inode *dfi = get_fuse_inode(io->dir);
	struct file *backing;
	int err;

	err = mnt_want_write(dfi->backing_path.mnt);
	if (err)
		return err;
	/* The credentials of the pipeline: the file is the caller's. */
	backing = backing_tmpfile_open(io->file, io->in.flags,
				       &dfi->backing_path, io->in.mode,
				       current_cred());
	mnt_drop_write(dfi->backing_path.mnt);
	if (IS_ERR(backing))
		return PTR_ERR(backing);
	io->backing = backing;
	return 0;
}

static int fuse_bpf_tmpfile_init_out(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_tmpfile_io *io = data;

	return fuse_bpf_mode_narrowed(io->asked_mode, io->in.mode);
}

static int fuse_bpf_tmpfile_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_tmpfile_io *io = data;
	struct inode *inode;

	if (fa->meta.error) {
		if (io->backing)
			fput(io->backing);
		return fa->meta.error;
	}

	inode = fuse_bpf_iget(io->dir, &io->backing->f_path);
	fput(io->backing);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	/* d_tmpfile() without its link count drop: nlink follows the backing. */
	d_mark_tmpfile(io->file, inode);
	d_instantiate(io->file->f_path.dentry, inode);
	/* The open goes through fuse_bpf_open() like any other. */
	return finish_open_simple(io->file, 0);
}

static const struct fuse_bpf_op fuse_bpf_tmpfile_op = {
	.opcode = FUSE_TMPFILE,
	.filter = FUSE_BPF_OP_IDX(tmpfile),
	.creates = true,
	FUSE_BPF_IN(struct fuse_bpf_tmpfile_io, in),
	.init_out = fuse_bpf_tmpfile_init_out,
	.backing = fuse_bpf_tmpfile_backing,
	.finalize = fuse_bpf_tmpfile_finalize,
};

bool __fuse_bpf_tmpfile(int *err, struct inode *dir, struct file *file,
			umode_t mode)
{
	struct fuse_bpf_tmpfile_io io = {
		.in = {
			.flags = file->f_flags,
			.mode = mode,
			.umask = current_umask(),
		},
		.asked_mode = mode,
		.dir = dir,
		.file = file,
	};

	return fuse_bpf_run(&fuse_bpf_tmpfile_op, dir, &io, err);
}
