// SPDX-License-Identifier: GPL-2.0
/*
 * The "routed" fuse-bpf filter of the benchmark: a share of the lookups
 * goes to the daemon (FUSE_BPF_USER), chosen by a hash of the name, the
 * rest is served from the backing directory. The daemon can only answer
 * a lookup in a directory it knows (a node id it gave out itself), so
 * only lookups in the root and in the directories listed in the
 * daemon_dirs map are candidates; lookups in the root always go to the
 * daemon, so that the benchmark's run directories are the daemon's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define ROOT_ID	1
#define HASHED	32	/* bytes of the name that are hashed */

extern int bpf_fuse_buf_dynptr(struct fuse_bpf_rdonly_buf *buf,
			       struct bpf_dynptr *ptr) __ksym;

/* Lookups sent to the daemon per 1000 candidates; set before loading. */
const volatile __u32 permille = 10;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} daemon_dirs SEC(".maps");

/* [0] lookups seen, [1] candidates, [2] sent to the daemon */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} route_stats SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&route_stats, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("struct_ops/route_lookup")
int BPF_PROG(route_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	__u64 nodeid = meta->nodeid;
	__u32 hash = 2166136261u, len, i;
	struct bpf_dynptr ptr;
	char buf[HASHED] = {};

	count(0);
	if (nodeid == ROOT_ID) {
		count(1);
		count(2);
		return FUSE_BPF_USER;
	}
	if (!bpf_map_lookup_elem(&daemon_dirs, &nodeid))
		return FUSE_BPF_CONTINUE;
	count(1);
	len = name->ro.size;
	if (len > HASHED)
		len = HASHED;
	if (bpf_fuse_buf_dynptr(&name->ro, &ptr) ||
	    bpf_dynptr_read(buf, len, &ptr, 0, 0))
		return FUSE_BPF_CONTINUE;
	for (i = 0; i < HASHED; i++) {
		if (i >= len)
			break;
		hash = (hash ^ (__u8)buf[i]) * 16777619u;
	}
	if (hash % 1000 >= permille)
		return FUSE_BPF_CONTINUE;
	count(2);
	return FUSE_BPF_USER;
}

/* fuse_fd and ops_id are set by benchfs before loading (bind_map()). */
SEC(".struct_ops.link")
struct fuse_bpf_prefilters route_pre = {
	.lookup = (void *)route_lookup,
};

char _license[] SEC("license") = "GPL";
