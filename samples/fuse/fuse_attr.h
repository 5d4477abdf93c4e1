/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct stat to struct fuse_attr, for fuse_bpf_mirror.c's LOOKUP replies;
 * it needs nothing of libfuse, so servers on the raw /dev/fuse protocol
 * can include it too.
 */
#ifndef __FUSE_ATTR_H
#define __FUSE_ATTR_H

#include <linux/fuse.h>
#include <string.h>
#include <sys/stat.h>

/**
 * fuse_attr_from_stat() - the FUSE attributes of a stat(2) result
 * @a: the attributes of a reply (struct fuse_entry_out, fuse_attr_out);
 *     every field is written, those stat(2) has no value for with 0
 * @st: the file's stat(2) result
 */
static inline void fuse_attr_from_stat(struct fuse_attr *a,
				       const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = st->st_size;
	a->blocks = st->st_blocks;
	a->atime = st->st_atim.tv_sec;
	a->mtime = st->st_mtim.tv_sec;
	a->ctime = st->st_ctim.tv_sec;
	a->atimensec = st->st_atim.tv_nsec;
	a->mtimensec = st->st_mtim.tv_nsec;
	a->ctimensec = st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = st->st_rdev;
	a->blksize = st->st_blksize;
}

#endif /* __FUSE_ATTR_H */
