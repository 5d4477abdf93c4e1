/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between progs/request.bpf.c and request_test.c. */
#ifndef __REQUEST_H
#define __REQUEST_H

#define REQ_NAME_MAX		32	/* bytes of a name in struct req_entry_key */
#define REQ_GARBAGE		42	/* not a fuse_bpf_req_ret */
#define REQ_WATCH_UID		777	/* watch: the uid the reply gets */
#define REQ_XATTR_NAME		"user.bpf"
#define REQ_XATTR_VALUE		"from a request program"
#define REQ_READLINK_TARGET	"target/of/bpf"
#define REQ_HIDDEN		"other"	/* watch: removed from listings */

#define REQ_PATH_MAX		64	/* a path beneath a backing directory */

/* Key of the entries map: a name in a directory. */
struct req_entry_key {
	__u64 parent;
	char name[REQ_NAME_MAX];	/* with its NUL, zero-padded */
};

#endif
