// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_bpf_reqcache: the BPF half of the fuse_bpf_reqcache sample, a
 * request program (struct fuse_bpf_request_ops) for a classic FUSE daemon.
 *
 * It answers GETATTR from the attrs map (node id -> struct fuse_attr_out)
 * and LOOKUP from the entries map ((parent node id, name) -> struct
 * fuse_entry_out); the daemon fills both with the replies it sends itself
 * and deletes what a change makes stale before it replies to the change.
 * Everything else, and whatever is not in the maps, goes to the daemon.
 *
 * A LOOKUP answered here gives the kernel a reference to the node that
 * the daemon did not see, and the kernel's FORGET counts it. So a LOOKUP
 * is answered only for a node that has a counter in the handed map, which
 * the program increments first; the daemon adds it to its own count. The
 * entry is looked up again after the increment: if the daemon deleted it
 * meanwhile, the increment is undone and the LOOKUP goes to the daemon.
 * Either the daemon sees the increment by the time it deletes the entry
 * and then reads the counter, or the program sees the deletion; a node
 * the kernel got from here is never freed under it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_bpf_reqcache.h"

char LICENSE[] SEC("license") = "GPL";

extern int bpf_fuse_req_in_dynptr(struct fuse_bpf_request *req, __u32 i,
				  struct bpf_dynptr *ptr) __ksym;
extern int bpf_fuse_req_out_dynptr(struct fuse_bpf_request *req, __u32 i,
				   __u64 size, struct bpf_dynptr *ptr) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, REQCACHE_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct fuse_attr_out);
} attrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, REQCACHE_MAX_ENTRIES);
	__type(key, struct reqcache_key);
	__type(value, struct fuse_entry_out);
} entries SEC(".maps");

/* node id -> LOOKUPs of it answered here */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, REQCACHE_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} handed SEC(".maps");

/* for the daemon's status file */
__u64 served_getattr;
__u64 served_lookup;
__u64 sent;
/* --send-all: answer nothing, as a trivial program (set before load) */
const volatile bool send_all;

static __always_inline int reply(struct fuse_bpf_request *req, void *data,
				 __u32 size)
{
	struct bpf_dynptr out;

	if (bpf_fuse_req_out_dynptr(req, 0, size, &out) ||
	    bpf_dynptr_write(&out, 0, data, size, 0))
		return -1;
	return 0;
}

static __always_inline int getattr(struct fuse_bpf_request *req)
{
	__u64 id = req->nodeid;
	struct fuse_attr_out *a;

	a = bpf_map_lookup_elem(&attrs, &id);
	if (!a || reply(req, a, sizeof(*a)))
		return FUSE_BPF_REQ_SEND;
	__sync_fetch_and_add(&served_getattr, 1);
	return FUSE_BPF_REQ_REPLIED;
}

static __always_inline int lookup(struct fuse_bpf_request *req)
{
	struct reqcache_key key = { .parent = req->nodeid };
	__u32 len = req->in_size[0];
	struct fuse_entry_out *e;
	struct bpf_dynptr in;
	__u64 id, *count;

	if (req->in_numargs != 1 || len > sizeof(key.name) ||
	    bpf_fuse_req_in_dynptr(req, 0, &in) ||
	    bpf_dynptr_read(key.name, len, &in, 0, 0))
		return FUSE_BPF_REQ_SEND;
	e = bpf_map_lookup_elem(&entries, &key);
	if (!e)
		return FUSE_BPF_REQ_SEND;
	id = e->nodeid;
	count = bpf_map_lookup_elem(&handed, &id);
	if (!count)
		return FUSE_BPF_REQ_SEND;
	__sync_fetch_and_add(count, 1);
	/* Still published? (see the comment at the top) */
	e = bpf_map_lookup_elem(&entries, &key);
	if (!e || e->nodeid != id || reply(req, e, sizeof(*e))) {
		__sync_fetch_and_sub(count, 1);
		return FUSE_BPF_REQ_SEND;
	}
	__sync_fetch_and_add(&served_lookup, 1);
	return FUSE_BPF_REQ_REPLIED;
}

SEC("struct_ops/reqcache_request")
int BPF_PROG(reqcache_request, struct fuse_bpf_request *req)
{
	int ret = FUSE_BPF_REQ_SEND;

	if (send_all)
		return FUSE_BPF_REQ_SEND;
	switch (req->opcode) {
	case FUSE_GETATTR:
		ret = getattr(req);
		break;
	case FUSE_LOOKUP:
		ret = lookup(req);
		break;
	}
	if (ret == FUSE_BPF_REQ_SEND)
		__sync_fetch_and_add(&sent, 1);
	return ret;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops reqcache = {
	.request = (void *)reqcache_request,
};
