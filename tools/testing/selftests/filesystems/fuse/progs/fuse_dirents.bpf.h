/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Removing entries from a listing in a fuse-bpf readdir postfilter, for
 * progs/filters.bpf.c and samples/fuse/fuse_bpf_policy.bpf.c. Include it
 * after vmlinux.h and bpf/bpf_helpers.h.
 */
#ifndef __FUSE_DIRENTS_BPF_H
#define __FUSE_DIRENTS_BPF_H

#ifndef EIO
#define EIO	5
#endif

#define FUSE_DIRENT_HDR		sizeof(struct fuse_dirent)
/* A record with a name of NAME_MAX bytes, padded to 8. */
#define FUSE_DIRENT_REC_MAX	(FUSE_DIRENT_HDR + 256)
/*
 * Records of a listing, at most: a bound for the verifier only, the loop
 * ends at the end of the buffer. This many of the smallest records (32
 * bytes) take 128 KiB; a postfilter gets at most a page of them.
 */
#define FUSE_DIRENTS_MAX	4096

int bpf_fuse_buf_rw_dynptr(struct fuse_bpf_buf *buf, __u64 size,
			   struct bpf_dynptr *ptr) __ksym;

/**
 * fuse_dirents_remove() - remove records from a readdir postfilter's listing
 * @dirents: the postfilter's out-argument, struct fuse_dirent records
 * @drop: returns true for a record to remove; the name is @de->name,
 *	  @de->namelen bytes. Must be __always_inline: BPF programs cannot
 *	  call through a pointer, so it is inlined with this helper.
 *
 * Moves the records @drop keeps to the front of @dirents, in their order,
 * and shrinks @dirents to them.
 *
 * Return: 0, or -EIO if a record overruns its buffer or a kfunc fails.
 */
static __always_inline int
fuse_dirents_remove(struct fuse_bpf_buf *dirents,
		    bool (*drop)(const struct fuse_dirent *de))
{
	__u32 size = dirents->ro.size, rd = 0, wr = 0, reclen;
	char rec[FUSE_DIRENT_REC_MAX];
	struct fuse_dirent *de = (void *)rec;
	struct bpf_dynptr d, shrunk;
	int i;

	if (bpf_fuse_buf_rw_dynptr(dirents, size, &d))
		return -EIO;
	bpf_for(i, 0, FUSE_DIRENTS_MAX) {
		if (rd >= size)
			break;
		if (bpf_dynptr_read(rec, FUSE_DIRENT_HDR, &d, rd, 0))
			return -EIO;
		reclen = (FUSE_DIRENT_HDR + de->namelen + 7) & ~7U;
		if (reclen > sizeof(rec) ||
		    bpf_dynptr_read(rec, reclen, &d, rd, 0))
			return -EIO;
		rd += reclen;
		if (drop(de))
			continue;
		if (wr != rd - reclen &&
		    bpf_dynptr_write(&d, wr, rec, reclen, 0))
			return -EIO;
		wr += reclen;
	}
	if (wr != size && bpf_fuse_buf_rw_dynptr(dirents, wr, &shrunk))
		return -EIO;
	return 0;
}

#endif /* __FUSE_DIRENTS_BPF_H */
