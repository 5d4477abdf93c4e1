// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: open files and directories of backed nodes.
 *
 * Opening a backed node opens its backing object with backing_file_open()
 * and stores it as the fuse file's passthrough file, so read, write,
 * splice and mmap take the FUSE passthrough path (fs/fuse/passthrough.c)
 * with the backing credentials, and the fuse page cache is never used.
 */

#include "bpf_internal.h"

#include <linux/backing-file.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fileattr.h>
#include <linux/filelock.h>
#include <linux/mount.h>

/*
 * Before a backing call that changes data, kill suid and sgid as the
 * caller would: through fuse_setattr(), with the caller's capabilities,
 * as ovl_fallocate() and ovl_copyfile() do. In the backing call the
 * registered credentials' CAP_FSETID would keep them.
 */
static int fuse_bpf_remove_privs(struct file *file)
{
	struct inode *inode = file_inode(file);
	int err;

	inode_lock(inode);
	/* Decided on the mode as it is, as ovl_copyattr() before it. */
	fuse_bpf_copy_attr(inode);
	err = file_remove_privs(file);
	inode_unlock(inode);
	return err;
}

/**
 * __fuse_bpf_accessed() - update atime after a read of a backed file
 * @file: a file fuse-bpf opened
 *
 * Its backing file is open O_NOATIME (fuse_bpf_open_backing()), so the
 * read did not update the backing atime: update it through the fuse
 * mount, by that mount's atime options and its being read-only, as
 * ovl_file_accessed() does. touch_atime() reaches the backing inode
 * through fuse_bpf_update_time(). (Where the registered credentials may
 * not open it O_NOATIME, the backing mount updated it too.)
 */
void __fuse_bpf_accessed(struct file *file)
{
	struct inode *inode = file_inode(file);

	/* relatime decides on the backing's times as they are now. */
	fuse_bpf_copy_times(inode, file_inode(fuse_bpf_backing_file(file)));
	file_accessed(file);
}

/* open, opendir */

struct fuse_bpf_open_io {
	struct fuse_open_in in;
	struct fuse_open_out out;
	struct inode *inode;
	struct file *file;
	struct fuse_file *ff;
};

static int fuse_bpf_open_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_open_io *io = data;
	struct fuse_inode *fi = get_fuse_inode(io->inode);
	/* O_TRUNC was done by the VFS through setattr. */
	int flags = io->in.flags & ~O_TRUNC;
	struct file *backing;

	io->ff = fuse_file_alloc(get_fuse_mount(io->inode), false);
	if (!io->ff)
		return -ENOMEM;

	/*
	 * atime is the fuse mount's (__fuse_bpf_accessed()), not the backing
	 * mount's: O_NOATIME where the backing credentials may set it, as
	 * ovl_open_realfile() does.
	 */
	if (inode_owner_or_capable(mnt_idmap(fi->backing_path.mnt),
				   d_inode(fi->backing_path.dentry)))
		flags |= O_NOATIME;
	else
		flags &= ~O_NOATIME;
	backing = backing_file_open(io->file, flags, &fi->backing_path,
				    fi->backing_cred);
	if (IS_ERR(backing)) {
		fuse_file_free(io->ff);
		io->ff = NULL;
		return PTR_ERR(backing);
	}
	io->ff->passthrough = backing;
	io->ff->bpf_backed = true;
	io->ff->cred = get_cred(fi->backing_cred);
	io->ff->nodeid = fi->nodeid;
	return 0;
}

/* Drop a fuse file of a backed node and what it holds of the backing. */
static void fuse_bpf_file_free(struct fuse_file *ff)
{
	fput(ff->passthrough);
	put_cred(ff->cred);
	fuse_file_free(ff);
}

static void fuse_bpf_open_done(struct fuse_bpf_open_io *io, u32 open_flags)
{
	io->ff->open_flags = open_flags & ~FOPEN_DIRECT_IO;
	io->file->private_data = io->ff;
	/* The VFS bounds a copy_file_range() by the node's size. */
	fuse_bpf_copy_size(io->inode);
}

static int fuse_bpf_open_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_open_io *io = data;

	if (fa->meta.error) {
		if (io->ff)
			fuse_bpf_file_free(io->ff);
		return fa->meta.error;
	}
	fuse_bpf_open_done(io, io->out.open_flags);
	return 0;
}

static int fuse_bpf_open_direct(void *data)
{
	int err = fuse_bpf_open_backing(NULL, data);

	if (!err)
		fuse_bpf_open_done(data, 0);
	return err;
}

static const struct fuse_bpf_op fuse_bpf_open_op = {
	.opcode = FUSE_OPEN,
	.filter = FUSE_BPF_OP_IDX(open),
	FUSE_BPF_IN(struct fuse_bpf_open_io, in),
	FUSE_BPF_OUT(struct fuse_bpf_open_io, out),
	.backing = fuse_bpf_open_backing,
	.finalize = fuse_bpf_open_finalize,
	.direct = fuse_bpf_open_direct,
};

static const struct fuse_bpf_op fuse_bpf_opendir_op = {
	.opcode = FUSE_OPENDIR,
	.filter = FUSE_BPF_OP_IDX(opendir),
	FUSE_BPF_IN(struct fuse_bpf_open_io, in),
	FUSE_BPF_OUT(struct fuse_bpf_open_io, out),
	.backing = fuse_bpf_open_backing,
	.finalize = fuse_bpf_open_finalize,
	.direct = fuse_bpf_open_direct,
};

bool __fuse_bpf_open(int *err, struct inode *inode, struct file *file,
		     bool isdir)
{
	struct fuse_bpf_open_io io = {
		.in.flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY),
		.inode = inode,
		.file = file,
	};

	/* The backing mount's noexec holds through the fuse mount. */
	if ((file->f_flags & __FMODE_EXEC) &&
	    path_noexec(&get_fuse_inode(inode)->backing_path)) {
		*err = -EACCES;
		return true;
	}
	if (io.in.flags & __O_TMPFILE)
		io.in.flags &= ~O_TMPFILE;
	return fuse_bpf_run(isdir ? &fuse_bpf_opendir_op : &fuse_bpf_open_op,
			    inode, &io, err);
}

/*
 * release, releasedir: the backing file is released whatever a filter
 * returns (close cannot fail); a filter may only watch, or tell the server
 * with %FUSE_BPF_USER_PREFILTER or %FUSE_BPF_USER_POSTFILTER.
 */

struct fuse_bpf_release_io {
	struct fuse_release_in in;
	struct file *file;
	bool released;
};

static int fuse_bpf_release_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_release_io *io = data;
	struct fuse_file *ff = io->file->private_data;

	/*
	 * The fuse file owns its OFD locks, which are on the backing file:
	 * fput() of the backing file would only drop those the backing file
	 * owns.
	 */
	locks_remove_posix(ff->passthrough, io->file);
	fuse_bpf_file_free(ff);
	io->file->private_data = NULL;
	io->released = true;
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_release_op = {
	.opcode = FUSE_RELEASE,
	.filter = FUSE_BPF_OP_IDX(release),
	FUSE_BPF_IN(struct fuse_bpf_release_io, in),
	.backing = fuse_bpf_release_backing,
};

static const struct fuse_bpf_op fuse_bpf_releasedir_op = {
	.opcode = FUSE_RELEASEDIR,
	.filter = FUSE_BPF_OP_IDX(releasedir),
	FUSE_BPF_IN(struct fuse_bpf_release_io, in),
	.backing = fuse_bpf_release_backing,
};

void __fuse_bpf_release(struct inode *inode, struct file *file)
{
	bool isdir = S_ISDIR(inode->i_mode);
	struct fuse_bpf_release_io io = {
		.in.flags = file->f_flags,
		.file = file,
	};
	int err;

	if (fuse_bpf_has_callback(inode, isdir ? FUSE_BPF_OP_IDX(releasedir) :
						 FUSE_BPF_OP_IDX(release)))
		fuse_bpf_run(isdir ? &fuse_bpf_releasedir_op :
				     &fuse_bpf_release_op, inode, &io, &err);
	/* Not run, refused by a filter, or sent to the server. */
	if (!io.released)
		fuse_bpf_release_backing(NULL, &io);
}

/*
 * read, write. Without a read (write) prefilter they take the FUSE
 * passthrough path and never come here. With one, the I/O is done
 * synchronously, so that a postfilter sees its result: an aio request
 * completes when the call returns.
 */

/* The flags of the caller's kiocb a synchronous one keeps. */
#define FUSE_BPF_RW_FLAGS \
	(IOCB_DIRECT | IOCB_NOWAIT | IOCB_APPEND | IOCB_DSYNC | IOCB_SYNC)

/* fuse_read_in and fuse_write_in have the same layout, as do the outs. */
struct fuse_bpf_rw_io {
	union {
		struct fuse_read_in read;
		struct fuse_write_in write;
	} in;
	union {
		struct fuse_bpf_read_out read;
		struct fuse_write_out write;
	} out;
	struct kiocb *iocb;
	struct iov_iter *iter;
	size_t done;		/* bytes the backing call moved */
	loff_t pos;		/* file position after them */
};

static_assert(offsetof(struct fuse_read_in, size) ==
	      offsetof(struct fuse_write_in, size));
static_assert(sizeof(struct fuse_read_in) == sizeof(struct fuse_write_in));

static int fuse_bpf_rw_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_rw_io *io = data;
	size_t count = iov_iter_count(io->iter);
	size_t size = min_t(size_t, count, io->in.read.size);
	struct kiocb kiocb;
	ssize_t ret;

	init_sync_kiocb(&kiocb, io->iocb->ki_filp);
	kiocb.ki_flags = io->iocb->ki_flags & FUSE_BPF_RW_FLAGS;
	kiocb.ki_pos = io->in.read.offset;
	if (!size)
		return 0;
	iov_iter_truncate(io->iter, size);
	if (fa->meta.opcode == FUSE_READ)
		ret = fuse_passthrough_read_iter(&kiocb, io->iter);
	else
		ret = fuse_passthrough_write_iter(&kiocb, io->iter);
	iov_iter_reexpand(io->iter, iov_iter_count(io->iter) + count - size);
	if (ret < 0)
		return ret;
	io->done = ret;
	io->pos = kiocb.ki_pos;
	io->out.read.size = ret;
	return 0;
}

/* A postfilter may tell the caller of fewer bytes, never of more. */
static int fuse_bpf_rw_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_rw_io *io = data;
	size_t less;

	if (fa->meta.error)
		return fa->meta.error;
	if (io->out.read.size > io->done)
		return -EIO;
	less = io->done - io->out.read.size;
	iov_iter_revert(io->iter, less);
	if (io->done)
		io->iocb->ki_pos = io->pos - less;
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_read_op = {
	.opcode = FUSE_READ,
	.filter = FUSE_BPF_OP_IDX(read),
	FUSE_BPF_IN(struct fuse_bpf_rw_io, in.read),
	FUSE_BPF_OUT(struct fuse_bpf_rw_io, out.read),
	.own_creds = true,
	.backing = fuse_bpf_rw_backing,
	.finalize = fuse_bpf_rw_finalize,
};

static const struct fuse_bpf_op fuse_bpf_write_op = {
	.opcode = FUSE_WRITE,
	.filter = FUSE_BPF_OP_IDX(write),
	FUSE_BPF_IN(struct fuse_bpf_rw_io, in.write),
	FUSE_BPF_OUT(struct fuse_bpf_rw_io, out.write),
	.own_creds = true,
	.backing = fuse_bpf_rw_backing,
	.finalize = fuse_bpf_rw_finalize,
};

/* FUSE_BPF_USER: the server reads or writes, through a kernel buffer. */
static ssize_t fuse_bpf_rw_user(struct fuse_bpf_rw_io *io, bool write)
{
	struct file *file = io->iocb->ki_filp;
	struct fuse_mount *fm = get_fuse_mount(file_inode(file));
	size_t size = min3(iov_iter_count(io->iter), (size_t)io->in.read.size,
			   (size_t)fm->fc->max_pages << PAGE_SHIFT);
	ssize_t ret;
	void *buf;
	FUSE_ARGS(args);

	size = min_t(size_t, size, write ? fm->fc->max_write :
					   fm->fc->max_read);
	if (!size)
		return 0;
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	io->in.read.size = size;
	args.opcode = write ? FUSE_WRITE : FUSE_READ;
	args.nodeid = get_node_id(file_inode(file));
	args.in_numargs = 1;
	args.in_args[0].size = sizeof(io->in);
	args.in_args[0].value = &io->in;
	args.out_numargs = 1;
	if (write) {
		ret = -EFAULT;
		if (!copy_from_iter_full(buf, size, io->iter))
			goto out;
		args.in_numargs = 2;
		args.in_args[1].size = size;
		args.in_args[1].value = buf;
		args.out_args[0].size = sizeof(io->out.write);
		args.out_args[0].value = &io->out.write;
	} else {
		args.out_argvar = true;
		args.out_args[0].size = size;
		args.out_args[0].value = buf;
	}
	ret = fuse_simple_request(fm, &args);
	if (ret >= 0 && write)
		ret = io->out.write.size > size ? -EIO : io->out.write.size;
	if (write)
		iov_iter_revert(io->iter, size - max_t(ssize_t, ret, 0));
	else if (ret > 0 && copy_to_iter(buf, ret, io->iter) != ret)
		ret = -EFAULT;
	if (ret > 0)
		io->iocb->ki_pos = io->in.read.offset + ret;
out:
	kvfree(buf);
	return ret;
}

bool __fuse_bpf_rw_filtered(struct file *file, bool write)
{
	return fuse_bpf_has_callback(file_inode(file),
				     write ? FUSE_BPF_OP_IDX(write) :
					     FUSE_BPF_OP_IDX(read));
}

bool __fuse_bpf_rw_iter(ssize_t *res, struct kiocb *iocb,
			struct iov_iter *iter, bool write)
{
	struct file *file = iocb->ki_filp;
	struct fuse_bpf_rw_io io = {
		.in.read = {
			.offset = iocb->ki_pos,
			.size = min_t(size_t, iov_iter_count(iter), U32_MAX),
			.flags = file->f_flags,
		},
		.iocb = iocb,
		.iter = iter,
	};
	int err;

	/*
	 * The write kills suid/sgid as the caller (file_remove_privs() in
	 * backing_file_write_iter()), on the mode as it is.
	 */
	if (write)
		fuse_bpf_copy_attr(file_inode(file));
	if (!iov_iter_count(iter) || !__fuse_bpf_rw_filtered(file, write))
		return false;
	if (!fuse_bpf_run(write ? &fuse_bpf_write_op : &fuse_bpf_read_op,
			  file_inode(file), &io, &err))
		*res = fuse_bpf_rw_user(&io, write);
	else
		*res = err ? err : (ssize_t)io.out.read.size;
	return true;
}

/**
 * __fuse_bpf_mmap() - what mmap of a backed file must refuse first
 * @err: the result, when refused
 * @file: the fuse file
 * @vma: the mapping
 *
 * The VFS checked noexec on the fuse mount; the backing file's mount
 * counts too, as do_mmap() checks it: no executable mapping, and none
 * that mprotect() could make executable later. The mapping itself is
 * the passthrough one.
 *
 * Return: true when the mapping is refused.
 */
bool __fuse_bpf_mmap(int *err, struct file *file, struct vm_area_struct *vma)
{
	if (!path_noexec(&fuse_bpf_backing_file(file)->f_path))
		return false;
	if (vma->vm_flags & VM_EXEC) {
		*err = -EPERM;
		return true;
	}
	vm_flags_clear(vma, VM_MAYEXEC);
	return false;
}

/* flush */

struct fuse_bpf_flush_io {
	struct fuse_flush_in in;
	struct file *file;
	fl_owner_t id;
};

/*
 * Most backing files have no ->flush (local file systems): then there is
 * nothing to switch credentials for, as ovl_flush() does not.
 */
static int fuse_bpf_flush_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_flush_io *io = data;
	struct fuse_file *ff = io->file->private_data;
	struct file *backing = ff->passthrough;
	const struct cred *old_cred;
	int err;

	if (!backing->f_op->flush)
		return 0;
	old_cred = override_creds(ff->cred);
	err = backing->f_op->flush(backing, io->id);
	revert_creds(old_cred);
	return err;
}

static int fuse_bpf_flush_direct(void *data)
{
	return fuse_bpf_flush_backing(NULL, data);
}

static const struct fuse_bpf_op fuse_bpf_flush_op = {
	.opcode = FUSE_FLUSH,
	.filter = FUSE_BPF_OP_IDX(flush),
	.own_creds = true,
	FUSE_BPF_IN(struct fuse_bpf_flush_io, in),
	.backing = fuse_bpf_flush_backing,
	.direct = fuse_bpf_flush_direct,
};

bool __fuse_bpf_flush(int *err, struct file *file, fl_owner_t id)
{
	struct fuse_bpf_flush_io io = { .file = file, .id = id };
	struct file *backing = fuse_bpf_backing_file(file);
	bool served;

	if (fuse_is_bad(file_inode(file))) {
		*err = -EIO;
		served = true;
	} else {
		served = fuse_bpf_run(&fuse_bpf_flush_op, file_inode(file),
				      &io, err);
	}
	/*
	 * The caller's POSIX locks are the backing file's: they go with the
	 * close, whatever the filter said, as filp_flush() drops those of
	 * the fuse file.
	 */
	locks_remove_posix(backing, id);
	return served;
}

/* fsync, fsyncdir */

struct fuse_bpf_fsync_io {
	struct fuse_fsync_in in;
	struct file *file;
	loff_t start;
	loff_t end;
};

static int fuse_bpf_fsync_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_fsync_io *io = data;

	return vfs_fsync_range(fuse_bpf_backing_file(io->file), io->start,
			       io->end, io->in.fsync_flags & FUSE_FSYNC_FDATASYNC);
}

static const struct fuse_bpf_op fuse_bpf_fsync_op = {
	.opcode = FUSE_FSYNC,
	.filter = FUSE_BPF_OP_IDX(fsync),
	FUSE_BPF_IN(struct fuse_bpf_fsync_io, in),
	.backing = fuse_bpf_fsync_backing,
};

static const struct fuse_bpf_op fuse_bpf_fsyncdir_op = {
	.opcode = FUSE_FSYNCDIR,
	.filter = FUSE_BPF_OP_IDX(fsyncdir),
	FUSE_BPF_IN(struct fuse_bpf_fsync_io, in),
	.backing = fuse_bpf_fsync_backing,
};

bool __fuse_bpf_fsync(int *err, struct file *file, loff_t start, loff_t end,
		      int datasync)
{
	struct fuse_bpf_fsync_io io = {
		.in.fsync_flags = datasync ? FUSE_FSYNC_FDATASYNC : 0,
		.file = file,
		.start = start,
		.end = end,
	};
	bool isdir = S_ISDIR(file_inode(file)->i_mode);

	return fuse_bpf_run(isdir ? &fuse_bpf_fsyncdir_op : &fuse_bpf_fsync_op,
			    file_inode(file), &io, err);
}

/* lseek: SEEK_DATA and SEEK_HOLE need the backing file's view. */

struct fuse_bpf_lseek_io {
	struct fuse_lseek_in in;
	struct fuse_lseek_out out;
	struct file *file;
};

static int fuse_bpf_lseek_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lseek_io *io = data;
	struct file *backing = fuse_bpf_backing_file(io->file);
	loff_t pos;

	backing->f_pos = io->file->f_pos;
	pos = vfs_llseek(backing, io->in.offset, io->in.whence);
	if (pos < 0)
		return pos;
	io->out.offset = pos;
	return 0;
}

static int fuse_bpf_lseek_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lseek_io *io = data;

	if (fa->meta.error)
		return fa->meta.error;
	io->file->f_pos = io->out.offset;
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_lseek_op = {
	.opcode = FUSE_LSEEK,
	.filter = FUSE_BPF_OP_IDX(lseek),
	FUSE_BPF_IN(struct fuse_bpf_lseek_io, in),
	FUSE_BPF_OUT(struct fuse_bpf_lseek_io, out),
	.backing = fuse_bpf_lseek_backing,
	.finalize = fuse_bpf_lseek_finalize,
};

bool __fuse_bpf_lseek(loff_t *res, struct file *file, loff_t offset,
		      int whence)
{
	struct fuse_bpf_lseek_io io = {
		.in = { .offset = offset, .whence = whence },
		.file = file,
	};
	int err;

	/*
	 * The backing file belongs to this fuse file alone, and the VFS
	 * serializes f_pos of a shared file (FMODE_ATOMIC_POS).
	 */
	if (!fuse_bpf_run(&fuse_bpf_lseek_op, file_inode(file), &io, &err))
		return false;
	*res = err ?: io.out.offset;
	return true;
}

/* fallocate */

struct fuse_bpf_fallocate_io {
	struct fuse_fallocate_in in;
	struct file *file;
};

static int fuse_bpf_fallocate_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_fallocate_io *io = data;

	return vfs_fallocate(fuse_bpf_backing_file(io->file), io->in.mode,
			     io->in.offset, io->in.length);
}

static int fuse_bpf_fallocate_init_out(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_fallocate_io *io = data;

	return fuse_bpf_remove_privs(io->file);
}

static int fuse_bpf_fallocate_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_fallocate_io *io = data;

	fuse_bpf_copy_attr(file_inode(io->file));
	return fa->meta.error;
}

static const struct fuse_bpf_op fuse_bpf_fallocate_op = {
	.opcode = FUSE_FALLOCATE,
	.filter = FUSE_BPF_OP_IDX(fallocate),
	FUSE_BPF_IN(struct fuse_bpf_fallocate_io, in),
	.init_out = fuse_bpf_fallocate_init_out,
	.backing = fuse_bpf_fallocate_backing,
	.finalize = fuse_bpf_fallocate_finalize,
};

bool __fuse_bpf_fallocate(int *res, struct file *file, int mode,
			  loff_t offset, loff_t length)
{
	struct fuse_bpf_fallocate_io io = {
		.in = { .offset = offset, .length = length, .mode = mode },
		.file = file,
	};

	/* vfs_fallocate() locks the backing inode; there is no fuse cache. */
	return fuse_bpf_run(&fuse_bpf_fallocate_op, file_inode(file), &io, res);
}

/* copy_file_range: both files backed, else the VFS falls back to splice. */

struct fuse_bpf_copy_io {
	struct fuse_copy_file_range_in in;
	struct fuse_write_out out;
	struct file *src;
	struct file *dst;
	ssize_t copied;
};

static int fuse_bpf_copy_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_copy_io *io = data;
	ssize_t ret;

	ret = vfs_copy_file_range(fuse_bpf_backing_file(io->src),
				  io->in.off_in,
				  fuse_bpf_backing_file(io->dst),
				  io->in.off_out, io->in.len, io->in.flags);
	if (ret < 0)
		return ret;
	io->copied = ret;
	return 0;
}

static int fuse_bpf_copy_init_out(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_copy_io *io = data;

	return fuse_bpf_remove_privs(io->dst);
}

static int fuse_bpf_copy_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_copy_io *io = data;

	fuse_bpf_copy_attr(file_inode(io->dst));
	if (!fa->meta.error)
		__fuse_bpf_accessed(io->src);
	return fa->meta.error;
}

static const struct fuse_bpf_op fuse_bpf_copy_op = {
	.opcode = FUSE_COPY_FILE_RANGE,
	.filter = FUSE_BPF_OP_IDX(copy_file_range),
	FUSE_BPF_IN(struct fuse_bpf_copy_io, in),
	FUSE_BPF_OUT(struct fuse_bpf_copy_io, out),
	.init_out = fuse_bpf_copy_init_out,
	.backing = fuse_bpf_copy_backing,
	.finalize = fuse_bpf_copy_finalize,
};

bool __fuse_bpf_copy_file_range(ssize_t *res, struct file *src,
				loff_t src_off, struct file *dst,
				loff_t dst_off, size_t len, unsigned int flags)
{
	struct fuse_bpf_copy_io io = {
		.in = {
			.off_in = src_off,
			.off_out = dst_off,
			.len = len,
			.flags = flags,
		},
		.src = src,
		.dst = dst,
	};
	int err;

	/*
	 * Only when one policy covers both: else the VFS copies through
	 * read and write, which run the source's and the destination's
	 * filters.
	 */
	if (!fuse_bpf_backing_file(src) || !fuse_bpf_backing_file(dst) ||
	    !fuse_bpf_same_filter(file_inode(src), file_inode(dst))) {
		*res = -EXDEV;
		return true;
	}
	if (!fuse_bpf_run(&fuse_bpf_copy_op, file_inode(dst), &io, &err))
		return false;
	*res = err ?: io.copied;
	return true;
}

/*
 * flock and POSIX locks of a backed file are the backing file's locks, so
 * they exclude users of the backing file as well. The lock is taken on
 * the backing file in the caller's file_lock: for the duration of the call
 * it names the backing file (and, for flock, is owned by it, so fput() of
 * the backing file drops it). POSIX locks are dropped at flush.
 */

struct fuse_bpf_lock_io {
	struct fuse_lk_in in;
	struct file *file;
	struct file_lock *fl;
	int cmd;
	bool flock;
};

static int fuse_bpf_lock_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_lock_io *io = data;
	struct file *backing = fuse_bpf_backing_file(io->file);
	struct file_lock *fl = io->fl;
	struct file *user_file = fl->c.flc_file;
	void *owner = fl->c.flc_owner;
	int err;

	fl->c.flc_file = backing;
	if (io->flock)
		fl->c.flc_owner = backing;
	if (io->cmd == F_GETLK)
		err = vfs_test_lock(backing, fl);
	else if (io->cmd == F_CANCELLK)
		err = vfs_cancel_lock(backing, fl);
	else
		err = locks_lock_file_wait(backing, fl);
	fl->c.flc_file = user_file;
	fl->c.flc_owner = owner;
	return err;
}

#define FUSE_BPF_LOCK_OP(name, op)					\
static const struct fuse_bpf_op name = {				\
	.opcode = op,							\
	.filter = FUSE_BPF_OP_IDX(lock),				\
	FUSE_BPF_IN(struct fuse_bpf_lock_io, in),			\
	.backing = fuse_bpf_lock_backing,				\
}

FUSE_BPF_LOCK_OP(fuse_bpf_getlk_op, FUSE_GETLK);
FUSE_BPF_LOCK_OP(fuse_bpf_setlk_op, FUSE_SETLK);
FUSE_BPF_LOCK_OP(fuse_bpf_setlkw_op, FUSE_SETLKW);

/*
 * Return: false when the lock is not the backing file's: @file is not
 * backed, or a filter returned %FUSE_BPF_USER; fuse takes it as for any
 * fuse file then.
 */
bool __fuse_bpf_lock(int *err, struct file *file, int cmd,
		     struct file_lock *fl, bool flock)
{
	struct inode *inode = file_inode(file);
	struct fuse_bpf_lock_io io = {
		.in = {
			.owner = fuse_lock_owner_id(get_fuse_conn(inode),
						    fl->c.flc_owner),
			.lk = {
				.start = fl->fl_start,
				.end = fl->fl_end,
				.type = fl->c.flc_type,
				.pid = pid_nr_ns(task_tgid(current),
						 get_fuse_conn(inode)->pid_ns),
			},
			.lk_flags = flock ? FUSE_LK_FLOCK : 0,
		},
		.file = file,
		.fl = fl,
		.cmd = cmd,
		.flock = flock,
	};
	const struct fuse_bpf_op *op = &fuse_bpf_setlk_op;

	/* Cancelling a lock the filter let through is not its to refuse. */
	if (cmd == F_CANCELLK ||
	    !fuse_bpf_has_callback(inode, FUSE_BPF_OP_IDX(lock))) {
		*err = fuse_bpf_lock_backing(NULL, &io);
		return true;
	}
	if (cmd == F_GETLK)
		op = &fuse_bpf_getlk_op;
	else if (fl->c.flc_flags & FL_SLEEP)
		op = &fuse_bpf_setlkw_op;
	return fuse_bpf_run(op, inode, &io, err);
}

/*
 * ioctl: only the file attribute ioctls, which reach fuse_bpf_fileattr()
 * through the VFS, are done on the backing inode. Passing other commands
 * to the backing file would run them with the backing credentials on
 * behalf of any caller; they fail with -ENOTTY, unless a filter sends
 * them to the server with %FUSE_BPF_USER.
 */

struct fuse_bpf_ioctl_io {
	struct fuse_ioctl_in in;
	struct dentry *dentry;
	struct fileattr *fa;
};

static int fuse_bpf_ioctl_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_ioctl_io *io = data;
	struct path *path;
	int err;

	if (!io->fa)
		return -ENOTTY;
	path = fuse_bpf_backing_path(d_inode(io->dentry));
	if (io->in.cmd == FS_IOC_FSGETXATTR)
		return vfs_fileattr_get(path->dentry, io->fa);
	err = mnt_want_write(path->mnt);
	if (err)
		return err;
	err = vfs_fileattr_set(mnt_idmap(path->mnt), path->dentry, io->fa);
	mnt_drop_write(path->mnt);
	return err;
}

static int fuse_bpf_ioctl_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_ioctl_io *io = data;

	if (!fa->meta.error && io->in.cmd == FS_IOC_FSSETXATTR)
		fuse_bpf_copy_attr(d_inode(io->dentry));
	return fa->meta.error;
}

static const struct fuse_bpf_op fuse_bpf_ioctl_op = {
	.opcode = FUSE_IOCTL,
	.filter = FUSE_BPF_OP_IDX(ioctl),
	FUSE_BPF_IN(struct fuse_bpf_ioctl_io, in),
	.backing = fuse_bpf_ioctl_backing,
	.finalize = fuse_bpf_ioctl_finalize,
};

bool __fuse_bpf_ioctl(long *res, struct file *file, unsigned int cmd,
		      unsigned int flags)
{
	struct fuse_bpf_ioctl_io io = {
		.in = { .cmd = cmd, .flags = flags },
		.dentry = file->f_path.dentry,
	};
	int err;

	if (!fuse_bpf_run(&fuse_bpf_ioctl_op, file_inode(file), &io, &err))
		return false;
	*res = err;
	return true;
}

/* The fileattr ioctls, as FS_IOC_FSGETXATTR and FS_IOC_FSSETXATTR. */
bool __fuse_bpf_fileattr(int *err, struct dentry *dentry, struct fileattr *fa,
			 bool set)
{
	struct fuse_bpf_ioctl_io io = {
		.in.cmd = set ? FS_IOC_FSSETXATTR : FS_IOC_FSGETXATTR,
		.dentry = dentry,
		.fa = fa,
	};

	return fuse_bpf_run(&fuse_bpf_ioctl_op, d_inode(dentry), &io, err);
}
