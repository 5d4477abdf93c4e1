/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by fuse_bpf_union.c and fuse_bpf_union.bpf.c: the picks map's
 * key and value.
 */
#ifndef __FUSE_BPF_UNION_H
#define __FUSE_BPF_UNION_H

/*
 * The longest name published, with its NUL, as a LOOKUP carries it; the
 * daemon answers the LOOKUPs of longer names itself.
 */
#define UNION_NAME_SIZE		64
/* top-level names, at most; past that the daemon answers the rest */
#define UNION_MAX_ENTRIES	4096
/* seconds the kernel keeps a top-level name before it asks again */
#define UNION_ENTRY_TIMEOUT	1

/**
 * struct union_key - a name in a directory, the key of the picks map
 * @parent: node id of the directory (the root: the union is of the
 *	top-level entries)
 * @name: the name with its NUL, zero-padded
 */
struct union_key {
	__u64 parent;
	char name[UNION_NAME_SIZE];
};

/**
 * struct union_pick - what the program chooses from for a name
 * @nodeid: the node id the daemon gave the name, for the life of the mount
 * @upper: backing id of the name in UPPER, 0 if UPPER has none
 * @lower: backing id of the name in LOWER, 0 if LOWER has none
 */
struct union_pick {
	__u64 nodeid;
	__u32 upper;
	__u32 lower;
};

#endif /* __FUSE_BPF_UNION_H */
