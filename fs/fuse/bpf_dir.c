// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: names and attributes of backed nodes (lookup, revalidate,
 * getattr, setattr, atime, permission, statfs).
 */

#include "bpf_internal.h"

#include <linux/cred.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/posix_acl.h>
#include <linux/statfs.h>

/*
 * A name the kernel found was checked against the backing just now: it
 * holds until the backing says otherwise, or with a backing_timeout, for
 * that long, as a FUSE entry timeout.
 */
static void fuse_bpf_entry_checked(struct dentry *entry, struct inode *inode)
{
	u32 ms = READ_ONCE(get_fuse_inode(inode)->backing_timeout);
	struct fuse_entry_out valid = {
		.entry_valid = ms ? ms / MSEC_PER_SEC : U32_MAX,
		.entry_valid_nsec = ms % MSEC_PER_SEC * NSEC_PER_MSEC,
	};

	fuse_change_entry_timeout(entry, &valid);
}

/* A positive dentry the kernel made or found. */
void fuse_bpf_entry_valid(struct dentry *entry)
{
	fuse_bpf_entry_checked(entry, d_inode(entry));
}

/* lookup */

struct fuse_bpf_lookup_io {
	struct fuse_entry_out out;
	struct inode *dir;
	struct dentry *entry;
	const struct qstr *name;
	struct dentry *backing;
	struct dentry *res;
	bool revalidate;	/* only tell whether @entry is still valid */
	int valid;		/* then: 1, 0 or the filter's error */
};

static int fuse_bpf_lookup_init_in(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lookup_io *io = data;

	fuse_bpf_name_arg(fa, io->name);
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

	if (io->revalidate) {
		/*
		 * Invalid only when the backing now holds another object (or
		 * none); a refusal that may depend on the caller fails this
		 * walk, and leaves the dentry (and what is mounted on it) to
		 * others.
		 */
		if (fa->meta.error)
			io->valid = fa->meta.error;
		else
			io->valid = d_inode(io->backing) ==
				    fuse_bpf_backing_inode(d_inode(io->entry));
		dput(io->backing);
		return 0;
	}
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
	.filter = FUSE_BPF_OP_IDX(lookup),
	FUSE_BPF_OUT(struct fuse_bpf_lookup_io, out),
	.init_in = fuse_bpf_lookup_init_in,
	.backing = fuse_bpf_lookup_backing,
	.init_post = fuse_bpf_lookup_init_post,
	.finalize = fuse_bpf_lookup_finalize,
};

bool __fuse_bpf_lookup(struct dentry **res, struct inode *dir,
		       struct dentry *entry, unsigned int flags)
{
	struct fuse_bpf_lookup_io io = {
		.dir = dir,
		.entry = entry,
		.name = &entry->d_name,
	};
	int err;

	if (!fuse_bpf_run(&fuse_bpf_lookup_op, dir, &io, &err))
		return false;
	*res = err ? ERR_PTR(err) : io.res;
	return true;
}

/*
 * A lookup filter may decide by who asks (uid, pid), and may have been
 * replaced since the dentry was made: run it again (in RCU walk, see
 * fuse_bpf_revalidate_filter_rcu()).
 * Return: 1 valid, 0 invalid, or the filter's error for this walk. A
 * filter that sends the lookup to the server leaves the dentry as the
 * backing has it: the server sees fresh lookups only.
 */
static int fuse_bpf_revalidate_filter(struct dentry *entry)
{
	struct fuse_bpf_lookup_io io = {
		.entry = entry,
		.revalidate = true,
		.valid = 1,
	};
	struct name_snapshot name;
	struct dentry *parent;
	int err;

	/* Neither the parent nor the name are stable under a rename. */
	parent = dget_parent(entry);
	io.dir = d_inode(parent);
	take_dentry_name_snapshot(&name, entry);
	io.name = &name.name;
	/* A prefilter's error ends the pipeline before finalize. */
	if (fuse_bpf_inode_backed(io.dir) &&
	    fuse_bpf_run(&fuse_bpf_lookup_op, io.dir, &io, &err) && err)
		io.valid = err;
	release_dentry_name_snapshot(&name);
	dput(parent);
	return io.valid;
}

/*
 * The same in RCU walk, where @dir is the parent found under RCU and
 * @name a copy of the backing name the entry's was found equal to (the
 * entry holds no reference, so its name cannot be taken): a filter that
 * lets the name through as it is (or sends the lookup to the server)
 * keeps the dentry valid, and its error fails this walk, without leaving
 * RCU walk; anything else is decided by fuse_bpf_revalidate_filter(),
 * which runs the filter again.
 */
static int fuse_bpf_revalidate_filter_rcu(struct inode *dir,
					  struct dentry *entry,
					  const struct qstr *name)
{
	struct fuse_bpf_lookup_io io = {
		.dir = dir,
		.entry = entry,
		.name = name,
		.revalidate = true,
	};
	int ret;

	ret = fuse_bpf_run_prefilter(&fuse_bpf_lookup_op, dir, &io);
	return ret < 0 ? ret : 1;
}

/**
 * __fuse_bpf_revalidate() - revalidate a dentry of a backed directory
 * @res: the result: 1 valid, 0 invalid, or a negative errno for this walk
 * @entry: the dentry, on a fuse-bpf mount
 * @flags: lookup flags
 *
 * A node the kernel found in a backing directory is valid while its
 * backing dentry is still hashed under the same parent and name: a rename
 * or unlink done directly in the backing directory invalidates it.
 * Negative dentries of backed directories are never trusted. Nodes the
 * server named keep the server's entry timeouts. In a directory with a
 * lookup filter, the filter is run again (fuse_bpf_revalidate_filter(),
 * in RCU walk fuse_bpf_revalidate_filter_rcu() for a short name). With a
 * backing_timeout, a name checked less than that long ago is taken as
 * valid without the check. In every case, what permission checks read of
 * the node is brought up to date with the backing inode first.
 *
 * Return: true when fuse-bpf decided.
 */
bool __fuse_bpf_revalidate(int *res, struct dentry *entry, unsigned int flags)
{
	/* In RCU walk the parent may be NULL. */
	struct inode *dir = d_inode_rcu(READ_ONCE(entry->d_parent));
	struct inode *inode = d_inode_rcu(entry);
	unsigned char copy[DNAME_INLINE_LEN] __uninitialized;
	struct qstr name = QSTR_INIT(NULL, 0);
	struct dentry *backing, *parent;
	bool filtered, timeout;

	if (!inode) {
		if (!dir || !fuse_bpf_inode_backed(dir))
			return false;
		*res = 0;
		return true;
	}
	if (!fuse_bpf_inode_backed(inode))
		return false;

	/*
	 * In RCU walk the inode may be evicted under us: read each backing
	 * pointer once. What the VFS checks on the node next (sticky bit,
	 * hard link protection, ownership) must not be stale.
	 */
	backing = READ_ONCE(get_fuse_inode(inode)->backing_path.dentry);
	if (flags & LOOKUP_RCU) {
		if (!backing || !d_inode_rcu(backing) ||
		    fuse_bpf_attr_stale(inode, d_inode_rcu(backing))) {
			*res = -ECHILD;
			return true;
		}
	} else {
		fuse_bpf_refresh(inode);
	}
	/* Nodes the server named keep the server's entry timeouts. */
	if (!(get_fuse_inode(inode)->nodeid & FUSE_BPF_NODEID_BIT))
		return false;

	*res = 0;
	if (d_unhashed(backing))
		return true;
	parent = dir ? READ_ONCE(get_fuse_inode(dir)->backing_path.dentry) :
		       NULL;
	filtered = parent && fuse_bpf_has_callback(dir, FUSE_BPF_OP_IDX(lookup));
	/*
	 * backing_timeout=: a name checked lately holds (unless a lookup
	 * filter is to see it again); an older one is checked below, and
	 * renewed.
	 */
	timeout = !filtered && READ_ONCE(get_fuse_inode(inode)->backing_timeout);
	if (timeout && time_before64(get_jiffies_64(), fuse_entry_time(entry))) {
		*res = 1;
		return true;
	}
	if (parent) {
		const unsigned char *str;
		unsigned int len;
		bool same;

		/*
		 * The backing name is stable under its d_lock. The entry's may
		 * change under a rename: as dentry_cmp() does, read its pointer
		 * once, under RCU, and compare up to its NUL, never past it.
		 */
		rcu_read_lock();
		spin_lock(&backing->d_lock);
		str = READ_ONCE(entry->d_name.name);
		len = backing->d_name.len;
		same = backing->d_parent == parent &&
		       !strncmp(str, backing->d_name.name, len) && !str[len];
		/* What a filter in RCU walk sees: the name compared. */
		if (same && filtered && (flags & LOOKUP_RCU) &&
		    len < sizeof(copy)) {
			memcpy(copy, backing->d_name.name, len);
			copy[len] = '\0';
			name = (struct qstr)QSTR_INIT(copy, len);
		}
		spin_unlock(&backing->d_lock);
		rcu_read_unlock();
		if (!same)
			return true;
	}
	if (filtered) {
		if (!(flags & LOOKUP_RCU))
			*res = fuse_bpf_revalidate_filter(entry);
		else if (name.name)
			*res = fuse_bpf_revalidate_filter_rcu(dir, entry, &name);
		else
			*res = -ECHILD;
		return true;
	}
	/* In RCU walk too: the dentry's memory outlives the walk. */
	if (timeout)
		fuse_bpf_entry_checked(entry, inode);
	*res = 1;
	return true;
}

/* getattr */

struct fuse_bpf_getattr_io {
	struct fuse_getattr_in in;
	struct fuse_attr_out out;
	struct inode *inode;
	struct kstat *stat;
	u32 request_mask;
	unsigned int flags;
	bool update;	/* for fuse_update_attributes(): the node's */
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

/*
 * A stat reads the backing inode; the fuse inode's attributes are brought
 * up to date where the kernel acts on them (permission, revalidation,
 * setattr, after each change made through the mount), and here only for
 * fuse_update_attributes(), which asks for them.
 */
static int fuse_bpf_getattr_done(struct fuse_bpf_getattr_io *io)
{
	/* The size, at least: the VFS bounds a copy_file_range() by it. */
	if (io->update)
		fuse_bpf_copy_attr(io->inode);
	else
		fuse_bpf_copy_size(io->inode);
	io->stat->dev = io->inode->i_sb->s_dev;
	return 0;
}

static int fuse_bpf_getattr_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_getattr_io *io = data;

	if (fa->meta.error)
		return fa->meta.error;
	if (fa->post)
		fuse_bpf_attr_to_stat(&io->out.attr, io->stat);
	return fuse_bpf_getattr_done(io);
}

static int fuse_bpf_getattr_direct(void *data)
{
	return fuse_bpf_getattr_backing(NULL, data) ?: fuse_bpf_getattr_done(data);
}

static const struct fuse_bpf_op fuse_bpf_getattr_op = {
	.opcode = FUSE_GETATTR,
	.filter = FUSE_BPF_OP_IDX(getattr),
	FUSE_BPF_IN(struct fuse_bpf_getattr_io, in),
	FUSE_BPF_OUT(struct fuse_bpf_getattr_io, out),
	.backing = fuse_bpf_getattr_backing,
	.init_post = fuse_bpf_getattr_init_post,
	.finalize = fuse_bpf_getattr_finalize,
	.direct = fuse_bpf_getattr_direct,
};

/*
 * backing_timeout=: a stat from the attributes the node has, as FUSE's
 * attribute cache serves one, when no filter is to see it.
 */
static bool fuse_bpf_getattr_cached(struct inode *inode, struct kstat *stat,
				    u32 request_mask, unsigned int flags)
{
	if (!stat || (flags & AT_STATX_FORCE_SYNC) ||
	    (request_mask & ~STATX_BASIC_STATS) ||
	    !fuse_bpf_attr_cached(inode) ||
	    fuse_bpf_has_callback(inode, FUSE_BPF_OP_IDX(getattr)))
		return false;
	generic_fillattr(&nop_mnt_idmap, request_mask ?: STATX_BASIC_STATS,
			 inode, stat);
	return true;
}

/* Apart, so that a stat from the cache does not set up @io. */
static noinline bool fuse_bpf_getattr_run(int *err, struct inode *inode,
					  struct kstat *stat, u32 request_mask,
					  unsigned int flags)
{
	struct fuse_bpf_getattr_io io = {
		.inode = inode,
		.request_mask = request_mask ?: STATX_BASIC_STATS,
		/* the backing call goes through its own security check */
		.flags = flags & ~AT_GETATTR_NOSEC,
		.update = !stat || READ_ONCE(get_fuse_inode(inode)->backing_timeout),
	};
	/* vfs_getattr_nosec() clears it first */
	struct kstat tmp __uninitialized;

	io.stat = stat ?: &tmp;
	return fuse_bpf_run(&fuse_bpf_getattr_op, inode, &io, err);
}

bool __fuse_bpf_getattr(int *err, struct inode *inode, struct kstat *stat,
			u32 request_mask, unsigned int flags)
{
	if (fuse_bpf_getattr_cached(inode, stat, request_mask, flags)) {
		*err = 0;
		return true;
	}
	return fuse_bpf_getattr_run(err, inode, stat, request_mask, flags);
}

/* setattr */

struct fuse_bpf_setattr_io {
	struct fuse_setattr_in in;
	struct dentry *dentry;
	struct iattr *attr;	/* the caller's, checked by setattr_prepare() */
	struct iattr backing;	/* what the backing call does */
};

/*
 * What a prefilter may change of an iattr: these fields and valid bits,
 * whose FATTR_* and ATTR_* values are the same.
 */
#define FUSE_BPF_SETATTR_VALID	(ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE)
static_assert(FATTR_MODE == ATTR_MODE && FATTR_UID == ATTR_UID &&
	      FATTR_GID == ATTR_GID && FATTR_SIZE == ATTR_SIZE);

/*
 * The request a SETATTR would carry: a backed node's times are its backing
 * inode's, so never the kernel's own (no trust_local_cmtime).
 */
static void fuse_bpf_iattr_to_in(struct inode *inode, struct iattr *attr,
				 struct fuse_setattr_in *in)
{
	fuse_iattr_to_fattr(&nop_mnt_idmap, get_fuse_conn(inode), attr, in,
			    false);
}

/*
 * After the prefilter, as the caller: what the prefilter changed is
 * checked as if the caller had asked for it (a filter can take rights
 * away, never give them), and setattr_prepare() strips S_ISGID for it.
 */
static int fuse_bpf_setattr_init_out(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_setattr_io *io = data;
	struct iattr *attr = &io->backing;
	struct fuse_setattr_in asked = {};
	struct inode *inode = d_inode(io->dentry);

	*attr = *io->attr;
	fuse_bpf_iattr_to_in(inode, attr, &asked);
	if (asked.valid == io->in.valid && asked.size == io->in.size &&
	    asked.mode == io->in.mode && asked.uid == io->in.uid &&
	    asked.gid == io->in.gid)
		return 0;

	attr->ia_valid &= io->in.valid | ~FUSE_BPF_SETATTR_VALID;
	attr->ia_valid &= ~ATTR_FORCE;
	attr->ia_mode = (io->in.mode & S_IALLUGO) | (inode->i_mode & S_IFMT);
	attr->ia_uid = make_kuid(get_fuse_conn(inode)->user_ns, io->in.uid);
	attr->ia_gid = make_kgid(get_fuse_conn(inode)->user_ns, io->in.gid);
	attr->ia_size = io->in.size;
	if (((attr->ia_valid & ATTR_UID) && !uid_valid(attr->ia_uid)) ||
	    ((attr->ia_valid & ATTR_GID) && !gid_valid(attr->ia_gid)))
		return -EINVAL;
	/*
	 * A mode the prefilter set in a request that kills suid/sgid (a
	 * chown, a write) replaces the mode the kill would compute: kill in
	 * it, rather than drop it (notify_change() takes one or the other).
	 */
	if ((attr->ia_valid & ATTR_MODE) && asked.mode != io->in.mode &&
	    (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))) {
		if (attr->ia_valid & ATTR_KILL_SUID)
			attr->ia_mode &= ~S_ISUID;
		if (attr->ia_valid & ATTR_KILL_SGID)
			attr->ia_mode &= ~S_ISGID;
		attr->ia_valid &= ~(ATTR_KILL_SUID | ATTR_KILL_SGID);
	}
	return setattr_prepare(&nop_mnt_idmap, io->dentry, attr);
}

static int fuse_bpf_setattr_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_setattr_io *io = data;
	struct path *path = fuse_bpf_backing_path(d_inode(io->dentry));
	struct inode *backing = d_inode(path->dentry);
	struct iattr attr = io->backing;
	bool size = attr.ia_valid & ATTR_SIZE;
	int err;

	/* The fuse file is not the backing file: truncate by path. */
	attr.ia_valid &= ~ATTR_FILE;
	attr.ia_file = NULL;
	/*
	 * The caller decided which of suid/sgid to kill: notify_change()
	 * recomputes the mode from the backing inode's.
	 */
	if (attr.ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr.ia_valid &= ~ATTR_MODE;

	err = mnt_want_write(path->mnt);
	if (err)
		return err;
	/* Not a file being executed, as ovl_setattr() checks (-ETXTBSY). */
	if (size) {
		err = get_write_access(backing);
		if (err)
			goto out;
	}
	inode_lock(backing);
	err = notify_change(mnt_idmap(path->mnt), path->dentry, &attr, NULL);
	inode_unlock(backing);
	if (size)
		put_write_access(backing);
out:
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
	.filter = FUSE_BPF_OP_IDX(setattr),
	FUSE_BPF_IN(struct fuse_bpf_setattr_io, in),
	.init_out = fuse_bpf_setattr_init_out,
	.backing = fuse_bpf_setattr_backing,
	.finalize = fuse_bpf_setattr_finalize,
};

bool __fuse_bpf_setattr(int *err, struct dentry *dentry, struct iattr *attr,
			struct file *file)
{
	struct fuse_bpf_setattr_io io = { .dentry = dentry, .attr = attr };
	struct inode *inode = d_inode(dentry);

	/* The caller's permission, against the attributes of the node. */
	fuse_bpf_copy_attr(inode);
	/*
	 * An fd-based truncate or chown decided which of suid/sgid to kill
	 * on attributes no lookup refreshed: decide again, never less.
	 */
	if (!S_ISDIR(inode->i_mode) &&
	    (attr->ia_valid & (ATTR_SIZE | ATTR_UID | ATTR_GID)))
		attr->ia_valid |= setattr_should_drop_suidgid(&nop_mnt_idmap,
							      inode);
	*err = setattr_prepare(&nop_mnt_idmap, dentry, attr);
	if (*err)
		return true;
	/* What the filter sees is what the caller may do. */
	fuse_bpf_iattr_to_in(inode, attr, &io.in);
	return fuse_bpf_run(&fuse_bpf_setattr_op, inode, &io, err);
}

/* atime */

/*
 * Whether the backing inode keeps atime at all: what atime_needs_update()
 * asks of an inode and its super block, without the mount's options.
 */
static bool fuse_bpf_backing_keeps_atime(const struct path *path)
{
	struct inode *backing = d_inode(path->dentry);

	if (backing->i_flags & S_NOATIME)
		return false;
	if (HAS_UNMAPPED_ID(mnt_idmap(path->mnt), backing))
		return false;
	if (IS_NOATIME(backing))
		return false;
	return !((backing->i_sb->s_flags & SB_NODIRATIME) &&
		 S_ISDIR(backing->i_mode));
}

/* Set the backing atime, unless the backing is read-only or frozen. */
static void fuse_bpf_touch_backing(struct inode *inode)
{
	struct path *path = fuse_bpf_backing_path(inode);
	struct inode *backing = d_inode(path->dentry);
	const struct cred *old_cred;

	if (!fuse_bpf_backing_keeps_atime(path) ||
	    !sb_start_write_trylock(backing->i_sb))
		return;
	if (!mnt_get_write_access(path->mnt)) {
		old_cred = override_creds(get_fuse_inode(inode)->backing_cred);
		inode_update_time(backing, S_ATIME);
		revert_creds(old_cred);
		mnt_put_write_access(path->mnt);
	}
	sb_end_write(backing->i_sb);
}

/**
 * __fuse_bpf_update_time() - touch_atime() and file_update_time() on a
 * backed node
 * @err: the result
 * @inode: the node, backed
 * @flags: what to update (%S_ATIME, %S_MTIME, %S_CTIME, %S_VERSION)
 *
 * The fuse mount decided that atime changes (its noatime, relatime,
 * strictatime, read-only), as for an overlayfs file (ovl_update_time()):
 * set the backing inode's, and copy it. The backing mount's atime options
 * are not asked again (overlayfs clears them on its private upper mount),
 * but a read-only or frozen backing, a backing inode or super block that
 * keeps no atime (chattr +A, noatime, nodiratime) and one whose owner the
 * backing mount cannot map are left alone. Anything else (a node the
 * server named, without S_NOCMTIME, written through a file the server
 * opened) is updated in the fuse inode as before.
 *
 * Return: true, it was served.
 */
bool __fuse_bpf_update_time(int *err, struct inode *inode, int flags)
{
	*err = 0;
	if (flags & S_ATIME) {
		fuse_bpf_touch_backing(inode);
		inode_set_atime_to_ts(inode,
				      inode_get_atime(fuse_bpf_backing_inode(inode)));
	}
	if (flags & ~S_ATIME)
		*err = generic_update_time(inode, flags & ~S_ATIME);
	return true;
}

/* permission: the caller against the node, the backing cred against the backing. */

struct fuse_bpf_access_io {
	struct fuse_access_in in;
	struct inode *inode;
};

/* What a prefilter may leave in the mask: access bits, no internal flag. */
#define FUSE_BPF_ACCESS_MASK	(MAY_READ | MAY_WRITE | MAY_EXEC | MAY_APPEND | \
				 MAY_ACCESS | MAY_OPEN | MAY_CHDIR)

static int fuse_bpf_access_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_access_io *io = data;
	struct path *path = fuse_bpf_backing_path(io->inode);

	return inode_permission(mnt_idmap(path->mnt), d_inode(path->dentry),
				io->in.mask & FUSE_BPF_ACCESS_MASK);
}

static int fuse_bpf_access_direct(void *data)
{
	return fuse_bpf_access_backing(NULL, data);
}

static const struct fuse_bpf_op fuse_bpf_access_op = {
	.opcode = FUSE_ACCESS,
	.filter = FUSE_BPF_OP_IDX(access),
	FUSE_BPF_IN(struct fuse_bpf_access_io, in),
	.backing = fuse_bpf_access_backing,
	.direct = fuse_bpf_access_direct,
};

/*
 * RCU walk: decide without sleeping and without writing the inode, else
 * -ECHILD. Eviction drops the backing under an RCU walker's feet, so each
 * pointer is read once (their memory outlives the walk) and the
 * credentials are used only while they are still alive. Filters never
 * sleep: an access prefilter runs here, and what it does not let through
 * as it is (the server's word, a postfilter) is decided out of RCU walk.
 */
static int fuse_bpf_permission_rcu(struct inode *inode, int mask)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	struct dentry *dentry = READ_ONCE(fi->backing_path.dentry);
	struct vfsmount *mnt = READ_ONCE(fi->backing_path.mnt);
	const struct cred *cred = READ_ONCE(fi->backing_cred);
	const struct cred *old_cred;
	struct inode *backing;
	int err;

	if (!dentry || !mnt || !cred)
		return -ECHILD;
	backing = d_inode_rcu(dentry);
	if (!backing || fuse_bpf_attr_stale(inode, backing))
		return -ECHILD;
	err = generic_permission(&nop_mnt_idmap, inode, mask);
	if (err)
		return err;
	if (fuse_bpf_has_callback(inode, FUSE_BPF_OP_IDX(access))) {
		struct fuse_bpf_access_io io = {
			.inode = inode,
			.in.mask = mask & ~MAY_NOT_BLOCK,
		};

		err = fuse_bpf_run_prefilter(&fuse_bpf_access_op, inode, &io);
		if (err < 0)
			return err;
		if (err != FUSE_BPF_CONTINUE)
			return -ECHILD;
		mask = (io.in.mask & FUSE_BPF_ACCESS_MASK) | MAY_NOT_BLOCK;
	}
	cred = get_cred_rcu(cred);
	if (!cred)
		return -ECHILD;
	old_cred = override_creds(cred);
	err = inode_permission(mnt_idmap(mnt), backing, mask);
	revert_creds(old_cred);
	put_cred(cred);
	return err;
}

/**
 * __fuse_bpf_permission() - may the caller access a backed node
 * @err: the result
 * @inode: the node, backed
 * @mask: the access, with %MAY_NOT_BLOCK in RCU walk
 *
 * As ovl_permission(): the caller against the fuse inode, whose mode,
 * owner and flags are the backing inode's and whose ACLs are read from
 * the backing inode (fuse_bpf_get_inode_acl()), then the registered
 * credentials against the backing inode.
 *
 * Return: true when fuse-bpf decided (*@err), false when a filter sent
 * the check to the server.
 */
bool __fuse_bpf_permission(int *err, struct inode *inode, int mask)
{
	struct fuse_bpf_access_io io = { .inode = inode, .in.mask = mask };

	if (mask & MAY_NOT_BLOCK) {
		*err = fuse_bpf_permission_rcu(inode, mask);
		return true;
	}

	fuse_bpf_refresh(inode);
	*err = generic_permission(&nop_mnt_idmap, inode, mask);
	if (*err)
		return true;
	return fuse_bpf_run(&fuse_bpf_access_op, inode, &io, err);
}

/**
 * __fuse_bpf_get_inode_acl() - the ACL of a backed node, for permission
 * @res: the ACL, referenced (not in RCU walk), NULL or an ERR_PTR
 * @inode: the node
 * @type: %ACL_TYPE_ACCESS or %ACL_TYPE_DEFAULT
 * @rcu: in RCU walk, where only a cached ACL may be used
 *
 * The backing inode's, as ovl_get_inode_acl() does; backed nodes cache
 * none of their own (%ACL_DONT_CACHE), so a change made directly in the
 * backing tree counts at once.
 *
 * Return: true, fuse-bpf answered (*@res).
 */
bool __fuse_bpf_get_inode_acl(struct posix_acl **res, struct inode *inode,
			      int type, bool rcu)
{
	struct dentry *dentry;
	struct inode *backing;

	dentry = READ_ONCE(get_fuse_inode(inode)->backing_path.dentry);
	backing = dentry ? d_inode_rcu(dentry) : NULL;
	if (!backing)
		*res = ERR_PTR(-ECHILD);
	else if (!IS_POSIXACL(backing))
		*res = NULL;
	else if (rcu)
		*res = get_cached_acl_rcu(backing, type);
	else
		*res = get_inode_acl(backing, type);
	return true;
}

/**
 * __fuse_bpf_set_acl() - before an ACL is set on a backed node
 * @err: the result, when not 0
 * @dentry: the node
 * @acl: the ACL, NULL to remove it
 * @type: %ACL_TYPE_ACCESS or %ACL_TYPE_DEFAULT
 *
 * set_posix_acl() checked that the caller owns the node. The ACL is then
 * set with the registered credentials, for which the backing file system
 * keeps S_ISGID (posix_acl_update_mode()): clear it first for a caller
 * outside the owning group, as ovl_set_acl() does.
 *
 * Return: true when that failed (*@err), false when fuse goes on to set
 * the ACL.
 */
bool __fuse_bpf_set_acl(int *err, struct dentry *dentry, struct posix_acl *acl,
			int type)
{
	struct inode *inode = d_inode(dentry);
	struct iattr iattr = { .ia_valid = ATTR_KILL_SGID };

	fuse_bpf_copy_attr(inode);
	*err = 0;
	if (acl && type == ACL_TYPE_ACCESS && (inode->i_mode & S_ISGID) &&
	    !in_group_or_capable(&nop_mnt_idmap, inode,
				 i_gid_into_vfsgid(&nop_mnt_idmap, inode)))
		fuse_bpf_setattr(err, dentry, &iattr, NULL);
	return *err != 0;
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
	.filter = FUSE_BPF_OP_IDX(statfs),
	FUSE_BPF_OUT(struct fuse_bpf_statfs_io, out),
	.backing = fuse_bpf_statfs_backing,
	.init_post = fuse_bpf_statfs_init_post,
	.finalize = fuse_bpf_statfs_finalize,
};

bool __fuse_bpf_statfs(int *err, struct dentry *dentry, struct kstatfs *buf)
{
	struct fuse_bpf_statfs_io io = { .inode = d_inode(dentry), .buf = buf };

	return fuse_bpf_run(&fuse_bpf_statfs_op, io.inode, &io, err);
}
