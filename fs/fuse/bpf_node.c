// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: backing objects of fuse nodes.
 *
 * A backed fuse inode holds a path to its backing object and the
 * credentials backing operations run with: those of the mounter for the
 * root backing, those the server had when it registered the backing
 * (FUSE_DEV_IOC_BACKING_OPEN) for backing named in a LOOKUP reply. Nodes
 * found by looking a name up in a backing directory inherit the
 * credentials of the directory.
 */

#include "bpf_internal.h"

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs_context.h>
#include <linux/fs_stack.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/posix_acl.h>
#include <linux/seq_file.h>

DEFINE_STATIC_KEY_FALSE(fuse_bpf_mounted);

/* Attributes of the fuse inode follow those of the backing inode. */
void fuse_bpf_stat_to_attr(const struct kstat *stat, struct fuse_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->ino = stat->ino;
	attr->size = stat->size;
	attr->blocks = stat->blocks;
	attr->atime = stat->atime.tv_sec;
	attr->atimensec = stat->atime.tv_nsec;
	attr->mtime = stat->mtime.tv_sec;
	attr->mtimensec = stat->mtime.tv_nsec;
	attr->ctime = stat->ctime.tv_sec;
	attr->ctimensec = stat->ctime.tv_nsec;
	attr->mode = stat->mode;
	attr->nlink = stat->nlink;
	attr->uid = from_kuid(&init_user_ns, stat->uid);
	attr->gid = from_kgid(&init_user_ns, stat->gid);
	attr->rdev = new_encode_dev(stat->rdev);
	attr->blksize = stat->blksize;
}

/*
 * The inode flags the VFS checks on the fuse inode for the caller, as
 * overlayfs copies them (OVL_COPY_I_FLAGS_MASK): append-only and
 * immutable refuse opens, truncates, xattr and ACL changes before any
 * backing call is made.
 */
#define FUSE_BPF_COPY_I_FLAGS	(S_SYNC | S_APPEND | S_IMMUTABLE)

/**
 * fuse_bpf_attr_stale() - whether a fuse inode lags behind its backing
 * @inode: a backed fuse inode
 * @backing: its backing inode
 *
 * For RCU walk, which must not write the inode: what permission checks
 * read (mode, owner, flags) differs from the backing inode's.
 *
 * Return: true when fuse_bpf_copy_attr() would change them.
 */
bool fuse_bpf_attr_stale(struct inode *inode, struct inode *backing)
{
	return READ_ONCE(inode->i_mode) != READ_ONCE(backing->i_mode) ||
	       !uid_eq(READ_ONCE(inode->i_uid), READ_ONCE(backing->i_uid)) ||
	       !gid_eq(READ_ONCE(inode->i_gid), READ_ONCE(backing->i_gid)) ||
	       ((READ_ONCE(inode->i_flags) ^ READ_ONCE(backing->i_flags)) &
		FUSE_BPF_COPY_I_FLAGS);
}

/* What permission checks read: mode, owner, the append/immutable flags. */
static void fuse_bpf_copy_perm(struct inode *inode, struct inode *backing)
{
	inode_set_flags(inode, backing->i_flags & FUSE_BPF_COPY_I_FLAGS,
			FUSE_BPF_COPY_I_FLAGS);
	inode->i_mode = backing->i_mode;
	inode->i_uid = backing->i_uid;
	inode->i_gid = backing->i_gid;
}

/* The times, as relatime compares them before an atime update. */
void fuse_bpf_copy_times(struct inode *inode, struct inode *backing)
{
	inode_set_atime_to_ts(inode, inode_get_atime(backing));
	inode_set_mtime_to_ts(inode, inode_get_mtime(backing));
	inode_set_ctime_to_ts(inode, inode_get_ctime(backing));
}

/**
 * fuse_bpf_copy_attr() - bring a fuse inode's attributes up to date
 * @inode: a backed fuse inode
 *
 * Copies mode, owner, size, times, link count and the flags in
 * %FUSE_BPF_COPY_I_FLAGS of the backing inode, and uses the backing
 * inode number, so that st_ino and d_ino agree. With a backing_timeout,
 * a stat may take them until it runs out (fuse_bpf_attr_cached()). Never
 * in RCU walk.
 */
void fuse_bpf_copy_attr(struct inode *inode)
{
	struct inode *backing = fuse_bpf_backing_inode(inode);
	struct fuse_inode *fi = get_fuse_inode(inode);
	u32 timeout = READ_ONCE(fi->backing_timeout);
	u64 version = READ_ONCE(fi->attr_version);

	/* An invalidation from now on counts: clear before the copy. */
	if (timeout && (READ_ONCE(fi->inval_mask) & FUSE_BPF_CACHE_INVAL))
		set_mask_bits(&fi->inval_mask, FUSE_BPF_CACHE_INVAL, 0);
	/* Not fsstack_copy_attr_all(): the fuse inode keeps its i_flags. */
	fuse_bpf_copy_perm(inode, backing);
	inode->i_rdev = backing->i_rdev;
	fuse_bpf_copy_times(inode, backing);
	inode->i_blkbits = backing->i_blkbits;
	set_nlink(inode, backing->i_nlink);
	fuse_bpf_copy_size(inode);
	inode->i_ino = backing->i_ino;
	if (!timeout)
		return;
	/* backing_timeout=: the copy holds that long (fuse_bpf_attr_cached()) */
	smp_wmb();
	WRITE_ONCE(fi->backing_attr_version, version);
	WRITE_ONCE(fi->backing_attr_time,
		   get_jiffies_64() + msecs_to_jiffies(timeout));
}

/*
 * Before the VFS checks the caller against a node: what the check reads,
 * never cached; and, unless backing_timeout= lets a stat use the rest as
 * it is, the rest too.
 */
void fuse_bpf_refresh(struct inode *inode)
{
	if (fuse_bpf_attr_cached(inode))
		fuse_bpf_copy_perm(inode, fuse_bpf_backing_inode(inode));
	else
		fuse_bpf_copy_attr(inode);
}

/*
 * Only the size and blocks, where the VFS bounds I/O by them. Under
 * fi->lock, as fuse_write_update_attr() sets the size after a write of
 * the backing file: the size read here is never older than one it
 * overwrites.
 */
void fuse_bpf_copy_size(struct inode *inode)
{
	struct fuse_inode *fi = get_fuse_inode(inode);

	spin_lock(&fi->lock);
	fsstack_copy_inode_size(inode, fuse_bpf_backing_inode(inode));
	spin_unlock(&fi->lock);
}

/*
 * A backed node's ACLs are the backing inode's (fuse_bpf_get_inode_acl()):
 * it caches none, as overlayfs inodes do not (forget_cached_acl() keeps
 * %ACL_DONT_CACHE).
 */
static void fuse_bpf_dont_cache_acls(struct inode *inode)
{
	if (!IS_ENABLED(CONFIG_FS_POSIX_ACL))
		return;
	forget_all_cached_acls(inode);
	WRITE_ONCE(inode->i_acl, ACL_DONT_CACHE);
	WRITE_ONCE(inode->i_default_acl, ACL_DONT_CACHE);
}

/* Whether the backing mount of a device node refuses to open devices. */
static bool fuse_bpf_nodev(const struct path *path)
{
	umode_t mode = d_inode(path->dentry)->i_mode;

	return (S_ISCHR(mode) || S_ISBLK(mode)) &&
	       ((path->mnt->mnt_flags & MNT_NODEV) ||
		(path->mnt->mnt_sb->s_iflags & SB_I_NODEV));
}

static int fuse_bpf_nodev_open(struct inode *inode, struct file *file)
{
	return -EACCES;
}

/* A device of a nodev mount stays closed through the fuse mount. */
static const struct file_operations fuse_bpf_nodev_fops = {
	.open = fuse_bpf_nodev_open,
};

static int fuse_bpf_set_backing(struct inode *inode, const struct path *path,
				const struct cred *cred)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	struct inode *backing = d_inode(path->dentry);

	if ((inode->i_mode & S_IFMT) != (backing->i_mode & S_IFMT))
		return -EINVAL;
	if (fuse_bpf_nodev(path))
		return -EPERM;

	/* Before the node is seen backed: no ACL the server gave applies. */
	fuse_bpf_dont_cache_acls(inode);
	spin_lock(&fi->lock);
	if (fi->backing_path.dentry) {
		bool same = d_inode(fi->backing_path.dentry) == backing;

		spin_unlock(&fi->lock);
		/* A node's backing never changes once set. */
		return same ? 0 : -EINVAL;
	}
	/*
	 * The inode may be in use already: publish the dentry last, so that
	 * whoever sees it backed (fuse_bpf_inode_backed()) sees the rest.
	 */
	fi->backing_cred = get_cred(cred);
	fi->backing_path.mnt = mntget(path->mnt);
	/* Pairs with smp_load_acquire() in fuse_bpf_inode_backed(). */
	smp_store_release(&fi->backing_path.dentry, dget(path->dentry));
	spin_unlock(&fi->lock);
	/* fuse_iget() set S_NOATIME: a backed node's atime is the mount's. */
	inode_set_flags(inode, 0, S_NOATIME);
	fuse_bpf_copy_attr(inode);
	return 0;
}

/**
 * __fuse_bpf_change_attributes() - a server's attributes for a backed node
 * @inode: the node, backed
 *
 * Instead of what the server replied, the backing inode's, as every
 * permission check reads them (a server's attributes lose S_ISVTX without
 * default_permissions, and may be older). The reply's caller has just
 * forgotten the node's ACLs: no ACL is to be cached on it either.
 */
void __fuse_bpf_change_attributes(struct inode *inode)
{
	struct fuse_inode *fi = get_fuse_inode(inode);

	fuse_bpf_dont_cache_acls(inode);
	spin_lock(&fi->lock);
	fi->attr_version = atomic64_inc_return(&get_fuse_conn(inode)->attr_version);
	spin_unlock(&fi->lock);
	fuse_bpf_copy_attr(inode);
}

void __fuse_bpf_evict_inode(struct inode *inode)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	struct path path = fi->backing_path;
	const struct cred *cred = fi->backing_cred;

	if (rcu_access_pointer(fi->bpf_filter))
		fuse_bpf_set_filter(inode, NULL);
	if (!path.dentry)
		return;
	/*
	 * An RCU walker may still look at the inode: it reads each pointer
	 * once, and what they point to is freed after a grace period.
	 */
	WRITE_ONCE(fi->backing_path.dentry, NULL);
	WRITE_ONCE(fi->backing_path.mnt, NULL);
	WRITE_ONCE(fi->backing_cred, NULL);
	path_put(&path);
	put_cred(cred);
}

struct fuse_bpf_iget_key {
	const struct path *path;
	struct inode *dir;
	struct fuse_conn *fc;
};

static int fuse_bpf_inode_eq(struct inode *inode, void *data)
{
	struct fuse_bpf_iget_key *key = data;
	struct fuse_inode *fi = get_fuse_inode(inode);

	/* The mount counts: a read-only or idmapped one is another node. */
	return (fi->nodeid & FUSE_BPF_NODEID_BIT) &&
	       fi->backing_path.dentry &&
	       fi->backing_path.mnt == key->path->mnt &&
	       d_inode(fi->backing_path.dentry) == d_inode(key->path->dentry);
}

static int fuse_bpf_inode_set(struct inode *inode, void *data)
{
	struct fuse_bpf_iget_key *key = data;
	struct fuse_inode *fi = get_fuse_inode(inode);

	/* Called under the inode hash lock: only take references. */
	path_get(key->path);
	fi->backing_path = *key->path;
	fi->backing_cred = get_cred(get_fuse_inode(key->dir)->backing_cred);
	fi->nodeid = FUSE_BPF_NODEID_BIT |
		     atomic64_inc_return(&key->fc->bpf_nodeid_ctr);
	return 0;
}

/**
 * fuse_bpf_iget() - the fuse inode of a backing object found by lookup
 * @dir: the backed fuse directory it was found in
 * @path: the backing object
 *
 * The inode is keyed by the backing mount and inode, so hard links share
 * it (a read-only or idmapped mount of the same inode is another node), and
 * gets a node id from the fuse-bpf range: the server never saw it, so it
 * is never sent a FORGET. A new inode inherits the credentials and the
 * filters of @dir.
 *
 * Return: the inode with a new reference, or an ERR_PTR.
 */
struct inode *fuse_bpf_iget(struct inode *dir, const struct path *path)
{
	struct super_block *sb = dir->i_sb;
	struct inode *backing = d_inode(path->dentry);
	struct fuse_bpf_iget_key key = {
		.path = path,
		.dir = dir,
		.fc = get_fuse_conn_super(sb),
	};
	struct fuse_bpf_filter *filter;
	struct fuse_attr attr;
	struct kstat stat;
	struct inode *inode;

	inode = iget5_locked(sb, (unsigned long)backing, fuse_bpf_inode_eq,
			     fuse_bpf_inode_set, &key);
	if (!inode)
		return ERR_PTR(-ENOMEM);

	if (inode->i_state & I_NEW) {
		generic_fillattr(&nop_mnt_idmap, STATX_BASIC_STATS, backing,
				 &stat);
		fuse_bpf_stat_to_attr(&stat, &attr);
		/* No S_NOATIME: the mount decides (fuse_bpf_update_time()) */
		inode->i_flags |= S_NOCMTIME;
		inode->i_generation = backing->i_generation;
		fuse_init_inode(inode, &attr, key.fc);
		if (fuse_bpf_nodev(path))
			inode->i_fop = &fuse_bpf_nodev_fops;
		fuse_change_attributes(inode, &attr, NULL, 0, 0);
		fuse_bpf_dont_cache_acls(inode);
		get_fuse_inode(inode)->backing_timeout =
			get_fuse_inode(dir)->backing_timeout;
		fuse_bpf_copy_attr(inode);
		filter = fuse_bpf_get_filter(dir);
		fuse_bpf_set_filter(inode, filter);
		fuse_bpf_filter_put(filter);
		unlock_new_inode(inode);
	} else {
		fuse_bpf_copy_attr(inode);
	}
	return inode;
}

/**
 * fuse_bpf_parse_root_dir() - the mount option root_dir=<fd>
 * @fsc: the mount context, for error messages
 * @ctx: the fuse mount options
 * @fd: a directory fd of the mounting process
 *
 * Everything that can fail is checked here, before a super block exists:
 * the privilege (CAP_SYS_ADMIN, as for backing registration), the type
 * and the stacking depth of the backing directory.
 *
 * Return: 0 or a negative errno.
 */
int fuse_bpf_parse_root_dir(struct fs_context *fsc,
			    struct fuse_fs_context *ctx, unsigned int fd)
{
	struct file *file;

	if (ctx->root_dir)
		return invalfc(fsc, "root_dir given twice");
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	file = fget_raw(fd);
	if (!file) {
		errorfc(fsc, "root_dir: bad file descriptor");
		return -EBADF;
	}
	if (!d_is_dir(file->f_path.dentry)) {
		fput(file);
		errorfc(fsc, "root_dir: not a directory");
		return -ENOTDIR;
	}
	/* The fuse-bpf super block has a stack depth of one. */
	if (file_inode(file)->i_sb->s_stack_depth >= 1) {
		fput(file);
		errorfc(fsc, "root_dir: backing file system is stacked too deep");
		return -ELOOP;
	}
	ctx->root_dir = file;
	return 0;
}

/**
 * fuse_bpf_fill_super() - set up fuse-bpf on a new mount
 * @sb: the fuse super block, with its root
 * @ctx: the mount options, checked by fuse_bpf_parse_root_dir()
 *
 * Backs the root by root_dir= with the mounter's credentials, and gives
 * it the filters of ops id ops=, which wait for their maps (every
 * operation on the root fails with -ENOTCONN until a map is attached
 * with that id).
 *
 * Return: 0 or a negative errno.
 */
int fuse_bpf_fill_super(struct super_block *sb, struct fuse_fs_context *ctx)
{
	struct fuse_conn *fc = get_fuse_conn_super(sb);
	struct fuse_bpf_filter *filter;
	const struct cred *cred;
	int err;

	if (!ctx->fuse_bpf)
		return 0;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* Filters and backing attributes carry ids of the initial namespace. */
	if (fc->user_ns != &init_user_ns)
		return -EPERM;

	err = fuse_bpf_conn_init(fc);
	if (err)
		return err;
	/* From now on, the inline predicates of fuse_bpf.h look. */
	if (!static_key_enabled(&fuse_bpf_mounted))
		static_branch_enable(&fuse_bpf_mounted);
	fc->fuse_bpf = 1;
	fc->bpf_timeout = ctx->backing_timeout;
	get_fuse_inode(d_inode(sb->s_root))->backing_timeout = fc->bpf_timeout;
	fc->max_stack_depth = 1;
	sb->s_stack_depth = 1;
	if (ctx->root_ops) {
		filter = fuse_bpf_ops_root(fc, ctx->root_ops);
		if (IS_ERR(filter))
			return PTR_ERR(filter);
		fuse_bpf_set_filter(d_inode(sb->s_root), filter);
		fuse_bpf_filter_put(filter);
	}
	if (!ctx->root_dir)
		return 0;

	/*
	 * What the backing mount refuses, the fuse mount refuses: exec
	 * (checked again per node at open, for backing named by the
	 * server) and device nodes.
	 */
	if (path_noexec(&ctx->root_dir->f_path))
		sb->s_iflags |= SB_I_NOEXEC;
	if (!may_open_dev(&ctx->root_dir->f_path))
		sb->s_iflags |= SB_I_NODEV;

	cred = get_current_cred();
	err = fuse_bpf_set_backing(d_inode(sb->s_root), &ctx->root_dir->f_path,
				   cred);
	put_cred(cred);
	if (!err && ctx->no_daemon)
		fuse_abort_conn(fc);
	return err;
}

void fuse_bpf_show_options(struct seq_file *m, struct fuse_conn *fc)
{
	if (!fc->fuse_bpf)
		return;
	seq_puts(m, fc->connected ? ",fuse_bpf" : ",no_daemon");
	if (fc->bpf_timeout)
		seq_printf(m, ",backing_timeout=%u", fc->bpf_timeout);
}

/**
 * fuse_bpf_fill_super_no_daemon() - set up a mount that has no server
 * @sb: the new fuse super block
 * @ctx: the mount options; root_dir= is required, fd= is not allowed
 *
 * The whole tree is served from the backing directory. The connection is
 * aborted at once, so that anything that would need the server fails with
 * -ENOTCONN instead of waiting for it.
 *
 * Return: 0 or a negative errno.
 */
int fuse_bpf_fill_super_no_daemon(struct super_block *sb,
				  struct fuse_fs_context *ctx)
{
	int err;

	if (ctx->file || !ctx->root_dir)
		return -EINVAL;
	ctx->rootmode = S_IFDIR;
	if (!ctx->user_id_present)
		ctx->user_id = current_fsuid();
	if (!ctx->group_id_present)
		ctx->group_id = current_fsgid();
	ctx->fudptr = NULL;

	err = fuse_fill_super_common(sb, ctx);
	if (err)
		return err;
	return fuse_bpf_fill_super(sb, ctx);
}

/*
 * LOOKUP replies. On a fuse-bpf mount a LOOKUP reply may carry a struct
 * fuse_bpf_entry_out after struct fuse_entry_out.
 */
void __fuse_bpf_lookup_init(struct fuse_args *args,
			    struct fuse_bpf_entry_out *bpf_entry)
{
	memset(bpf_entry, 0, sizeof(*bpf_entry));
	args->out_numargs = 2;
	args->out_args[1].size = sizeof(*bpf_entry);
	args->out_args[1].value = bpf_entry;
	args->out_argvar = true;
}

/**
 * __fuse_bpf_lookup_reply() - check the fuse-bpf part of a LOOKUP reply
 * @nodeid: node id the server replied with
 * @args: the request, after the reply was copied in
 * @bpf_entry: the extension, valid when it was sent
 *
 * Return: 0 if the reply is well formed, else -EINVAL (-EIO for a node id
 * in the range the kernel keeps for nodes the server never saw).
 */
int __fuse_bpf_lookup_reply(u64 nodeid, struct fuse_args *args,
			    struct fuse_bpf_entry_out *bpf_entry)
{
	if (nodeid & FUSE_BPF_NODEID_BIT)
		return -EIO;
	if (args->out_args[1].size == 0) {
		memset(bpf_entry, 0, sizeof(*bpf_entry));
		return 0;
	}
	if (args->out_args[1].size != sizeof(*bpf_entry))
		return -EINVAL;
	if (bpf_entry->reserved)
		return -EINVAL;
	if (!(bpf_entry->flags & FUSE_BPF_ENTRY_TIMEOUT) &&
	    bpf_entry->backing_timeout)
		return -EINVAL;
	switch (bpf_entry->flags & ~FUSE_BPF_ENTRY_TIMEOUT) {
	case 0:
	case FUSE_BPF_ENTRY_NO_OPS:
		if (bpf_entry->ops_id)
			return -EINVAL;
		break;
	case FUSE_BPF_ENTRY_SET_OPS:
		if (!bpf_entry->ops_id || bpf_entry->ops_id > INT_MAX)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	switch (bpf_entry->entry_type) {
	case 0:
		return bpf_entry->backing_id ? -EINVAL : 0;
	case FUSE_BPF_ENTRY_BACKING:
		if (!bpf_entry->backing_id || bpf_entry->backing_id > INT_MAX)
			return -EINVAL;
		return 0;
	case FUSE_BPF_ENTRY_NO_BACKING:
		return bpf_entry->backing_id ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

/* The filters a LOOKUP reply gives a node: set, removed or inherited. */
static int fuse_bpf_lookup_filter(struct inode *inode, u64 parent,
				  struct fuse_bpf_entry_out *bpf_entry)
{
	struct fuse_conn *fc = get_fuse_conn(inode);
	struct fuse_bpf_filter *filter;
	struct inode *dir;

	switch (bpf_entry->flags & ~FUSE_BPF_ENTRY_TIMEOUT) {
	case FUSE_BPF_ENTRY_SET_OPS:
		filter = fuse_bpf_ops_lookup(fc, bpf_entry->ops_id);
		if (!filter)
			return -ENOENT;
		break;
	case FUSE_BPF_ENTRY_NO_OPS:
		filter = NULL;
		break;
	default:
		/* Inherit the parent's, if the connection has filters at all. */
		if (!READ_ONCE(fc->bpf_filtered) || fuse_bpf_has_filter(inode))
			return 0;
		/*
		 * A directory the kernel found is not hashed by node id: its
		 * filters cannot be found, and a node must not escape them.
		 * The reply has to say which filters the node gets.
		 */
		if (parent & FUSE_BPF_NODEID_BIT)
			return -EIO;
		down_read(&fc->killsb);
		dir = fuse_ilookup(fc, parent, NULL);
		up_read(&fc->killsb);
		if (!dir)
			return 0;
		filter = fuse_bpf_get_filter(dir);
		iput(dir);
		if (!filter)
			return 0;
	}
	fuse_bpf_set_filter(inode, filter);
	fuse_bpf_filter_put(filter);
	return 0;
}

/**
 * __fuse_bpf_lookup_finish() - apply a LOOKUP reply to its inode
 * @inode: the inode the reply named
 * @parent: node id of the directory the name was looked up in
 * @bpf_entry: the checked extension (all zero when there was none)
 *
 * Return: 0, -ENOENT for a backing id or ops id that is not registered,
 * -EINVAL for a backing of the wrong type or one that differs from the
 * node's.
 */
int __fuse_bpf_lookup_finish(struct inode *inode, u64 parent,
			     struct fuse_bpf_entry_out *bpf_entry)
{
	struct fuse_conn *fc = get_fuse_conn(inode);
	struct fuse_backing *fb;
	int err;

	/* The root's backing and filters are the mount's. */
	if (get_node_id(inode) == FUSE_ROOT_ID)
		return bpf_entry->flags || bpf_entry->entry_type ? -EINVAL : 0;
	err = fuse_bpf_lookup_filter(inode, parent, bpf_entry);
	if (err)
		return err;
	/* A new timeout counts from now: what was copied is read again. */
	WRITE_ONCE(get_fuse_inode(inode)->backing_timeout,
		   bpf_entry->flags & FUSE_BPF_ENTRY_TIMEOUT ?
		   bpf_entry->backing_timeout : fc->bpf_timeout);
	WRITE_ONCE(get_fuse_inode(inode)->backing_attr_time, 0);
	if (bpf_entry->entry_type != FUSE_BPF_ENTRY_BACKING)
		return 0;

	rcu_read_lock();
	fb = fuse_backing_get(idr_find(&fc->backing_files_map,
				       bpf_entry->backing_id));
	rcu_read_unlock();
	if (!fb)
		return -ENOENT;
	err = fuse_bpf_set_backing(inode, &fb->file->f_path, fb->cred);
	fuse_backing_put(fb);
	return err;
}
