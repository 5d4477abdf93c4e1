/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse-bpf: FUSE nodes backed by an object on another file system.
 *
 * Included at the end of fuse_i.h. Every fuse entry point that fuse-bpf
 * serves calls one fuse_bpf_<op>() early; it returns true when fuse-bpf
 * handled the operation (the result is in its first argument) and false
 * when the normal FUSE path must run.
 *
 * Each fuse_bpf_<op>() is an inline predicate in front of the out-of-line
 * __fuse_bpf_<op>(), in the style of fuse_file_passthrough(): the
 * predicates are false behind a static key until the first fuse-bpf mount,
 * and after it true only for a node or a file fuse-bpf serves, so that
 * classic FUSE mounts run as on a kernel without fuse-bpf and nothing is
 * prepared before the test. With CONFIG_FUSE_BPF=n the predicates are
 * constant false and the calls are compiled out. A __fuse_bpf_<op>() may
 * only be called when its predicate holds.
 */
#ifndef _FS_FUSE_BPF_H
#define _FS_FUSE_BPF_H

#include <linux/jump_label.h>

/* Filters (bpf_ops.c) */
#ifdef CONFIG_FUSE_BPF
void fuse_bpf_init(void);
void fuse_bpf_conn_free(struct fuse_conn *fc);
#else
static inline void fuse_bpf_init(void)
{
}

static inline void fuse_bpf_conn_free(struct fuse_conn *fc)
{
}
#endif

/*
 * Backed nodes, their mount and lifetime (bpf_node.c) and their
 * attributes (bpf_dir.c).
 *
 * Node ids of nodes the kernel instantiated from a backing directory,
 * without the server: a range the server may not use, so they never
 * collide with its ids and never get a FORGET.
 */
#define FUSE_BPF_NODEID_BIT	BIT_ULL(63)

struct fuse_bpf_entry_out;
struct kstatfs;
struct posix_acl;

/*
 * Call __fuse_bpf_<op>() with a result of its own, copied out when it
 * served the operation: the caller's variable never has its address
 * taken, so that where fuse-bpf serves nothing it stays in a register, as
 * on a kernel without fuse-bpf.
 */
#define fuse_bpf_served(res, fn, ...)					\
({									\
	typeof(res) __fuse_bpf_out = (res);				\
	typeof(*__fuse_bpf_out) __fuse_bpf_res;				\
	bool __fuse_bpf_served = fn(&__fuse_bpf_res, ##__VA_ARGS__);	\
									\
	if (__fuse_bpf_served)						\
		*__fuse_bpf_out = __fuse_bpf_res;			\
	__fuse_bpf_served;						\
})

/* Request programs (bpf_request.c) */
#ifdef CONFIG_FUSE_BPF
/* Enabled by the first request program attached, never disabled. */
DECLARE_STATIC_KEY_FALSE(fuse_bpf_request_attached);

void fuse_bpf_req_init_type(void);
void fuse_bpf_req_conn_free(struct fuse_conn *fc);
bool __fuse_bpf_request(ssize_t *res, struct mnt_idmap *idmap,
			struct fuse_mount *fm, struct fuse_args *args);

/*
 * Whether the connection's request program decided the request (the
 * result is in @res): a patched jump until a program is attached
 * anywhere, then a test of the connection. The program's own sending of
 * the request to the server (bpf_seen) does not run it again.
 */
static inline bool fuse_bpf_request(ssize_t *res, struct mnt_idmap *idmap,
				    struct fuse_mount *fm,
				    struct fuse_args *args)
{
	if (!static_branch_unlikely(&fuse_bpf_request_attached) ||
	    !READ_ONCE(fm->fc->bpf_req) || args->bpf_seen)
		return false;
	return __fuse_bpf_request(res, idmap, fm, args);
}
#else
static inline void fuse_bpf_req_init_type(void)
{
}

static inline void fuse_bpf_req_conn_free(struct fuse_conn *fc)
{
}

static inline bool fuse_bpf_request(ssize_t *res, struct mnt_idmap *idmap,
				    struct fuse_mount *fm,
				    struct fuse_args *args)
{
	return false;
}
#endif

#ifdef CONFIG_FUSE_BPF
/* Enabled by the first fuse-bpf mount, never disabled. */
DECLARE_STATIC_KEY_FALSE(fuse_bpf_mounted);

/*
 * Whether there has been a fuse-bpf mount. Every predicate tests it before
 * it reads anything else, so that until then an entry point pays a patched
 * jump and nothing more.
 */
static inline bool fuse_bpf_active(void)
{
	return static_branch_unlikely(&fuse_bpf_mounted);
}

static inline bool fuse_bpf_inode_backed(struct inode *inode)
{
	if (!fuse_bpf_active())
		return false;
	/* Pairs with the release in fuse_bpf_set_backing(). */
	return !!smp_load_acquire(&get_fuse_inode(inode)->backing_path.dentry);
}

int fuse_bpf_parse_root_dir(struct fs_context *fsc,
			    struct fuse_fs_context *ctx, unsigned int fd);
int fuse_bpf_fill_super(struct super_block *sb, struct fuse_fs_context *ctx);
int fuse_bpf_fill_super_no_daemon(struct super_block *sb,
				  struct fuse_fs_context *ctx);
void fuse_bpf_show_options(struct seq_file *m, struct fuse_conn *fc);
#else
static inline bool fuse_bpf_active(void)
{
	return false;
}

static inline bool fuse_bpf_inode_backed(struct inode *inode)
{
	return false;
}

static inline int fuse_bpf_parse_root_dir(struct fs_context *fsc,
					  struct fuse_fs_context *ctx,
					  unsigned int fd)
{
	return -EINVAL;
}

static inline int fuse_bpf_fill_super(struct super_block *sb,
				      struct fuse_fs_context *ctx)
{
	return 0;
}

static inline int fuse_bpf_fill_super_no_daemon(struct super_block *sb,
						struct fuse_fs_context *ctx)
{
	return -EINVAL;
}

static inline void fuse_bpf_show_options(struct seq_file *m,
					 struct fuse_conn *fc)
{
}
#endif

/* Whether @fc is a fuse-bpf connection. */
static inline bool fuse_bpf_conn_enabled(struct fuse_conn *fc)
{
	return fuse_bpf_active() && fc->fuse_bpf;
}

/* A node id the server may not give, on a fuse-bpf mount. */
static inline bool fuse_bpf_reserved_nodeid(struct fuse_conn *fc, u64 nodeid)
{
	return fuse_bpf_conn_enabled(fc) && (nodeid & FUSE_BPF_NODEID_BIT);
}

void __fuse_bpf_evict_inode(struct inode *inode);
static inline void fuse_bpf_evict_inode(struct inode *inode)
{
	if (fuse_bpf_active() && get_fuse_conn(inode)->fuse_bpf)
		__fuse_bpf_evict_inode(inode);
}

/*
 * A backed node's attributes are its backing inode's: a server's reply
 * (LOOKUP, READDIRPLUS) for a node it named does not set them.
 */
void __fuse_bpf_change_attributes(struct inode *inode);
static inline bool fuse_bpf_change_attributes(struct inode *inode)
{
	if (!fuse_bpf_inode_backed(inode))
		return false;
	__fuse_bpf_change_attributes(inode);
	return true;
}

/*
 * A LOOKUP reply on a fuse-bpf connection may carry a struct
 * fuse_bpf_entry_out; on any other @bpf_entry is neither set nor read.
 */
void __fuse_bpf_lookup_init(struct fuse_args *args,
			    struct fuse_bpf_entry_out *bpf_entry);
static inline void fuse_bpf_lookup_init(struct fuse_conn *fc,
					struct fuse_args *args,
					struct fuse_bpf_entry_out *bpf_entry)
{
	if (fuse_bpf_conn_enabled(fc))
		__fuse_bpf_lookup_init(args, bpf_entry);
}

int __fuse_bpf_lookup_reply(u64 nodeid, struct fuse_args *args,
			    struct fuse_bpf_entry_out *bpf_entry);
static inline int fuse_bpf_lookup_reply(struct fuse_conn *fc, u64 nodeid,
					struct fuse_args *args,
					struct fuse_bpf_entry_out *bpf_entry)
{
	if (!fuse_bpf_conn_enabled(fc))
		return 0;
	return __fuse_bpf_lookup_reply(nodeid, args, bpf_entry);
}

int __fuse_bpf_lookup_finish(struct inode *inode, u64 parent,
			     struct fuse_bpf_entry_out *bpf_entry);
static inline int fuse_bpf_lookup_finish(struct inode *inode, u64 parent,
					 struct fuse_bpf_entry_out *bpf_entry)
{
	if (!fuse_bpf_active() || !get_fuse_conn(inode)->fuse_bpf)
		return 0;
	return __fuse_bpf_lookup_finish(inode, parent, bpf_entry);
}

bool __fuse_bpf_lookup(struct dentry **res, struct inode *dir,
		       struct dentry *entry, unsigned int flags);
static inline bool fuse_bpf_lookup(struct dentry **res, struct inode *dir,
				   struct dentry *entry, unsigned int flags)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(res, __fuse_bpf_lookup, dir, entry, flags);
}

bool __fuse_bpf_revalidate(int *res, struct dentry *entry,
			   unsigned int flags);
static inline bool fuse_bpf_revalidate(int *res, struct dentry *entry,
				       unsigned int flags)
{
	return fuse_bpf_active() && get_fuse_conn_super(entry->d_sb)->fuse_bpf &&
	       fuse_bpf_served(res, __fuse_bpf_revalidate, entry, flags);
}

bool __fuse_bpf_getattr(int *err, struct inode *inode, struct kstat *stat,
			u32 request_mask, unsigned int flags);
static inline bool fuse_bpf_getattr(int *err, struct inode *inode,
				    struct kstat *stat, u32 request_mask,
				    unsigned int flags)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(err, __fuse_bpf_getattr, inode, stat,
			       request_mask, flags);
}

/* touch_atime() on a backed node, after readdir and readlink too (bpf_dir.c) */
bool __fuse_bpf_update_time(int *err, struct inode *inode, int flags);
static inline bool fuse_bpf_update_time(int *err, struct inode *inode,
					int flags)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(err, __fuse_bpf_update_time, inode, flags);
}

bool __fuse_bpf_setattr(int *err, struct dentry *dentry, struct iattr *attr,
			struct file *file);
static inline bool fuse_bpf_setattr(int *err, struct dentry *dentry,
				    struct iattr *attr, struct file *file)
{
	return fuse_bpf_active() && fuse_bpf_inode_backed(d_inode(dentry)) &&
	       fuse_bpf_served(err, __fuse_bpf_setattr, dentry, attr, file);
}

bool __fuse_bpf_permission(int *err, struct inode *inode, int mask);
static inline bool fuse_bpf_permission(int *err, struct inode *inode,
				       int mask)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(err, __fuse_bpf_permission, inode, mask);
}

bool __fuse_bpf_get_inode_acl(struct posix_acl **res, struct inode *inode,
			      int type, bool rcu);
static inline bool fuse_bpf_get_inode_acl(struct posix_acl **res,
					  struct inode *inode, int type,
					  bool rcu)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(res, __fuse_bpf_get_inode_acl, inode, type, rcu);
}

bool __fuse_bpf_set_acl(int *err, struct dentry *dentry,
			struct posix_acl *acl, int type);
static inline bool fuse_bpf_set_acl(int *err, struct dentry *dentry,
				    struct posix_acl *acl, int type)
{
	return fuse_bpf_active() && fuse_bpf_inode_backed(d_inode(dentry)) &&
	       fuse_bpf_served(err, __fuse_bpf_set_acl, dentry, acl, type);
}

bool __fuse_bpf_statfs(int *err, struct dentry *dentry, struct kstatfs *buf);
static inline bool fuse_bpf_statfs(int *err, struct dentry *dentry,
				   struct kstatfs *buf)
{
	return fuse_bpf_active() && fuse_bpf_inode_backed(d_inode(dentry)) &&
	       fuse_bpf_served(err, __fuse_bpf_statfs, dentry, buf);
}

/* Names in backed directories (bpf_namei.c) */
bool __fuse_bpf_mknod(int *err, struct inode *dir, struct dentry *entry,
		      umode_t mode, dev_t rdev);
static inline bool fuse_bpf_mknod(int *err, struct inode *dir,
				  struct dentry *entry, umode_t mode,
				  dev_t rdev)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(err, __fuse_bpf_mknod, dir, entry, mode, rdev);
}

bool __fuse_bpf_mkdir(int *err, struct inode *dir, struct dentry *entry,
		      umode_t mode);
static inline bool fuse_bpf_mkdir(int *err, struct inode *dir,
				  struct dentry *entry, umode_t mode)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(err, __fuse_bpf_mkdir, dir, entry, mode);
}

bool __fuse_bpf_symlink(int *err, struct inode *dir, struct dentry *entry,
			const char *target);
static inline bool fuse_bpf_symlink(int *err, struct inode *dir,
				    struct dentry *entry, const char *target)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(err, __fuse_bpf_symlink, dir, entry, target);
}

bool __fuse_bpf_link(int *err, struct dentry *old, struct inode *dir,
		     struct dentry *entry);
static inline bool fuse_bpf_link(int *err, struct dentry *old,
				 struct inode *dir, struct dentry *entry)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(err, __fuse_bpf_link, old, dir, entry);
}

bool __fuse_bpf_atomic_open(int *res, struct inode *dir, struct dentry *entry,
			    struct file *file, unsigned int flags,
			    umode_t mode);
static inline bool fuse_bpf_atomic_open(int *res, struct inode *dir,
					struct dentry *entry, struct file *file,
					unsigned int flags, umode_t mode)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(res, __fuse_bpf_atomic_open, dir, entry, file,
			       flags, mode);
}

bool __fuse_bpf_remove(int *err, struct inode *dir, struct dentry *entry,
		       bool isdir);
static inline bool fuse_bpf_remove(int *err, struct inode *dir,
				   struct dentry *entry, bool isdir)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(err, __fuse_bpf_remove, dir, entry, isdir);
}

bool __fuse_bpf_rename(int *err, struct inode *olddir, struct dentry *oldent,
		       struct inode *newdir, struct dentry *newent,
		       unsigned int flags);
static inline bool fuse_bpf_rename(int *err, struct inode *olddir,
				   struct dentry *oldent, struct inode *newdir,
				   struct dentry *newent, unsigned int flags)
{
	return (fuse_bpf_inode_backed(olddir) ||
		fuse_bpf_inode_backed(newdir)) &&
	       fuse_bpf_served(err, __fuse_bpf_rename, olddir, oldent, newdir,
			       newent, flags);
}

bool __fuse_bpf_get_link(const char **res, struct inode *inode,
			 struct dentry *dentry,
			 struct delayed_call *callback);
static inline bool fuse_bpf_get_link(const char **res, struct inode *inode,
				     struct dentry *dentry,
				     struct delayed_call *callback)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(res, __fuse_bpf_get_link, inode, dentry,
			       callback);
}

bool __fuse_bpf_tmpfile(int *err, struct inode *dir, struct file *file,
			umode_t mode);
static inline bool fuse_bpf_tmpfile(int *err, struct inode *dir,
				    struct file *file, umode_t mode)
{
	return fuse_bpf_inode_backed(dir) &&
	       fuse_bpf_served(err, __fuse_bpf_tmpfile, dir, file, mode);
}

/* Open files of backed nodes (bpf_file.c) */
struct file_lock;
struct fileattr;

/*
 * The backing file of a file fuse-bpf opened, NULL for any other: a file
 * of a backed node that the server opened (an open filter sent it there)
 * is the server's.
 */
static inline struct file *fuse_bpf_backing_file(struct file *file)
{
#ifdef CONFIG_FUSE_BPF
	struct fuse_file *ff;

	if (!fuse_bpf_active())
		return NULL;
	ff = file->private_data;
	if (ff && ff->bpf_backed)
		return ff->passthrough;
#endif
	return NULL;
}

bool __fuse_bpf_open(int *err, struct inode *inode, struct file *file,
		     bool isdir);
static inline bool fuse_bpf_open(int *err, struct inode *inode,
				 struct file *file, bool isdir)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(err, __fuse_bpf_open, inode, file, isdir);
}

void __fuse_bpf_release(struct inode *inode, struct file *file);
static inline bool fuse_bpf_release(struct inode *inode, struct file *file)
{
	if (!fuse_bpf_backing_file(file))
		return false;
	__fuse_bpf_release(inode, file);
	return true;
}

bool __fuse_bpf_flush(int *err, struct file *file, fl_owner_t id);
static inline bool fuse_bpf_flush(int *err, struct file *file,
				  fl_owner_t id)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(err, __fuse_bpf_flush, file, id);
}

bool __fuse_bpf_fsync(int *err, struct file *file, loff_t start, loff_t end,
		      int datasync);
static inline bool fuse_bpf_fsync(int *err, struct file *file, loff_t start,
				  loff_t end, int datasync)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(err, __fuse_bpf_fsync, file, start, end,
			       datasync);
}

bool __fuse_bpf_lseek(loff_t *res, struct file *file, loff_t offset,
		      int whence);
static inline bool fuse_bpf_lseek(loff_t *res, struct file *file,
				  loff_t offset, int whence)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(res, __fuse_bpf_lseek, file, offset, whence);
}

bool __fuse_bpf_fallocate(int *res, struct file *file, int mode,
			  loff_t offset, loff_t length);
static inline bool fuse_bpf_fallocate(int *res, struct file *file, int mode,
				      loff_t offset, loff_t length)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(res, __fuse_bpf_fallocate, file, mode, offset,
			       length);
}

bool __fuse_bpf_copy_file_range(ssize_t *res, struct file *src,
				loff_t src_off, struct file *dst,
				loff_t dst_off, size_t len,
				unsigned int flags);
static inline bool fuse_bpf_copy_file_range(ssize_t *res, struct file *src,
					    loff_t src_off, struct file *dst,
					    loff_t dst_off, size_t len,
					    unsigned int flags)
{
	return (fuse_bpf_backing_file(src) || fuse_bpf_backing_file(dst)) &&
	       fuse_bpf_served(res, __fuse_bpf_copy_file_range, src, src_off,
			       dst, dst_off, len, flags);
}

bool __fuse_bpf_lock(int *err, struct file *file, int cmd,
		     struct file_lock *fl, bool flock);
static inline bool fuse_bpf_lock(int *err, struct file *file, int cmd,
				 struct file_lock *fl, bool flock)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(err, __fuse_bpf_lock, file, cmd, fl, flock);
}

bool __fuse_bpf_rw_iter(ssize_t *res, struct kiocb *iocb,
			struct iov_iter *iter, bool write);
static inline bool fuse_bpf_rw_iter(ssize_t *res, struct kiocb *iocb,
				    struct iov_iter *iter, bool write)
{
	return fuse_bpf_active() && fuse_bpf_backing_file(iocb->ki_filp) &&
	       fuse_bpf_served(res, __fuse_bpf_rw_iter, iocb, iter, write);
}

/* Whether reads (writes) of @file run the filters, see file.c's splice. */
bool __fuse_bpf_rw_filtered(struct file *file, bool write);
static inline bool fuse_bpf_rw_filtered(struct file *file, bool write)
{
	return fuse_bpf_backing_file(file) &&
	       __fuse_bpf_rw_filtered(file, write);
}

bool __fuse_bpf_mmap(int *err, struct file *file, struct vm_area_struct *vma);
static inline bool fuse_bpf_mmap(int *err, struct file *file,
				 struct vm_area_struct *vma)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(err, __fuse_bpf_mmap, file, vma);
}

bool __fuse_bpf_ioctl(long *res, struct file *file, unsigned int cmd,
		      unsigned int flags);
static inline bool fuse_bpf_ioctl(long *res, struct file *file,
				  unsigned int cmd, unsigned int flags)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(res, __fuse_bpf_ioctl, file, cmd, flags);
}

bool __fuse_bpf_fileattr(int *err, struct dentry *dentry, struct fileattr *fa,
			 bool set);
static inline bool fuse_bpf_fileattr(int *err, struct dentry *dentry,
				     struct fileattr *fa, bool set)
{
	return fuse_bpf_active() && fuse_bpf_inode_backed(d_inode(dentry)) &&
	       fuse_bpf_served(err, __fuse_bpf_fileattr, dentry, fa, set);
}

/*
 * atime after a read, splice, mmap or copy_file_range of a file fuse-bpf
 * opened (bpf_file.c)
 */
void __fuse_bpf_accessed(struct file *file);
static inline bool fuse_bpf_accessed(struct file *file)
{
	if (!fuse_bpf_backing_file(file))
		return false;
	__fuse_bpf_accessed(file);
	return true;
}

/* readdir of backed directories (bpf_readdir.c) */
bool __fuse_bpf_readdir(int *err, struct file *file, struct dir_context *ctx);
static inline bool fuse_bpf_readdir(int *err, struct file *file,
				    struct dir_context *ctx)
{
	return fuse_bpf_backing_file(file) &&
	       fuse_bpf_served(err, __fuse_bpf_readdir, file, ctx);
}

/* Extended attributes of backed nodes (bpf_xattr.c) */
bool __fuse_bpf_getxattr(ssize_t *res, struct inode *inode, const char *name,
			 void *value, size_t size);
static inline bool fuse_bpf_getxattr(ssize_t *res, struct inode *inode,
				     const char *name, void *value, size_t size)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(res, __fuse_bpf_getxattr, inode, name, value,
			       size);
}

bool __fuse_bpf_listxattr(ssize_t *res, struct inode *inode, char *list,
			  size_t size);
static inline bool fuse_bpf_listxattr(ssize_t *res, struct inode *inode,
				      char *list, size_t size)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(res, __fuse_bpf_listxattr, inode, list, size);
}

bool __fuse_bpf_setxattr(int *err, struct inode *inode, const char *name,
			 const void *value, size_t size, int flags);
static inline bool fuse_bpf_setxattr(int *err, struct inode *inode,
				     const char *name, const void *value,
				     size_t size, int flags)
{
	return fuse_bpf_inode_backed(inode) &&
	       fuse_bpf_served(err, __fuse_bpf_setxattr, inode, name, value,
			       size, flags);
}

#endif /* _FS_FUSE_BPF_H */
