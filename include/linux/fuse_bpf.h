/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse-bpf: the BPF struct_ops types that filter operations on FUSE nodes
 * backed by another file system. See Documentation/filesystems/fuse-bpf.rst.
 */
#ifndef _LINUX_FUSE_BPF_H
#define _LINUX_FUSE_BPF_H

#include <linux/types.h>
#include <uapi/linux/fuse.h>

struct fuse_bpf_ops_table;

/**
 * struct fuse_bpf_meta - what a filter knows about the operation
 * @nodeid: node id of the node the operation is on (the directory for
 *	operations on a name)
 * @opcode: the FUSE opcode of the operation
 * @error: in a postfilter, the result of the backing call: 0 or a
 *	negative errno; 0 in a prefilter
 * @uid: fsuid of the caller, in the user namespace of the mount
 * @gid: fsgid of the caller, in the user namespace of the mount
 * @pid: thread group id of the caller, in the pid namespace of the mount
 *
 * Read-only for programs.
 */
struct fuse_bpf_meta {
	u64 nodeid;
	u32 opcode;
	s32 error;
	u32 uid;
	u32 gid;
	u32 pid;
};

/**
 * struct fuse_bpf_rdonly_buf - a variable-size argument a filter may read
 * @data: the bytes; programs reach them only through a dynptr from
 *	bpf_fuse_buf_dynptr()
 * @size: number of bytes; names and link targets are counted without
 *	their terminating NUL
 *
 * Names, link targets, extended attribute names and values. Programs get
 * a struct fuse_bpf_rdonly_buf where the kernel cannot honour a change.
 */
struct fuse_bpf_rdonly_buf {
	void *data;
	u32 size;
};

/**
 * struct fuse_bpf_buf - a variable-size argument a filter may rewrite
 * @ro: the buffer; a struct fuse_bpf_buf may be passed wherever a
 *	struct fuse_bpf_rdonly_buf is expected
 * @max_size: bound for bpf_fuse_buf_rw_dynptr()
 * @flags: kernel-private state
 *
 * A change made through bpf_fuse_buf_rw_dynptr() is what the backing call
 * (or the server) sees.
 */
struct fuse_bpf_buf {
	struct fuse_bpf_rdonly_buf ro;
	u32 max_size;
	u32 flags;
};

/**
 * struct fuse_bpf_readdir_in - the in-argument of a READDIR prefilter
 * @in: the FUSE request's argument; a prefilter may change @in.offset,
 *	where the backing directory is read from
 *
 * A type of its own because READ, with the same struct fuse_read_in,
 * honours other fields: the verifier tells what a program may write by
 * the type it writes to.
 */
struct fuse_bpf_readdir_in {
	struct fuse_read_in in;
};

/**
 * DOC: Prefilters
 *
 * struct fuse_bpf_prefilters has one member per operation, in the order of
 * include/linux/fuse_bpf_ops.h:
 *
 * ``lookup``
 *	LOOKUP of @name in the directory; a changed @name is looked up
 *	in the backing directory instead, under the original fuse name
 * ``getattr``
 *	GETATTR
 * ``setattr``
 *	SETATTR; a changed mode, uid, gid and size are applied, and
 *	clearing %FATTR_MODE, %FATTR_UID, %FATTR_GID or %FATTR_SIZE in valid
 *	drops that change
 * ``access``
 *	a permission check (ACCESS); a changed mask is checked
 * ``statfs``
 *	STATFS
 * ``open``
 *	OPEN; changed open flags are used for the backing file
 * ``opendir``
 *	OPENDIR; as @open
 * ``flush``
 *	FLUSH
 * ``fsync``
 *	FSYNC; a changed fsync_flags is used
 * ``fsyncdir``
 *	FSYNCDIR; as @fsync
 * ``readdir``
 *	READDIR; a changed offset is where the backing directory is
 *	read from
 * ``mknod``
 *	MKNOD, also the create step of an O_CREAT open; changed mode,
 *	rdev and @name are used
 * ``mkdir``
 *	MKDIR; changed mode and @name are used
 * ``symlink``
 *	SYMLINK; changed @name and @target are used
 * ``link``
 *	LINK; a changed @name is used
 * ``unlink``
 *	UNLINK; a changed @name is used
 * ``rmdir``
 *	RMDIR; a changed @name is used
 * ``rename``
 *	RENAME2; changed flags and names are used
 * ``readlink``
 *	READLINK, for every resolution of a symlink
 * ``tmpfile``
 *	TMPFILE; changed flags and mode are used
 * ``getxattr``
 *	GETXATTR; a changed @name is used
 * ``listxattr``
 *	LISTXATTR
 * ``setxattr``
 *	SETXATTR; changed flags, @name and @value are used
 * ``removexattr``
 *	REMOVEXATTR; a changed @name is used
 * ``lseek``
 *	LSEEK; changed offset and whence are used
 * ``fallocate``
 *	FALLOCATE; changed mode, offset and length are used
 * ``copy_file_range``
 *	COPY_FILE_RANGE; changed offsets, length and flags
 *	are used
 * ``read``
 *	READ, also of splice and sendfile; a changed offset is where the
 *	backing file is read, a smaller size reads less (a larger one is
 *	capped at what the caller asked for); %FUSE_BPF_USER sends the READ
 *	to the server, whose data the caller gets
 * ``write``
 *	WRITE; as @read, and %FUSE_BPF_USER sends the data to the
 *	server instead of the backing file
 * ``release``
 *	RELEASE, when the last reference to an open file goes; the
 *	file is released whatever the filter returns
 * ``releasedir``
 *	RELEASEDIR; as @release
 * ``lock``
 *	GETLK, SETLK and SETLKW of POSIX locks, and SETLK/SETLKW with
 *	%FUSE_LK_FLOCK for flock(); %FUSE_BPF_USER takes the lock the way a
 *	fuse file without backing does (the server's, or local locks)
 * ``ioctl``
 *	IOCTL: the fileattr ioctls (FS_IOC_FSGETXATTR and
 *	FS_IOC_FSSETXATTR, also for FS_IOC_GETFLAGS and FS_IOC_SETFLAGS),
 *	done on the backing inode, and any other command, which fails with
 *	%ENOTTY; %FUSE_BPF_USER sends the ioctl to the server
 *
 * Every callback gets &struct fuse_bpf_meta and the in-arguments of the
 * FUSE request, and returns a value of &enum fuse_bpf_ret or a negative
 * errno. A prefilter may write exactly the fields of its fixed
 * in-argument named above, the ones the operation honours; a program
 * writing any other field does not load. An operation whose callback is
 * not set continues to the backing without calling any program.
 *
 * After the callbacks, both types have the members that bind a map to a
 * connection when it is attached (a BPF link is made for it):
 *
 * ``fuse_fd``
 *	a file descriptor, in the attaching process, of the connection: its
 *	/dev/fuse (the server's), or any file or directory of the mount, an
 *	O_PATH one included (for a mount without a server)
 * ``ops_id``
 *	the ops id of the connection the map serves, from 1 to %INT_MAX:
 *	what LOOKUP replies and the mount option ops= name. A prefilters map
 *	and a postfilters map of the same id make one filter
 * ``table``
 *	kernel-private, zero
 *
 * Attaching needs CAP_SYS_ADMIN (as registering a backing file does);
 * each id takes one prefilters and one postfilters map at a time, and a
 * map has one binding (a second link of it: -EBUSY). The map serves the
 * id until its link goes. While no prefilters map serves an id (before
 * the first attach, after a detach), every operation on its nodes fails
 * with -ENOTCONN: no node with filters is ever served unfiltered.
 */

struct fuse_bpf_prefilters {
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args) int (*op)pre;
#include <linux/fuse_bpf_ops.h>
	int fuse_fd;
	u32 ops_id;
	struct fuse_bpf_ops_table *table;
};

/**
 * DOC: Postfilters
 *
 * struct fuse_bpf_postfilters has one member per operation, in the same
 * order:
 *
 * ``lookup``
 *	LOOKUP; @out holds the attributes of what was found in
 *	@out->attr (@out->attr.ino the backing inode number), all zero for a
 *	name that does not exist; read-only
 * ``getattr``
 *	GETATTR; the changed attributes in @out are what the caller
 *	sees: the permission bits of mode (its file type stays), nlink, uid,
 *	gid, size, blocks and the times
 * ``setattr``
 *	SETATTR
 * ``access``
 *	a permission check
 * ``statfs``
 *	STATFS; the changed @out is what the caller sees
 * ``open``
 *	OPEN
 * ``opendir``
 *	OPENDIR
 * ``flush``
 *	FLUSH
 * ``fsync``
 *	FSYNC
 * ``fsyncdir``
 *	FSYNCDIR
 * ``readdir``
 *	READDIR; @dirents holds the entries read from the backing
 *	directory as struct fuse_dirent records, as a READDIR reply carries
 *	them; the entries left there (removed, renamed or added, up to
 *	@dirents->max_size bytes) are what the caller gets
 * ``mknod``
 *	MKNOD, also the create step of an O_CREAT open
 * ``mkdir``
 *	MKDIR
 * ``symlink``
 *	SYMLINK
 * ``link``
 *	LINK
 * ``unlink``
 *	UNLINK
 * ``rmdir``
 *	RMDIR
 * ``rename``
 *	RENAME2
 * ``readlink``
 *	READLINK; a changed @target (without NUL) is the link's
 *	target for this resolution or readlink
 * ``tmpfile``
 *	TMPFILE
 * ``getxattr``
 *	GETXATTR; @value holds the whole value, whatever size the
 *	caller asked for; a changed @value is what the caller gets (or
 *	%ERANGE, or its size when the caller asked for the size)
 * ``listxattr``
 *	LISTXATTR; as @getxattr, for the NUL-separated @list
 * ``setxattr``
 *	SETXATTR
 * ``removexattr``
 *	REMOVEXATTR
 * ``lseek``
 *	LSEEK; a changed offset in @out is the result
 * ``fallocate``
 *	FALLOCATE
 * ``copy_file_range``
 *	COPY_FILE_RANGE
 * ``read``
 *	READ; @out holds the number of bytes read, a smaller one is
 *	what the caller is told (and where its file position goes)
 * ``write``
 *	WRITE; as @read, for the bytes written (the bytes past a
 *	smaller size stay written)
 * ``release``
 *	RELEASE, after the file was released; the result is ignored
 * ``releasedir``
 *	RELEASEDIR; as @release
 * ``lock``
 *	GETLK, SETLK, SETLKW
 * ``ioctl``
 *	IOCTL
 *
 * A postfilter runs after the backing call when the prefilter returned
 * %FUSE_BPF_POSTFILTER. It gets the in-arguments read-only, the backing
 * call's result in @meta->error and, where the operation has them, the
 * out-arguments, of which it may write the fields named above. It returns
 * %FUSE_BPF_CONTINUE to keep the result, a negative errno to fail the
 * operation with it, or %FUSE_BPF_USER_POSTFILTER.
 *
 * The members after the callbacks are those of struct
 * fuse_bpf_prefilters.
 */

struct fuse_bpf_postfilters {
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args) int (*op)post;
#include <linux/fuse_bpf_ops.h>
	int fuse_fd;
	u32 ops_id;
	struct fuse_bpf_ops_table *table;
};

#endif /* _LINUX_FUSE_BPF_H */
