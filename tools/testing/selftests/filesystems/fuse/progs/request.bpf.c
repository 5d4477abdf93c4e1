// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf request programs for request_test.c. Each struct_ops map is
 * one program; a test attaches the one it needs to its connection.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "request.h"

#define EACCES	13
#define ERANGE	34
#define ENODATA	61
#define EROFS	30
#define EIO	5
#define FOPEN_PASSTHROUGH	(1 << 7)	/* linux/fuse.h: a #define, not in BTF */

extern int bpf_fuse_req_in_dynptr(struct fuse_bpf_request *req, __u32 i,
				  struct bpf_dynptr *ptr) __ksym;
extern int bpf_fuse_req_out_dynptr(struct fuse_bpf_request *req, __u32 i,
				   __u64 size, struct bpf_dynptr *ptr) __ksym;

/* Attributes by node id, and entries by (parent, name): the daemon's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, struct fuse_attr_out);
} attrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct req_entry_key);
	__type(value, struct fuse_entry_out);
} entries SEC(".maps");

__u32 served;		/* requests a program answered */
__u32 sent;		/* requests it let through */
__u32 replies;		/* reply callbacks run */
__u64 deny_nodeid;	/* serve: OPEN of it fails with -EACCES */
int bad_ret;		/* serve: STATFS returns a bad value (1, 2, 3) */
int big_out_err;	/* serve: bpf_fuse_req_out_dynptr() past the size */
int small_out_err;	/* serve: a fixed argument's size less one */
int in_err;		/* serve: bpf_fuse_req_in_dynptr() past in_numargs */
__u32 last_uid;		/* the caller of the last GETATTR */
__u32 last_pid;
int reply_error;	/* watch: the server's result last seen */
__u32 reply_size;	/* watch: the size of the server's reply */
__u32 hidden_seen;	/* watch: records of REQ_HIDDEN removed */
__u64 pt_nodeid;	/* serve: OPEN of it is served by passthrough */
__u32 pt_backing;	/* from this backing id */

static __always_inline int reply_with(struct fuse_bpf_request *req,
				      const void *data, __u32 size)
{
	struct bpf_dynptr out;

	if (bpf_fuse_req_out_dynptr(req, 0, size, &out))
		return FUSE_BPF_REQ_SEND;
	if (bpf_dynptr_write(&out, 0, (void *)data, size, 0))
		return FUSE_BPF_REQ_SEND;
	served++;
	return FUSE_BPF_REQ_REPLIED;
}

static __always_inline int serve_getattr(struct fuse_bpf_request *req)
{
	__u64 id = req->nodeid;
	struct fuse_attr_out *a;

	last_uid = req->uid;
	last_pid = req->pid;
	a = bpf_map_lookup_elem(&attrs, &id);
	if (!a)
		return FUSE_BPF_REQ_SEND;
	return reply_with(req, a, sizeof(*a));
}

static __always_inline int serve_lookup(struct fuse_bpf_request *req)
{
	struct req_entry_key key = { .parent = req->nodeid };
	__u32 len = req->in_size[0];
	struct fuse_entry_out *e;
	struct bpf_dynptr in;

	if (len > REQ_NAME_MAX || bpf_fuse_req_in_dynptr(req, 0, &in))
		return FUSE_BPF_REQ_SEND;
	if (bpf_dynptr_read(key.name, len, &in, 0, 0))
		return FUSE_BPF_REQ_SEND;
	e = bpf_map_lookup_elem(&entries, &key);
	if (!e)
		return FUSE_BPF_REQ_SEND;
	return reply_with(req, e, sizeof(*e));
}

/* GETXATTR of REQ_XATTR_NAME: the value, or its size for a size query. */
static __always_inline int serve_getxattr(struct fuse_bpf_request *req)
{
	const char want[] = REQ_XATTR_NAME;
	const char value[] = REQ_XATTR_VALUE;
	char name[sizeof(want)] = {};
	struct fuse_getxattr_out size_out = { .size = sizeof(value) - 1 };
	struct bpf_dynptr in, out;
	int i;

	if (req->in_size[1] != sizeof(want) ||
	    bpf_fuse_req_in_dynptr(req, 1, &in) ||
	    bpf_dynptr_read(name, sizeof(name), &in, 0, 0))
		return FUSE_BPF_REQ_SEND;
	for (i = 0; i < sizeof(want); i++)
		if (name[i] != want[i])
			return FUSE_BPF_REQ_SEND;
	if (req->out_size[0] == sizeof(size_out) && req->opcode == FUSE_GETXATTR &&
	    !bpf_fuse_req_out_dynptr(req, 0, sizeof(size_out), &out)) {
		/* fuse_getxattr_out: the size query (a 0-byte buffer) */
		bpf_dynptr_write(&out, 0, &size_out, sizeof(size_out), 0);
		served++;
		return FUSE_BPF_REQ_REPLIED;
	}
	/* A buffer too small for the value: the kfunc refuses the size. */
	big_out_err = bpf_fuse_req_out_dynptr(req, 0, sizeof(value) - 1, &out);
	if (big_out_err)
		return -ERANGE;
	bpf_dynptr_write(&out, 0, (void *)value, sizeof(value) - 1, 0);
	served++;
	return FUSE_BPF_REQ_REPLIED;
}

/* READLINK: a target of the program's, in the request's page. */
static __always_inline int serve_readlink(struct fuse_bpf_request *req)
{
	const char target[] = REQ_READLINK_TARGET;

	return reply_with(req, target, sizeof(target) - 1);
}

SEC("struct_ops.s/serve_request")
int BPF_PROG(serve_request, struct fuse_bpf_request *req)
{
	struct bpf_dynptr out;

	switch (req->opcode) {
	case FUSE_GETATTR:
		small_out_err = bpf_fuse_req_out_dynptr(req, 0,
			sizeof(struct fuse_attr_out) - 1, &out);
		in_err = bpf_fuse_req_in_dynptr(req, 5, &out);
		return serve_getattr(req);
	case FUSE_LOOKUP:
		return serve_lookup(req);
	case FUSE_OPEN:
		if (deny_nodeid && req->nodeid == deny_nodeid)
			return -EACCES;
		if (pt_nodeid && req->nodeid == pt_nodeid) {
			/* 6.12 passthrough, from a file the server registered */
			struct fuse_open_out o = {
				.open_flags = FOPEN_PASSTHROUGH,
				.backing_id = pt_backing,
			};

			return reply_with(req, &o, sizeof(o));
		}
		break;
	case FUSE_STATFS:
		if (bad_ret == 1)
			return REQ_GARBAGE;
		if (bad_ret == 2)
			return -512;	/* -ERESTARTSYS: not a server's errno */
		if (bad_ret == 3)
			return -529;	/* -EIOCBQUEUED */
		break;
	case FUSE_GETXATTR:
		return serve_getxattr(req);
	case FUSE_READLINK:
		return serve_readlink(req);
	}
	sent++;
	return FUSE_BPF_REQ_SEND;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops serve = {
	.request = (void *)serve_request,
};

/* watch: GETATTR goes to the server; its reply gets another owner. */
SEC("struct_ops/watch_request")
int BPF_PROG(watch_request, struct fuse_bpf_request *req)
{
	if (req->opcode == FUSE_GETATTR || req->opcode == FUSE_OPEN ||
	    req->opcode == FUSE_LOOKUP || req->opcode == FUSE_READDIR)
		return FUSE_BPF_REQ_SEND_WATCH;
	return FUSE_BPF_REQ_SEND;
}

#define DIRENT_HDR	sizeof(struct fuse_dirent)
#define DIRENT_MAX	(DIRENT_HDR + 256)

/*
 * Remove the record named REQ_HIDDEN from the server's listing, in the
 * page of the reply: move the records after it to its place, and give
 * the reply its new size.
 */
static __always_inline int hide_in_listing(struct fuse_bpf_request *req)
{
	const char hidden[] = REQ_HIDDEN;
	__u32 size = req->out_size[0], rd = 0, wr = 0, reclen;
	char rec[DIRENT_MAX];
	struct fuse_dirent *de = (void *)rec;
	struct bpf_dynptr d;
	int i;

	if (req->error || bpf_fuse_req_out_dynptr(req, 0, size, &d))
		return FUSE_BPF_REQ_SEND;
	bpf_for(i, 0, 256) {
		if (rd >= size)
			break;
		if (bpf_dynptr_read(rec, DIRENT_HDR, &d, rd, 0))
			return -EIO;
		reclen = (DIRENT_HDR + de->namelen + 7) & ~7U;
		if (reclen > sizeof(rec) || bpf_dynptr_read(rec, reclen, &d, rd, 0))
			return -EIO;
		rd += reclen;
		if (de->namelen == sizeof(hidden) - 1 &&
		    !__builtin_memcmp(de->name, hidden, sizeof(hidden) - 1)) {
			hidden_seen++;
			continue;
		}
		if (wr != rd - reclen && bpf_dynptr_write(&d, wr, rec, reclen, 0))
			return -EIO;
		wr += reclen;
	}
	/* The last size given is the reply's. */
	if (wr != size && bpf_fuse_req_out_dynptr(req, 0, wr, &d))
		return -EIO;
	return FUSE_BPF_REQ_SEND;
}

SEC("struct_ops/watch_reply")
int BPF_PROG(watch_reply, struct fuse_bpf_request *req)
{
	struct fuse_attr_out attr;
	struct bpf_dynptr out;

	replies++;
	reply_error = req->error;
	reply_size = req->out_size[0];
	if (req->opcode == FUSE_OPEN)
		return req->error ? req->error : -EROFS;
	if (req->opcode == FUSE_LOOKUP)
		return FUSE_BPF_REQ_SEND;
	if (req->opcode == FUSE_READDIR)
		return hide_in_listing(req);
	if (req->error || bpf_fuse_req_out_dynptr(req, 0, sizeof(attr), &out))
		return FUSE_BPF_REQ_SEND;
	if (bpf_dynptr_read(&attr, sizeof(attr), &out, 0, 0))
		return FUSE_BPF_REQ_SEND;
	attr.attr.uid = REQ_WATCH_UID;
	bpf_dynptr_write(&out, 0, &attr, sizeof(attr), 0);
	return FUSE_BPF_REQ_SEND;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops watch = {
	.request = (void *)watch_request,
	.reply = (void *)watch_reply,
};

/* empty: a request program that lets everything through */
SEC("struct_ops/empty_request")
int BPF_PROG(empty_request, struct fuse_bpf_request *req)
{
	return FUSE_BPF_REQ_SEND;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops empty = {
	.request = (void *)empty_request,
};

char _license[] SEC("license") = "GPL";
