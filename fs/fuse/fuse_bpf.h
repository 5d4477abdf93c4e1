/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse-bpf: FUSE nodes backed by an object on another file system.
 *
 * Included at the end of fuse_i.h. Every fuse entry point that fuse-bpf
 * serves calls one fuse_bpf_<op>() early; it returns true when fuse-bpf
 * handled the operation (the result is in its first argument) and false
 * when the normal FUSE path must run. With CONFIG_FUSE_BPF=n all of them
 * are inline stubs that leave every operation to the normal FUSE path.
 */
#ifndef _FS_FUSE_BPF_H
#define _FS_FUSE_BPF_H

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

#ifdef CONFIG_FUSE_BPF
/* A node id the server may not give, on a fuse-bpf mount. */
static inline bool fuse_bpf_reserved_nodeid(struct fuse_conn *fc, u64 nodeid)
{
	return fc->fuse_bpf && (nodeid & FUSE_BPF_NODEID_BIT);
}

static inline bool fuse_bpf_inode_backed(struct inode *inode)
{
	/* Pairs with the release in fuse_bpf_set_backing(). */
	return !!smp_load_acquire(&get_fuse_inode(inode)->backing_path.dentry);
}

int fuse_bpf_parse_root_dir(struct fs_context *fsc,
			    struct fuse_fs_context *ctx, unsigned int fd);
int fuse_bpf_fill_super(struct super_block *sb, struct fuse_fs_context *ctx);
int fuse_bpf_fill_super_no_daemon(struct super_block *sb,
				  struct fuse_fs_context *ctx);
void fuse_bpf_evict_inode(struct inode *inode);
void fuse_bpf_show_options(struct seq_file *m, struct fuse_conn *fc);
void fuse_bpf_lookup_init(struct fuse_conn *fc, struct fuse_args *args,
			  struct fuse_bpf_entry_out *bpf_entry);
int fuse_bpf_lookup_reply(struct fuse_conn *fc, u64 nodeid,
			  struct fuse_args *args,
			  struct fuse_bpf_entry_out *bpf_entry);
int fuse_bpf_lookup_finish(struct inode *inode, u64 parent,
			   struct fuse_bpf_entry_out *bpf_entry);
bool fuse_bpf_lookup(struct dentry **res, struct inode *dir,
		     struct dentry *entry, unsigned int flags);
bool fuse_bpf_revalidate(int *res, struct inode *dir, struct dentry *entry,
			 unsigned int flags);
bool fuse_bpf_getattr(int *err, struct inode *inode, struct kstat *stat,
		      u32 request_mask, unsigned int flags);
bool fuse_bpf_setattr(int *err, struct dentry *dentry, struct iattr *attr,
		      struct file *file);
bool fuse_bpf_permission(int *err, struct inode *inode, int mask);
bool fuse_bpf_get_inode_acl(struct posix_acl **res, struct inode *inode,
			    int type, bool rcu);
bool fuse_bpf_set_acl(int *err, struct dentry *dentry, struct posix_acl *acl,
		      int type);
bool fuse_bpf_statfs(int *err, struct dentry *dentry, struct kstatfs *buf);
#else
static inline bool fuse_bpf_reserved_nodeid(struct fuse_conn *fc, u64 nodeid)
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

static inline void fuse_bpf_evict_inode(struct inode *inode)
{
}

static inline void fuse_bpf_show_options(struct seq_file *m,
					 struct fuse_conn *fc)
{
}

static inline void fuse_bpf_lookup_init(struct fuse_conn *fc,
					struct fuse_args *args,
					struct fuse_bpf_entry_out *bpf_entry)
{
}

static inline int fuse_bpf_lookup_reply(struct fuse_conn *fc, u64 nodeid,
					struct fuse_args *args,
					struct fuse_bpf_entry_out *bpf_entry)
{
	return 0;
}

static inline int fuse_bpf_lookup_finish(struct inode *inode, u64 parent,
					 struct fuse_bpf_entry_out *bpf_entry)
{
	return 0;
}

static inline bool fuse_bpf_lookup(struct dentry **res, struct inode *dir,
				   struct dentry *entry, unsigned int flags)
{
	return false;
}

static inline bool fuse_bpf_revalidate(int *res, struct inode *dir,
				       struct dentry *entry,
				       unsigned int flags)
{
	return false;
}

static inline bool fuse_bpf_getattr(int *err, struct inode *inode,
				    struct kstat *stat, u32 request_mask,
				    unsigned int flags)
{
	return false;
}

static inline bool fuse_bpf_setattr(int *err, struct dentry *dentry,
				    struct iattr *attr, struct file *file)
{
	return false;
}

static inline bool fuse_bpf_permission(int *err, struct inode *inode,
				       int mask)
{
	return false;
}

static inline bool fuse_bpf_get_inode_acl(struct posix_acl **res,
					  struct inode *inode, int type,
					  bool rcu)
{
	return false;
}

static inline bool fuse_bpf_set_acl(int *err, struct dentry *dentry,
				    struct posix_acl *acl, int type)
{
	return false;
}

static inline bool fuse_bpf_statfs(int *err, struct dentry *dentry,
				   struct kstatfs *buf)
{
	return false;
}
#endif

/* Names in backed directories (bpf_namei.c) */
#ifdef CONFIG_FUSE_BPF
bool fuse_bpf_mknod(int *err, struct inode *dir, struct dentry *entry,
		    umode_t mode, dev_t rdev);
bool fuse_bpf_mkdir(int *err, struct inode *dir, struct dentry *entry,
		    umode_t mode);
bool fuse_bpf_symlink(int *err, struct inode *dir, struct dentry *entry,
		      const char *target);
bool fuse_bpf_link(int *err, struct dentry *old, struct inode *dir,
		   struct dentry *entry);
bool fuse_bpf_atomic_open(int *res, struct inode *dir, struct dentry *entry,
			  struct file *file, unsigned int flags, umode_t mode);
bool fuse_bpf_remove(int *err, struct inode *dir, struct dentry *entry,
		     bool isdir);
bool fuse_bpf_rename(int *err, struct inode *olddir, struct dentry *oldent,
		     struct inode *newdir, struct dentry *newent,
		     unsigned int flags);
bool fuse_bpf_get_link(const char **res, struct inode *inode,
		       struct dentry *dentry, struct delayed_call *callback);
bool fuse_bpf_tmpfile(int *err, struct inode *dir, struct file *file,
		      umode_t mode);
#else
static inline bool fuse_bpf_mknod(int *err, struct inode *dir,
				  struct dentry *entry, umode_t mode,
				  dev_t rdev)
{
	return false;
}

static inline bool fuse_bpf_mkdir(int *err, struct inode *dir,
				  struct dentry *entry, umode_t mode)
{
	return false;
}

static inline bool fuse_bpf_symlink(int *err, struct inode *dir,
				    struct dentry *entry, const char *target)
{
	return false;
}

static inline bool fuse_bpf_link(int *err, struct dentry *old,
				 struct inode *dir, struct dentry *entry)
{
	return false;
}

static inline bool fuse_bpf_atomic_open(int *res, struct inode *dir,
					struct dentry *entry, struct file *file,
					unsigned int flags, umode_t mode)
{
	return false;
}

static inline bool fuse_bpf_remove(int *err, struct inode *dir,
				   struct dentry *entry, bool isdir)
{
	return false;
}

static inline bool fuse_bpf_rename(int *err, struct inode *olddir,
				   struct dentry *oldent, struct inode *newdir,
				   struct dentry *newent, unsigned int flags)
{
	return false;
}

static inline bool fuse_bpf_get_link(const char **res, struct inode *inode,
				     struct dentry *dentry,
				     struct delayed_call *callback)
{
	return false;
}

static inline bool fuse_bpf_tmpfile(int *err, struct inode *dir,
				    struct file *file, umode_t mode)
{
	return false;
}
#endif

/* Open files of backed nodes (bpf_file.c) */
struct file_lock;
struct fileattr;

#ifdef CONFIG_FUSE_BPF
/*
 * The backing file of a file fuse-bpf opened, NULL for any other: a file
 * of a backed node that the server opened (an open filter sent it there)
 * is the server's.
 */
static inline struct file *fuse_bpf_backing_file(struct file *file)
{
	struct fuse_file *ff = file->private_data;

	return ff && ff->bpf_backed ? ff->passthrough : NULL;
}

bool fuse_bpf_open(int *err, struct inode *inode, struct file *file,
		   bool isdir);
bool fuse_bpf_release(struct inode *inode, struct file *file);
bool fuse_bpf_flush(int *err, struct file *file, fl_owner_t id);
bool fuse_bpf_fsync(int *err, struct file *file, loff_t start, loff_t end,
		    int datasync);
bool fuse_bpf_lseek(loff_t *res, struct file *file, loff_t offset, int whence);
bool fuse_bpf_fallocate(int *res, struct file *file, int mode, loff_t offset,
			loff_t length);
bool fuse_bpf_copy_file_range(ssize_t *res, struct file *src, loff_t src_off,
			      struct file *dst, loff_t dst_off, size_t len,
			      unsigned int flags);
bool fuse_bpf_lock(int *err, struct file *file, int cmd, struct file_lock *fl,
		   bool flock);
bool fuse_bpf_rw_iter(ssize_t *res, struct kiocb *iocb, struct iov_iter *iter,
		      bool write);
bool fuse_bpf_rw_filtered(struct file *file, bool write);
bool fuse_bpf_mmap(int *err, struct file *file, struct vm_area_struct *vma);
bool fuse_bpf_ioctl(long *res, struct file *file, unsigned int cmd,
		    unsigned int flags);
bool fuse_bpf_fileattr(int *err, struct dentry *dentry, struct fileattr *fa,
		       bool set);
#else
static inline struct file *fuse_bpf_backing_file(struct file *file)
{
	return NULL;
}

static inline bool fuse_bpf_open(int *err, struct inode *inode,
				 struct file *file, bool isdir)
{
	return false;
}

static inline bool fuse_bpf_release(struct inode *inode, struct file *file)
{
	return false;
}

static inline bool fuse_bpf_flush(int *err, struct file *file,
				  fl_owner_t id)
{
	return false;
}

static inline bool fuse_bpf_fsync(int *err, struct file *file, loff_t start,
				  loff_t end, int datasync)
{
	return false;
}

static inline bool fuse_bpf_lseek(loff_t *res, struct file *file, loff_t offset,
				  int whence)
{
	return false;
}

static inline bool fuse_bpf_fallocate(int *res, struct file *file, int mode,
				      loff_t offset, loff_t length)
{
	return false;
}

static inline bool fuse_bpf_copy_file_range(ssize_t *res, struct file *src,
					    loff_t src_off, struct file *dst,
					    loff_t dst_off, size_t len,
					    unsigned int flags)
{
	return false;
}

static inline bool fuse_bpf_lock(int *err, struct file *file, int cmd,
				 struct file_lock *fl, bool flock)
{
	return false;
}

static inline bool fuse_bpf_rw_iter(ssize_t *res, struct kiocb *iocb,
				    struct iov_iter *iter, bool write)
{
	return false;
}

static inline bool fuse_bpf_rw_filtered(struct file *file, bool write)
{
	return false;
}

static inline bool fuse_bpf_mmap(int *err, struct file *file,
				 struct vm_area_struct *vma)
{
	return false;
}

static inline bool fuse_bpf_ioctl(long *res, struct file *file,
				  unsigned int cmd, unsigned int flags)
{
	return false;
}

static inline bool fuse_bpf_fileattr(int *err, struct dentry *dentry,
				     struct fileattr *fa, bool set)
{
	return false;
}
#endif

/* readdir of backed directories (bpf_readdir.c) */
#ifdef CONFIG_FUSE_BPF
bool fuse_bpf_readdir(int *err, struct file *file, struct dir_context *ctx);
#else
static inline bool fuse_bpf_readdir(int *err, struct file *file,
				    struct dir_context *ctx)
{
	return false;
}
#endif

/* Extended attributes of backed nodes (bpf_xattr.c) */
#ifdef CONFIG_FUSE_BPF
bool fuse_bpf_getxattr(ssize_t *res, struct inode *inode, const char *name,
		       void *value, size_t size);
bool fuse_bpf_listxattr(ssize_t *res, struct inode *inode, char *list,
			size_t size);
bool fuse_bpf_setxattr(int *err, struct inode *inode, const char *name,
		       const void *value, size_t size, int flags);
#else
static inline bool fuse_bpf_getxattr(ssize_t *res, struct inode *inode,
				     const char *name, void *value, size_t size)
{
	return false;
}

static inline bool fuse_bpf_listxattr(ssize_t *res, struct inode *inode,
				      char *list, size_t size)
{
	return false;
}

static inline bool fuse_bpf_setxattr(int *err, struct inode *inode,
				     const char *name, const void *value,
				     size_t size, int flags)
{
	return false;
}
#endif

#endif /* _FS_FUSE_BPF_H */
