/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between progs/filters.bpf.c and the tests using it. */
#ifndef __FILTERS_H
#define __FILTERS_H

#define FILTERS_GARBAGE		1234	/* not a fuse_bpf_ret */
#define FILTERS_FAKE_SIZE	4242	/* getattr postfilter's st_size */
#define FILTERS_FAKE_UID	4321	/* and st_uid */
#define FILTERS_FAKE_NAMELEN	100	/* statfs postfilter's f_namelen */
#define FILTERS_XATTR_VALUE	"rewritten by a postfilter"
#define FILTERS_HIDE_SIZE	7	/* post: files of this size are hidden */
#define FILTERS_READ_CAP	8	/* rw: bytes a read gets at most */
#define FILTERS_SHORT_OFF	32	/* rw: a read here is told one less */
#define FILTERS_WRITE_LIMIT	16	/* rw: no writes at or past this */
#define FILTERS_SHRUNK_LEN	3	/* shrink_symlink: bytes of a target kept */
#define FILTERS_WIDEN_RDEV	0x103	/* widen: new_encode_dev(makedev(1, 3)) */

#endif
