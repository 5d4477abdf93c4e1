// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_bpf_union: the BPF half of the fuse_bpf_union sample, a request
 * program (struct fuse_bpf_request_ops) that picks, for each top-level
 * name of the mount, one of two backings: the name's entry in UPPER if
 * there is one, else its entry in LOWER.
 *
 * The daemon registers a backing id for each side a name exists on and
 * publishes {node id, upper id, lower id} in the picks map under (root,
 * name). A LOOKUP of a published name is answered here as the daemon
 * would answer it on a fuse-bpf mount: a struct fuse_entry_out with the
 * node id and the chosen backing's attributes (bpf_fuse_backing_getattr()
 * of a backing acquired for the purpose and released), and a struct
 * fuse_bpf_entry_out naming the chosen backing id. The kernel then backs
 * the node by that file or directory and serves every later operation on
 * it, and below it, without the daemon. Everything else (the root's
 * GETATTR, OPENDIR, READDIR; LOOKUPs of names not published) goes to the
 * daemon.
 *
 * Each answered LOOKUP is a reference the kernel counts and returns in a
 * FORGET to the daemon, which never saw the LOOKUP; the daemon keeps
 * every published node id for the life of the mount (see "The FORGET
 * rule" in fuse_bpf_union.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_bpf_union.h"

char LICENSE[] SEC("license") = "GPL";

extern int bpf_fuse_req_in_dynptr(struct fuse_bpf_request *req, __u32 i,
				  struct bpf_dynptr *ptr) __ksym;
extern int bpf_fuse_req_out_dynptr(struct fuse_bpf_request *req, __u32 i,
				   __u64 size, struct bpf_dynptr *ptr) __ksym;
extern struct fuse_backing *
bpf_fuse_backing_acquire(struct fuse_bpf_request *req, __u32 id) __ksym;
extern void bpf_fuse_backing_release(struct fuse_backing *fb) __ksym;
extern int bpf_fuse_backing_getattr(struct fuse_bpf_request *req,
				    struct fuse_backing *fb, void *attr,
				    __u32 attr__sz) __ksym;

#define FUSE_ROOT_ID	1

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, UNION_MAX_ENTRIES);
	__type(key, struct union_key);
	__type(value, struct union_pick);
} picks SEC(".maps");

/* for the daemon's status file */
__u64 served_lookup;	/* LOOKUPs answered here */
__u64 picked_upper;	/* of those, backed by the UPPER entry */
__u64 picked_lower;	/* by the LOWER entry */
__u64 sent_lookup;	/* LOOKUPs sent to the daemon */
__u64 lookup_errors;	/* failed here: the backing's getattr failed */

/* The choice: UPPER wins on a name both have. */
static __always_inline __u32 choose(const struct union_pick *p)
{
	return p->upper ?: p->lower;
}

/* Answer a LOOKUP of a published name as the daemon would. */
static __always_inline int answer(struct fuse_bpf_request *req,
				  const struct union_pick *p)
{
	struct fuse_bpf_entry_out ext = {
		.entry_type = FUSE_BPF_ENTRY_BACKING,
		.backing_id = choose(p),
	};
	struct fuse_entry_out e = {
		.nodeid = p->nodeid,
		.generation = 1,
		.entry_valid = UNION_ENTRY_TIMEOUT,
		.attr_valid = UNION_ENTRY_TIMEOUT,
	};
	struct fuse_backing *fb;
	struct bpf_dynptr out;
	int err;

	/* The attributes of what the node will be backed by. */
	fb = bpf_fuse_backing_acquire(req, ext.backing_id);
	if (!fb)
		return FUSE_BPF_REQ_SEND;
	err = bpf_fuse_backing_getattr(req, fb, &e.attr, sizeof(e.attr));
	bpf_fuse_backing_release(fb);
	if (err) {
		__sync_fetch_and_add(&lookup_errors, 1);
		return err;
	}
	/* Two out-arguments: a fuse-bpf mount's LOOKUP. */
	if (req->out_numargs != 2 ||
	    bpf_fuse_req_out_dynptr(req, 0, sizeof(e), &out) ||
	    bpf_dynptr_write(&out, 0, &e, sizeof(e), 0) ||
	    bpf_fuse_req_out_dynptr(req, 1, sizeof(ext), &out) ||
	    bpf_dynptr_write(&out, 0, &ext, sizeof(ext), 0))
		return FUSE_BPF_REQ_SEND;
	if (ext.backing_id == p->upper)
		__sync_fetch_and_add(&picked_upper, 1);
	else
		__sync_fetch_and_add(&picked_lower, 1);
	__sync_fetch_and_add(&served_lookup, 1);
	return FUSE_BPF_REQ_REPLIED;
}

static __always_inline int lookup(struct fuse_bpf_request *req)
{
	struct union_key key = { .parent = req->nodeid };
	__u32 len = req->in_size[0];
	struct union_pick *p;
	struct bpf_dynptr in;

	/* Only the root's names are published; longer ones are not. */
	if (req->nodeid != FUSE_ROOT_ID || req->in_numargs != 1 ||
	    len > sizeof(key.name) || bpf_fuse_req_in_dynptr(req, 0, &in) ||
	    bpf_dynptr_read(key.name, len, &in, 0, 0))
		return FUSE_BPF_REQ_SEND;
	p = bpf_map_lookup_elem(&picks, &key);
	if (!p)
		return FUSE_BPF_REQ_SEND;
	return answer(req, p);
}

/* Sleepable: bpf_fuse_backing_getattr() may sleep. */
SEC("struct_ops.s/union_request")
int BPF_PROG(union_request, struct fuse_bpf_request *req)
{
	int ret;

	if (req->opcode != FUSE_LOOKUP)
		return FUSE_BPF_REQ_SEND;
	ret = lookup(req);
	if (ret == FUSE_BPF_REQ_SEND)
		__sync_fetch_and_add(&sent_lookup, 1);
	return ret;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops union_ops = {
	.request = (void *)union_request,
};
