// SPDX-License-Identifier: GPL-2.0
/*
 * A request program that holds backing files (request_test.c, fixture
 * req_backing): GETATTR of a node is answered from a backing file the
 * server registered, kept in a map as a kptr; a LOOKUP of a name the
 * beneath map holds opens its path beneath a registered backing
 * directory and answers with its attributes; a LOOKUP of a name the picks
 * map holds backs the node by one of two backing files.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "request.h"

#define ENOENT	2
#define O_RDONLY 0

extern int bpf_fuse_req_in_dynptr(struct fuse_bpf_request *req, __u32 i,
				  struct bpf_dynptr *ptr) __ksym;
extern int bpf_fuse_req_out_dynptr(struct fuse_bpf_request *req, __u32 i,
				   __u64 size, struct bpf_dynptr *ptr) __ksym;
extern struct fuse_backing *
bpf_fuse_backing_acquire(struct fuse_bpf_request *req, __u32 id) __ksym;
extern void bpf_fuse_backing_release(struct fuse_backing *fb) __ksym;
extern struct fuse_backing *
bpf_fuse_backing_open(struct fuse_bpf_request *req, struct fuse_backing *dir,
		      const char *name, __u32 name__sz, __u32 flags) __ksym;
extern int bpf_fuse_backing_getattr(struct fuse_bpf_request *req,
				    struct fuse_backing *fb, void *attr,
				    __u32 attr__sz) __ksym;

struct held {
	struct fuse_backing __kptr *fb;
};

/* node id -> the backing file its GETATTR is answered from */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, struct held);
} held SEC(".maps");

__u64 file_nodeid;	/* GETATTR of it is answered from file_backing */
__u32 file_backing;	/* backing id of a registered file */
__u32 dir_backing;	/* backing id of a registered directory */
__u64 inner_nodeid;	/* the node id a LOOKUP of a beneath name answers with */
__u32 acquired;		/* bpf_fuse_backing_acquire() calls that held */
__u32 served;
int getattr_err;

/*
 * The backing choice: a name of the root -> an upper and a lower backing
 * id; LOOKUP backs the node by the upper one when there is one, else by
 * the lower one.
 */
struct pick {
	__u64 nodeid;
	__u32 upper;
	__u32 lower;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct req_entry_key);
	__type(value, struct pick);
} picks SEC(".maps");

__u32 picked_upper, picked_lower;

/* A name of the root -> a path beneath the directory dir_backing */
struct beneath {
	char path[REQ_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct req_entry_key);
	__type(value, struct beneath);
} beneath SEC(".maps");

static __always_inline int reply_attr(struct fuse_bpf_request *req,
				      struct fuse_backing *fb)
{
	struct fuse_attr_out out = {};
	struct bpf_dynptr ptr;

	getattr_err = bpf_fuse_backing_getattr(req, fb, &out.attr,
					       sizeof(out.attr));
	if (getattr_err)
		return getattr_err;
	if (bpf_fuse_req_out_dynptr(req, 0, sizeof(out), &ptr) ||
	    bpf_dynptr_write(&ptr, 0, &out, sizeof(out), 0))
		return FUSE_BPF_REQ_SEND;
	served++;
	return FUSE_BPF_REQ_REPLIED;
}

static __always_inline int serve_getattr(struct fuse_bpf_request *req)
{
	struct held init = {}, *h;
	struct fuse_backing *fb, *old;
	__u64 id = req->nodeid;
	int ret;

	if (id != file_nodeid)
		return FUSE_BPF_REQ_SEND;
	h = bpf_map_lookup_elem(&held, &id);
	if (!h) {
		bpf_map_update_elem(&held, &id, &init, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&held, &id);
		if (!h)
			return FUSE_BPF_REQ_SEND;
	}
	/* Take it out of the map while it is used, put it back after. */
	fb = bpf_kptr_xchg(&h->fb, NULL);
	if (!fb) {
		fb = bpf_fuse_backing_acquire(req, file_backing);
		if (!fb)
			return FUSE_BPF_REQ_SEND;
		acquired++;
	}
	ret = reply_attr(req, fb);
	old = bpf_kptr_xchg(&h->fb, fb);
	if (old)
		bpf_fuse_backing_release(old);
	return ret;
}

static __always_inline int open_beneath(struct fuse_bpf_request *req,
					const char *path, __u32 len)
{
	struct fuse_backing *dir, *fb;
	struct fuse_entry_out e = {};
	struct bpf_dynptr ptr;
	int err;

	dir = bpf_fuse_backing_acquire(req, dir_backing);
	if (!dir)
		return FUSE_BPF_REQ_SEND;
	fb = bpf_fuse_backing_open(req, dir, path, len, O_RDONLY);
	bpf_fuse_backing_release(dir);
	if (!fb)
		return -ENOENT;
	err = bpf_fuse_backing_getattr(req, fb, &e.attr, sizeof(e.attr));
	bpf_fuse_backing_release(fb);
	if (err)
		return err;
	e.nodeid = inner_nodeid;
	/* The attributes hold: a GETATTR would ask the server of its node. */
	e.attr_valid = 3600;
	e.generation = 1;
	if (bpf_fuse_req_out_dynptr(req, 0, sizeof(e), &ptr) ||
	    bpf_dynptr_write(&ptr, 0, &e, sizeof(e), 0))
		return FUSE_BPF_REQ_SEND;
	served++;
	return FUSE_BPF_REQ_REPLIED;
}

/* Answer a LOOKUP as a server would: the entry, and the fuse-bpf part. */
static __always_inline int pick_backing(struct fuse_bpf_request *req,
					const struct pick *p)
{
	struct fuse_bpf_entry_out ext = {
		.entry_type = FUSE_BPF_ENTRY_BACKING,
		.backing_id = p->upper ?: p->lower,
	};
	struct fuse_entry_out e = {};
	struct fuse_backing *fb;
	struct bpf_dynptr ptr;
	int err;

	fb = bpf_fuse_backing_acquire(req, ext.backing_id);
	if (!fb)
		return FUSE_BPF_REQ_SEND;
	err = bpf_fuse_backing_getattr(req, fb, &e.attr, sizeof(e.attr));
	bpf_fuse_backing_release(fb);
	if (err)
		return err;
	e.nodeid = p->nodeid;
	e.generation = 1;
	if (req->out_numargs != 2 ||
	    bpf_fuse_req_out_dynptr(req, 0, sizeof(e), &ptr) ||
	    bpf_dynptr_write(&ptr, 0, &e, sizeof(e), 0) ||
	    bpf_fuse_req_out_dynptr(req, 1, sizeof(ext), &ptr) ||
	    bpf_dynptr_write(&ptr, 0, &ext, sizeof(ext), 0))
		return FUSE_BPF_REQ_SEND;
	if (p->upper)
		picked_upper++;
	else
		picked_lower++;
	served++;
	return FUSE_BPF_REQ_REPLIED;
}

static __always_inline int serve_lookup(struct fuse_bpf_request *req)
{
	struct req_entry_key key = { .parent = req->nodeid };
	__u32 len = req->in_size[0];
	struct bpf_dynptr in;
	struct beneath *b;
	struct pick *p;

	if (req->nodeid != 1 || len > sizeof(key.name))
		return FUSE_BPF_REQ_SEND;
	if (bpf_fuse_req_in_dynptr(req, 0, &in) ||
	    bpf_dynptr_read(key.name, len, &in, 0, 0))
		return FUSE_BPF_REQ_SEND;
	p = bpf_map_lookup_elem(&picks, &key);
	if (p)
		return pick_backing(req, p);
	b = bpf_map_lookup_elem(&beneath, &key);
	if (b)
		return open_beneath(req, b->path, sizeof(b->path));
	return FUSE_BPF_REQ_SEND;
}

SEC("struct_ops.s/backing_request")
int BPF_PROG(backing_request, struct fuse_bpf_request *req)
{
	if (req->opcode == FUSE_GETATTR)
		return serve_getattr(req);
	if (req->opcode == FUSE_LOOKUP)
		return serve_lookup(req);
	return FUSE_BPF_REQ_SEND;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops backing = {
	.request = (void *)backing_request,
};

char _license[] SEC("license") = "GPL";
