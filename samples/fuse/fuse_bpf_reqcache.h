/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by fuse_bpf_reqcache.c and fuse_bpf_reqcache.bpf.c: the key of
 * the entries map and the maps' sizes.
 */
#ifndef __FUSE_BPF_REQCACHE_H
#define __FUSE_BPF_REQCACHE_H

/*
 * The longest name published, with its NUL, as a LOOKUP carries it. The
 * key is hashed whole on every lookup (jhash, about 3.3 instructions a
 * byte): 256 bytes for NAME_MAX would make the hashing most of what a
 * served stat costs, so longer names are left to the daemon.
 */
#define REQCACHE_NAME_SIZE	64
/* bytes of a --hide prefix, at most (as fuse_bpf_mirror's) */
#define REQCACHE_HIDE_MAX	32
/* entries of each map; past that the daemon stops publishing */
#define REQCACHE_MAX_ENTRIES	16384

/**
 * struct reqcache_key - a name in a directory, the key of the entries map
 * @parent: node id of the directory
 * @name: the name with its NUL, zero-padded
 */
struct reqcache_key {
	__u64 parent;
	char name[REQCACHE_NAME_SIZE];
};

#endif /* __FUSE_BPF_REQCACHE_H */
