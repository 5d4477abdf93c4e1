/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse-bpf: the operations filters can be attached to, one list for all
 * their views (no include guard: included once per view, as
 * arch/x86/include/asm/kvm-x86-ops.h is).
 *
 * FUSE_BPF_OP(name, prefilter parameters, prefilter arguments,
 *	       postfilter parameters, postfilter arguments)
 *
 * for each operation, in member order: include/linux/fuse_bpf.h makes the
 * members of struct fuse_bpf_prefilters and fuse_bpf_postfilters of it,
 * fs/fuse/bpf_ops.c their CFI stubs and the calls into them. The
 * arguments say where in struct fuse_bpf_args (fs/fuse/bpf_internal.h) a
 * parameter comes from: M the metadata, IN(i) the fixed in-argument i,
 * RW(i) and RO(i) the variable in-argument i writable or read-only,
 * OUT(i) and OUTRW(i) the out-argument i.
 */
#ifndef FUSE_BPF_OP
#error "define FUSE_BPF_OP() before including linux/fuse_bpf_ops.h"
#endif

FUSE_BPF_OP(lookup,
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_buf *name),
	    (M, RW(0)),
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_rdonly_buf *name,
	     const struct fuse_entry_out *out),
	    (M, RO(0), OUT(0)))

FUSE_BPF_OP(getattr,
	    (const struct fuse_bpf_meta *meta, struct fuse_getattr_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_getattr_in *in,
	     struct fuse_attr_out *out),
	    (M, IN(0), OUT(0)))

FUSE_BPF_OP(setattr,
	    (const struct fuse_bpf_meta *meta, struct fuse_setattr_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_setattr_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(access,
	    (const struct fuse_bpf_meta *meta, struct fuse_access_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_access_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(statfs,
	    (const struct fuse_bpf_meta *meta),
	    (M),
	    (const struct fuse_bpf_meta *meta, struct fuse_statfs_out *out),
	    (M, OUT(0)))

FUSE_BPF_OP(open,
	    (const struct fuse_bpf_meta *meta, struct fuse_open_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_open_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(opendir,
	    (const struct fuse_bpf_meta *meta, struct fuse_open_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_open_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(flush,
	    (const struct fuse_bpf_meta *meta, struct fuse_flush_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_flush_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(fsync,
	    (const struct fuse_bpf_meta *meta, struct fuse_fsync_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_fsync_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(fsyncdir,
	    (const struct fuse_bpf_meta *meta, struct fuse_fsync_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_fsync_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(readdir,
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_readdir_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_read_in *in,
	     struct fuse_bpf_buf *dirents),
	    (M, IN(0), OUTRW(0)))

FUSE_BPF_OP(mknod,
	    (const struct fuse_bpf_meta *meta, struct fuse_mknod_in *in,
	     struct fuse_bpf_buf *name),
	    (M, IN(0), RW(1)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_mknod_in *in,
	     struct fuse_bpf_rdonly_buf *name),
	    (M, IN(0), RO(1)))

FUSE_BPF_OP(mkdir,
	    (const struct fuse_bpf_meta *meta, struct fuse_mkdir_in *in,
	     struct fuse_bpf_buf *name),
	    (M, IN(0), RW(1)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_mkdir_in *in,
	     struct fuse_bpf_rdonly_buf *name),
	    (M, IN(0), RO(1)))

FUSE_BPF_OP(symlink,
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_buf *name,
	     struct fuse_bpf_buf *target),
	    (M, RW(0), RW(1)),
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_rdonly_buf *name,
	     struct fuse_bpf_rdonly_buf *target),
	    (M, RO(0), RO(1)))

FUSE_BPF_OP(link,
	    (const struct fuse_bpf_meta *meta, struct fuse_link_in *in,
	     struct fuse_bpf_buf *name),
	    (M, IN(0), RW(1)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_link_in *in,
	     struct fuse_bpf_rdonly_buf *name),
	    (M, IN(0), RO(1)))

FUSE_BPF_OP(unlink,
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_buf *name),
	    (M, RW(0)),
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_rdonly_buf *name),
	    (M, RO(0)))

FUSE_BPF_OP(rmdir,
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_buf *name),
	    (M, RW(0)),
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_rdonly_buf *name),
	    (M, RO(0)))

FUSE_BPF_OP(rename,
	    (const struct fuse_bpf_meta *meta, struct fuse_rename2_in *in,
	     struct fuse_bpf_buf *oldname, struct fuse_bpf_buf *newname),
	    (M, IN(0), RW(1), RW(2)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_rename2_in *in,
	     struct fuse_bpf_rdonly_buf *oldname,
	     struct fuse_bpf_rdonly_buf *newname),
	    (M, IN(0), RO(1), RO(2)))

FUSE_BPF_OP(readlink,
	    (const struct fuse_bpf_meta *meta),
	    (M),
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_buf *target),
	    (M, OUTRW(0)))

FUSE_BPF_OP(tmpfile,
	    (const struct fuse_bpf_meta *meta, struct fuse_create_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_create_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(getxattr,
	    (const struct fuse_bpf_meta *meta, struct fuse_getxattr_in *in,
	     struct fuse_bpf_buf *name),
	    (M, IN(0), RW(1)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_getxattr_in *in,
	     struct fuse_bpf_rdonly_buf *name, struct fuse_bpf_buf *value),
	    (M, IN(0), RO(1), OUTRW(0)))

FUSE_BPF_OP(listxattr,
	    (const struct fuse_bpf_meta *meta, struct fuse_getxattr_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_getxattr_in *in,
	     struct fuse_bpf_buf *list),
	    (M, IN(0), OUTRW(0)))

FUSE_BPF_OP(setxattr,
	    (const struct fuse_bpf_meta *meta, struct fuse_setxattr_in *in,
	     struct fuse_bpf_buf *name, struct fuse_bpf_buf *value),
	    (M, IN(0), RW(1), RW(2)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_setxattr_in *in,
	     struct fuse_bpf_rdonly_buf *name, struct fuse_bpf_rdonly_buf *value),
	    (M, IN(0), RO(1), RO(2)))

FUSE_BPF_OP(removexattr,
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_buf *name),
	    (M, RW(0)),
	    (const struct fuse_bpf_meta *meta, struct fuse_bpf_rdonly_buf *name),
	    (M, RO(0)))

FUSE_BPF_OP(lseek,
	    (const struct fuse_bpf_meta *meta, struct fuse_lseek_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_lseek_in *in,
	     struct fuse_lseek_out *out),
	    (M, IN(0), OUT(0)))

FUSE_BPF_OP(fallocate,
	    (const struct fuse_bpf_meta *meta, struct fuse_fallocate_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta,
	     const struct fuse_fallocate_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(copy_file_range,
	    (const struct fuse_bpf_meta *meta,
	     struct fuse_copy_file_range_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta,
	     const struct fuse_copy_file_range_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(read,
	    (const struct fuse_bpf_meta *meta, struct fuse_read_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_read_in *in,
	     struct fuse_bpf_read_out *out),
	    (M, IN(0), OUT(0)))

FUSE_BPF_OP(write,
	    (const struct fuse_bpf_meta *meta, struct fuse_write_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_write_in *in,
	     struct fuse_write_out *out),
	    (M, IN(0), OUT(0)))

FUSE_BPF_OP(release,
	    (const struct fuse_bpf_meta *meta, struct fuse_release_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_release_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(releasedir,
	    (const struct fuse_bpf_meta *meta, struct fuse_release_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_release_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(lock,
	    (const struct fuse_bpf_meta *meta, struct fuse_lk_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_lk_in *in),
	    (M, IN(0)))

FUSE_BPF_OP(ioctl,
	    (const struct fuse_bpf_meta *meta, struct fuse_ioctl_in *in),
	    (M, IN(0)),
	    (const struct fuse_bpf_meta *meta, const struct fuse_ioctl_in *in),
	    (M, IN(0)))

#undef FUSE_BPF_OP
