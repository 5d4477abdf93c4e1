// SPDX-License-Identifier: GPL-2.0
/*
 * fsfuzz: the differential fuzzer of fuse-bpf. A fuse-bpf mount without
 * a daemon (allow_other, optionally with BPF filters that pass every
 * operation through, optionally with the opt-in cache, --cache) and a
 * bare tmpfs twin start alike; P processes, each with its own uid and
 * gid, run T threads each, and every thread (a
 * "worker") runs its own seeded sequence of operations (fs_diff.c, the
 * extended set: fifos, copy_file_range, mmap writes, chown, utimes, locks)
 * on the mount, then the same on the twin, comparing results, errnos and
 * returned data after every operation. Then a readdir-while-renaming
 * phase, and the final trees are compared: the mount with the twin, and
 * the backing tree with the twin.
 *
 * Determinism with concurrency: each worker owns a directory "wN" of the
 * trees (owned by its uid) and runs there under the shared side of a
 * process-shared rwlock, A then B per operation, so that operations of
 * different workers commute. About one operation in 25 reaches out of it,
 * into the sticky directory "shared" (mode 1777, all uids creating,
 * renaming and unlinking there) or into another worker's directory: those
 * take the lock exclusively, as do operations on inodes with several
 * links (see lock_for()). So both trees see the same history, whatever
 * the interleaving; each worker's sequence depends on the seed alone.
 *
 * On a divergence: the seed, worker and op number are printed, the
 * worker's sequence up to it is replayed alone (one thread, fresh trees,
 * the same uid) and shrunk by delta debugging within a time bound, and
 * the minimal sequence is printed with both sides' results and the
 * command that replays it (--worker W --ops N).
 *
 * Usage: fsfuzz [--seed S] [--ops N] [--uids 0,1001,...] [--threads T]
 *	  [--filter none|pass|post] [--cache MS] [--rdr RENAMES] [--worker W]
 *	  [--inject result|tree|mode:W:OP] [--shrink-secs S] [-v]
 * Exit: 0 no divergence, 1 divergences, 2 the fuzzer could not run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "conn_fd.h"
#include "fs_diff.h"
#include "fuzz_pass.skel.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define MAX_UIDS	8
#define MAX_THREADS	8
#define MAX_WORKERS	(MAX_UIDS * MAX_THREADS)
#define RDR_STABLE	40	/* names a listing must show exactly once */
#define RDR_MOVING	8	/* names renamed around meanwhile */
#define RDR_GENS	4	/* names each moving entry takes in turn */

enum filter_mode { FILTER_NONE, FILTER_PASS, FILTER_POST };

static const char * const filter_names[] = { "none", "pass", "post" };

static struct {
	unsigned int seed;
	long long ops;
	int nr_uids;
	unsigned int uids[MAX_UIDS];
	int threads;
	enum filter_mode filter;
	int rdr;
	int worker;		/* replay this worker alone, or -1 */
	enum fsd_inject inject;
	int inject_worker;
	int inject_op;
	int shrink_secs;
	int cache_ms;		/* backing_timeout=, 0 for none */
	bool verbose;
} cfg = {
	.seed = 1,
	.ops = 20000,
	.nr_uids = 4,
	.uids = { 0, 1001, 1002, 1003 },
	.threads = 2,
	.rdr = 2000,
	.worker = -1,
	.shrink_secs = 120,
};

static char base[64], back[96], mnt[96], twin[96];
static const char *cross[FSD_MAX_CROSS];
static int nr_cross;

/* What the processes share. */
struct shared {
	pthread_rwlock_t lock;
	int stop;		/* __atomic */
	int first_worker;	/* first divergence seen, or -1 */
	int first_op;
	char first_msg[FSD_MSG_LEN];
	struct fsd_report rep[MAX_WORKERS];
};

static struct shared *shm;

static int nr_workers(void)
{
	return cfg.nr_uids * cfg.threads;
}

static unsigned int worker_uid(int w)
{
	return cfg.uids[w / cfg.threads];
}

/* Worker @w's seed: splitmix64 of the run's seed and @w. */
static unsigned int worker_seed(int w)
{
	unsigned long long z = cfg.seed * 0x100000001ULL + w +
			       0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned int)(z ^ (z >> 31));
}

static long long worker_ops(int w)
{
	long long n = cfg.ops / nr_workers();

	return n + (w < cfg.ops % nr_workers());
}

static void worker_opts(int w, struct fsd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = worker_seed(w);
	o->ext = true;
	o->uid = worker_uid(w);
	o->gid = worker_uid(w);
	o->nr_cross = nr_cross;
	memcpy(o->cross, cross, sizeof(cross));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "fsfuzz: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, ": %s\n", strerror(errno));
	exit(2);
}

static int take_ids(unsigned int id)
{
	gid_t gid = id;

	if (setgroups(1, &gid) || setresgid(id, id, id) ||
	    setresuid(id, id, id))
		return -1;
	umask(022);
	return 0;
}

/* ---- the trees ---- */

static void path_of(char *out, const char *root, const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", root, rel);
}

/* wN (owned by its uid) and "shared" (1777) in @root, and nothing else. */
static int layout(const char *root)
{
	char p[PATH_MAX], name[16];
	int w;

	if (fsd_rm_rf(root, true))
		return -1;
	for (w = 0; w < nr_workers(); w++) {
		snprintf(name, sizeof(name), "w%d", w);
		path_of(p, root, name);
		if (mkdir(p, 0755) || chown(p, worker_uid(w), worker_uid(w)))
			return -1;
	}
	path_of(p, root, "shared");
	if (mkdir(p, 0755) || chmod(p, 01777))
		return -1;
	return 0;
}

static int layouts(void)
{
	return layout(mnt) || layout(twin) ? -1 : 0;
}

static struct fuzz_pass *skel;
static struct bpf_link *links[2];

static void bind_map(struct bpf_map *map)
{
	/* both filter types lay out these members after the callbacks */
	struct fuzz_pass__pass__fuse_bpf_prefilters *v;

	v = bpf_map__initial_value(map, NULL);
	v->fuse_fd = CONN_FD;
	v->ops_id = 1;
}

static void attach_filters(void)
{
	skel = fuzz_pass__open();
	if (!skel)
		die("%s", "cannot open progs/fuzz_pass.bpf.o");
	skel->rodata->post_mode = cfg.filter == FILTER_POST;
	bind_map(skel->maps.pass);
	bind_map(skel->maps.pass_post);
	if (fuzz_pass__load(skel))
		die("%s", "cannot load progs/fuzz_pass.bpf.o");
	links[0] = conn_attach_mnt(mnt, skel->maps.pass);
	links[1] = conn_attach_mnt(mnt, skel->maps.pass_post);
	if (!links[0] || !links[1])
		die("%s", "attaching the filters");
}

/*
 * In a mount namespace of our own: a tmpfs holding the backing tmpfs,
 * the twin tmpfs (both root's, 0755, as alike as two tmpfs can be) and
 * the fuse-bpf mount of the backing one, allow_other for the other uids.
 */
static void setup(void)
{
	char opts[128];
	int fd, w;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("%s", "private mounts");
	snprintf(base, sizeof(base), "/tmp/fsfuzz.XXXXXX");
	if (!mkdtemp(base))
		die("%s", base);
	if (mount("fsfuzz", base, "tmpfs", 0, "size=16m,mode=0755"))
		die("%s", base);
	snprintf(back, sizeof(back), "%s/back", base);
	snprintf(twin, sizeof(twin), "%s/twin", base);
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	if (mkdir(back, 0755) || mkdir(twin, 0755) || mkdir(mnt, 0755))
		die("%s", base);
	if (mount("fsfuzz_back", back, "tmpfs", 0, "size=1g,mode=0755") ||
	    mount("fsfuzz_twin", twin, "tmpfs", 0, "size=1g,mode=0755"))
		die("%s", "tmpfs");
	fd = open(back, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("%s", back);
	snprintf(opts, sizeof(opts), "no_daemon,allow_other,root_dir=%d%s", fd,
		 cfg.filter != FILTER_NONE ? ",ops=1" : "");
	/*
	 * With the opt-in cache every change still goes through the mount,
	 * so that nothing may differ from the twin.
	 */
	if (cfg.cache_ms)
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 ",backing_timeout=%d", cfg.cache_ms);
	if (mount("fsfuzz", mnt, "fuse", 0, opts))
		die("mount %s", opts);
	close(fd);
	if (cfg.filter != FILTER_NONE)
		attach_filters();

	/*
	 * Half of the operations that reach out go to the shared directory,
	 * the others into the workers' directories (where they mostly meet
	 * another uid's permissions).
	 */
	for (w = 0; w < nr_workers() && nr_cross < FSD_MAX_CROSS / 2; w++) {
		char *name = malloc(16);

		snprintf(name, 16, "w%d", w);
		cross[nr_cross++] = name;
	}
	for (w = nr_cross; w > 0; w--)
		cross[nr_cross++] = "shared";
	if (layouts())
		die("%s", "laying out the trees");
}

static void teardown(void)
{
	int i;

	for (i = 0; i < 2; i++)
		bpf_link__destroy(links[i]);
	umount2(mnt, MNT_DETACH);
	umount2(base, MNT_DETACH);
	rmdir(base);
}

/* ---- the concurrent run ---- */

static void note_divergence(int w, int nr)
{
	const struct fsd_report *rep = &shm->rep[w];

	if (__sync_bool_compare_and_swap(&shm->first_worker, -1, w)) {
		shm->first_op = nr;
		snprintf(shm->first_msg, sizeof(shm->first_msg), "%s",
			 rep->nr_msgs ? rep->msgs[0] : "?");
	}
	__atomic_store_n(&shm->stop, 1, __ATOMIC_RELAXED);
}

/* @rel in @dir is, or leads to, a non-directory with other hard links. */
static bool linked(const char *dir, const char *rel)
{
	char p[PATH_MAX + FSD_REL_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return (!lstat(p, &st) && !S_ISDIR(st.st_mode) && st.st_nlink > 1) ||
	       (!stat(p, &st) && !S_ISDIR(st.st_mode) && st.st_nlink > 1);
}

/*
 * Take the lock for @d: exclusive for an operation that reaches out of
 * the worker's directory, or one on an inode with several hard links,
 * which other workers may hold too (a link made into "shared" and linked
 * on into another worker's directory): only one such operation at a
 * time, so that no other worker changes the inode between sides A and B.
 * An inode with one link is in one directory, and nothing gives it a
 * link elsewhere while the lock is held shared. Looked up on the twin (B)
 * not to add lookups to the mount under test.
 */
static void lock_for(const char *dir_b, const struct fsd_opdesc *d)
{
	if (d->cross) {
		pthread_rwlock_wrlock(&shm->lock);
		return;
	}
	pthread_rwlock_rdlock(&shm->lock);
	if (linked(dir_b, d->path) || (d->path2[0] && linked(dir_b, d->path2))) {
		pthread_rwlock_unlock(&shm->lock);
		pthread_rwlock_wrlock(&shm->lock);
	}
}

static void *worker(void *arg)
{
	int w = (long)arg;
	char dir_a[PATH_MAX], dir_b[PATH_MAX], name[16];
	struct fsd_report *rep = &shm->rep[w];
	struct fsd_opdesc d;
	struct fsd_opts o;
	struct fsd_gen *g;
	long long nr, n = worker_ops(w);
	enum fsd_inject inject;

	worker_opts(w, &o);
	/* -v: worker 0 logs every operation */
	if (cfg.verbose && !w)
		o.log = stdout;
	g = fsd_gen_new(&o);
	if (!g)
		return (void *)1L;
	rep->seed = o.seed;
	snprintf(name, sizeof(name), "w%d", w);
	path_of(dir_a, mnt, name);
	path_of(dir_b, twin, name);
	for (nr = 1; nr <= n && !__atomic_load_n(&shm->stop, __ATOMIC_RELAXED);
	     nr++) {
		fsd_gen_next(g, &d);
		inject = cfg.inject && w == cfg.inject_worker &&
			 nr == cfg.inject_op ? cfg.inject : FSD_INJECT_NONE;
		lock_for(dir_b, &d);
		if (fsd_apply_op(g, dir_a, dir_b, &d, nr, inject, rep, NULL,
				 NULL))
			note_divergence(w, nr);
		pthread_rwlock_unlock(&shm->lock);
	}
	fsd_gen_free(g);
	return NULL;
}

static int run_process(int p)
{
	pthread_t th[MAX_THREADS];
	int t, ret = 0;
	void *res;

	if (take_ids(cfg.uids[p])) {
		perror("fsfuzz: taking the ids");
		return 2;
	}
	for (t = 0; t < cfg.threads; t++)
		if (pthread_create(&th[t], NULL, worker,
				   (void *)(long)(p * cfg.threads + t)))
			return 2;
	for (t = 0; t < cfg.threads; t++) {
		pthread_join(th[t], &res);
		if (res)
			ret = 2;
	}
	return ret;
}

static int run_all(void)
{
	pid_t pids[MAX_UIDS];
	int p, status, ret = 0;

	for (p = 0; p < cfg.nr_uids; p++) {
		pids[p] = fork();
		if (pids[p] < 0)
			die("%s", "fork");
		if (!pids[p])
			_exit(run_process(p));
	}
	for (p = 0; p < cfg.nr_uids; p++) {
		if (waitpid(pids[p], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "fsfuzz: process %d (uid %u) failed (status 0x%x)\n",
				p, cfg.uids[p], status);
			ret = 2;
		}
	}
	return ret;
}

/* ---- readdir while renaming ---- */

struct rdr {
	char dir[PATH_MAX];
	bool done;		/* __atomic */
	int renames;
	int rename_errors;
	int listings;
	int violations;
	char first[256];
};

static void rdr_violation(struct rdr *r, const char *fmt, const char *name)
{
	if (!r->violations++)
		snprintf(r->first, sizeof(r->first), fmt, name);
}

static void *rdr_renamer(void *arg)
{
	struct rdr *r = arg;
	char from[PATH_MAX + 32], to[PATH_MAX + 32];
	int gen[RDR_MOVING] = { 0 };
	int k, i;

	for (k = 0; k < cfg.rdr; k++) {
		i = k % RDR_MOVING;
		snprintf(from, sizeof(from), "%s/m%d_%d", r->dir, i, gen[i]);
		gen[i] = (gen[i] + 1) % RDR_GENS;
		snprintf(to, sizeof(to), "%s/m%d_%d", r->dir, i, gen[i]);
		if (rename(from, to))
			r->rename_errors++;
		r->renames++;
	}
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

struct rdr_dirent {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * One listing with a small getdents64 buffer (many calls, so that renames
 * land between them). What POSIX promises while entries are renamed: no
 * error, every entry not touched exactly once, and no name that never
 * existed; a renamed entry may show under either name, both or neither.
 */
static void rdr_list(struct rdr *r)
{
	unsigned long long words[32];	/* 256 bytes */
	char *buf = (char *)words;
	int seen[RDR_STABLE] = { 0 }, dots = 0, i, g, n;
	long len, off;
	char tail;
	int fd;

	fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rdr_violation(r, "open: %s", strerror(errno));
		return;
	}
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(words))) > 0) {
		for (off = 0; off < len; off += ((struct rdr_dirent *)(buf + off))->d_reclen) {
			const char *name = ((struct rdr_dirent *)(buf + off))->d_name;

			if (!strcmp(name, ".") || !strcmp(name, ".."))
				dots++;
			else if (sscanf(name, "s%d%c", &i, &tail) == 1 &&
				 i >= 0 && i < RDR_STABLE)
				seen[i]++;
			else if (sscanf(name, "m%d_%d%c", &i, &g, &tail) != 2 ||
				 i < 0 || i >= RDR_MOVING || g < 0 || g >= RDR_GENS)
				rdr_violation(r, "a name that never existed: %s", name);
		}
	}
	if (len < 0)
		rdr_violation(r, "getdents64: %s", strerror(errno));
	close(fd);
	if (dots != 2)
		rdr_violation(r, "%s", "'.' and '..' not once each");
	for (n = 0; n < RDR_STABLE; n++) {
		if (seen[n] != 1) {
			char name[32];

			snprintf(name, sizeof(name), "s%d seen %d times", n, seen[n]);
			rdr_violation(r, "untouched entry %s", name);
		}
	}
	r->listings++;
}

static int rdr_phase(const char *root, struct rdr *r)
{
	char p[PATH_MAX + 16];
	pthread_t th;
	int i, fd;

	memset(r, 0, sizeof(*r));
	path_of(r->dir, root, "rdr");
	if (mkdir(r->dir, 0755))
		return -1;
	for (i = 0; i < RDR_STABLE + RDR_MOVING; i++) {
		if (i < RDR_STABLE)
			snprintf(p, sizeof(p), "%s/s%d", r->dir, i);
		else
			snprintf(p, sizeof(p), "%s/m%d_0", r->dir, i - RDR_STABLE);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return -1;
		close(fd);
	}
	if (pthread_create(&th, NULL, rdr_renamer, r))
		return -1;
	do {
		rdr_list(r);
	} while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE));
	rdr_list(r);
	pthread_join(th, NULL);
	return 0;
}

/* ---- replaying one worker alone, and shrinking ---- */

struct replay {
	int w;
	struct fsd_opdesc *ops;	/* the worker's first n ops */
	int n;
	int *idx;		/* ops[idx[i]], i < nr: the candidate */
	int nr;
	double deadline;
	int tries;
};

/*
 * Run ops[idx[0..nr)] on fresh trees as the worker, one thread; with
 * @print, each op and both sides' results. Returns the number of
 * divergences, ops and final trees (the mount and the backing tree
 * against the twin), -1 if it could not run.
 */
static int replay_once(struct replay *rp, const int *idx, int nr, bool print)
{
	char dir_a[PATH_MAX], dir_b[PATH_MAX], name[16];
	struct fsd_report *rep = &shm->rep[0];
	int i, status, diffs;
	pid_t pid;

	if (layouts())
		return -1;
	rp->tries++;
	memset(rep, 0, sizeof(*rep));
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		char op[200], ra[64], rb[64];
		struct fsd_opts o;
		struct fsd_gen *g;
		int div;

		if (take_ids(worker_uid(rp->w)))
			_exit(2);
		worker_opts(rp->w, &o);
		g = fsd_gen_new(&o);
		if (!g)
			_exit(2);
		snprintf(name, sizeof(name), "w%d", rp->w);
		path_of(dir_a, mnt, name);
		path_of(dir_b, twin, name);
		for (i = 0; i < nr; i++) {
			const struct fsd_opdesc *d = &rp->ops[idx[i]];
			int orig = idx[i] + 1;

			div = fsd_apply_op(g, dir_a, dir_b, d, orig,
					   cfg.inject && rp->w == cfg.inject_worker &&
					   orig == cfg.inject_op ? cfg.inject :
					   FSD_INJECT_NONE, rep, ra, rb);
			if (print) {
				fsd_op_str(d, op, sizeof(op));
				printf("fsfuzz:   op %d: %s: A %s, B %s%s\n", orig,
				       op, ra, rb, div ? "   <- DIVERGES" : "");
			}
		}
		fsd_gen_free(g);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	fsd_compare_trees(mnt, twin, rep);
	fsd_compare_trees(back, twin, rep);
	diffs = rep->nr_diffs;
	if (print && diffs)
		fsd_print_report(stdout, rep);
	return diffs;
}

/*
 * Delta debugging (ddmin): drop chunks of the sequence while it still
 * diverges, halving the chunks when none can go, until single ops cannot
 * go or the time bound is reached.
 */
static void shrink(struct replay *rp)
{
	int *cand = malloc(sizeof(int) * rp->nr);
	int gran = 2, chunk, start, i, k, ret;
	bool reduced;

	while (rp->nr >= 2 && now() < rp->deadline) {
		chunk = (rp->nr + gran - 1) / gran;
		reduced = false;
		for (start = 0; start < rp->nr && now() < rp->deadline;
		     start += chunk) {
			for (i = 0, k = 0; i < rp->nr; i++)
				if (i < start || i >= start + chunk)
					cand[k++] = rp->idx[i];
			ret = replay_once(rp, cand, k, false);
			if (ret > 0) {
				memcpy(rp->idx, cand, sizeof(int) * k);
				rp->nr = k;
				gran = gran > 2 ? gran - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (gran >= rp->nr)
				break;
			gran = gran * 2 < rp->nr ? gran * 2 : rp->nr;
		}
	}
	free(cand);
}

static void print_replay_cmd(int w, int n)
{
	int i;

	printf("fsfuzz: replay: fsfuzz --seed %u --uids ", cfg.seed);
	for (i = 0; i < cfg.nr_uids; i++)
		printf("%s%u", i ? "," : "", cfg.uids[i]);
	printf(" --threads %d --filter %s", cfg.threads, filter_names[cfg.filter]);
	if (cfg.cache_ms)
		printf(" --cache %d", cfg.cache_ms);
	printf(" --worker %d --ops %d", w, n);
	if (cfg.inject)
		printf(" --inject %s:%d:%d",
		       cfg.inject == FSD_INJECT_RESULT ? "result" :
		       cfg.inject == FSD_INJECT_TREE ? "tree" : "mode",
		       cfg.inject_worker, cfg.inject_op);
	printf("\n");
}

/* Replay worker @w's first @n ops alone, shrink, print. */
static int replay_worker(int w, int n)
{
	struct replay rp = { .w = w, .n = n, .nr = n };
	struct fsd_opts o;
	struct fsd_gen *g;
	double t0 = now();
	int i, ret;

	rp.ops = calloc(n, sizeof(*rp.ops));
	rp.idx = calloc(n, sizeof(int));
	worker_opts(w, &o);
	g = fsd_gen_new(&o);
	if (!rp.ops || !rp.idx || !g)
		return -1;
	for (i = 0; i < n; i++) {
		fsd_gen_next(g, &rp.ops[i]);
		rp.idx[i] = i;
	}
	fsd_gen_free(g);

	printf("fsfuzz: replaying worker %d (uid %u, seed %u) alone: %d ops\n",
	       w, worker_uid(w), o.seed, n);
	fflush(stdout);
	ret = replay_once(&rp, rp.idx, rp.nr, cfg.verbose);
	if (ret < 0) {
		printf("fsfuzz: the replay could not run\n");
		return -1;
	}
	if (!ret) {
		printf("fsfuzz: worker %d's %d ops alone do not diverge: the divergence needs the other workers (or is not repeatable)\n",
		       w, n);
		return 0;
	}
	printf("fsfuzz: it diverges alone (%d divergences); shrinking (at most %d s)\n",
	       ret, cfg.shrink_secs);
	fflush(stdout);
	rp.deadline = t0 + cfg.shrink_secs;
	shrink(&rp);
	printf("fsfuzz: minimal sequence: %d of %d ops (%d replays, %.1f s%s); worker %d, uid %u:\n",
	       rp.nr, n, rp.tries, now() - t0,
	       now() >= rp.deadline ? ", time bound reached" : "", w,
	       worker_uid(w));
	ret = replay_once(&rp, rp.idx, rp.nr, true);
	printf("fsfuzz: the minimal sequence %s (%d divergences)\n",
	       ret > 0 ? "diverges" : "DOES NOT diverge on its last replay", ret);
	print_replay_cmd(w, n);
	free(rp.ops);
	free(rp.idx);
	return ret;
}

/* ---- summary ---- */

static void print_summary(double secs, const struct rdr *rdr, int tree_diffs)
{
	struct fsd_report total = { 0 };
	int w, op, i;

	for (w = 0; w < nr_workers(); w++) {
		const struct fsd_report *r = &shm->rep[w];

		total.nr_ops += r->nr_ops;
		total.nr_ok += r->nr_ok;
		total.nr_failed += r->nr_failed;
		total.nr_diffs += r->nr_diffs;
		for (op = 0; op < FSD_OP_NR; op++) {
			total.op[op].run += r->op[op].run;
			total.op[op].ok += r->op[op].ok;
		}
		for (i = 0; i < FSD_MAX_ERRNO; i++)
			total.errnos[i] += r->errnos[i];
	}
	printf("fsfuzz: seed %u, %d processes (uids", cfg.seed, cfg.nr_uids);
	for (i = 0; i < cfg.nr_uids; i++)
		printf(" %u", cfg.uids[i]);
	printf(") x %d threads, filter %s, cache %d ms\n", cfg.threads,
	       filter_names[cfg.filter], cfg.cache_ms);
	printf("fsfuzz: ops run %d (succeeded %d, failed %d), divergences %d (ops %d, final trees %d, readdir-while-renaming %d), %.1f s\n",
	       total.nr_ops, total.nr_ok, total.nr_failed,
	       total.nr_diffs + tree_diffs + rdr[0].violations + rdr[1].violations,
	       total.nr_diffs, tree_diffs,
	       rdr[0].violations + rdr[1].violations, secs);
	printf("fsfuzz: per op (succeeded/run):");
	for (op = 0; op < FSD_OP_NR; op++)
		printf("%s %s %d/%d", op % 6 ? "" : "\nfsfuzz:  ",
		       fsd_op_name(op), total.op[op].ok, total.op[op].run);
	printf("\nfsfuzz: failures by errno:");
	for (i = 1; i < FSD_MAX_ERRNO; i++)
		if (total.errnos[i])
			printf(" %s %d", strerrorname_np(i) ?: "?", total.errnos[i]);
	printf("\n");
	for (i = 0; i < 2; i++)
		printf("fsfuzz: readdir while renaming, %s: %d listings, %d renames (%d failed), %d violations%s%s\n",
		       i ? "twin" : "mount", rdr[i].listings, rdr[i].renames,
		       rdr[i].rename_errors, rdr[i].violations,
		       rdr[i].violations ? ": first " : "", rdr[i].first);
	if (skel) {
		unsigned long long pre = 0, post = 0;

		for (i = 0; i < (int)ARRAY_SIZE(skel->bss->pre_calls); i++) {
			pre += skel->bss->pre_calls[i];
			post += skel->bss->post_calls[i];
		}
		printf("fsfuzz: BPF filter calls: %llu prefilter, %llu postfilter\n",
		       pre, post);
	}
}

/*
 * The worker whose directory the first kept divergence between the final
 * trees is in, or -1 (in "shared" or "rdr": no one worker's).
 */
static int first_tree_worker(const struct fsd_report *rep)
{
	int i, w;

	for (i = 0; i < rep->nr_msgs; i++)
		if (sscanf(rep->msgs[i], "tree w%d", &w) == 1 && w >= 0 &&
		    w < nr_workers())
			return w;
	return -1;
}

/* ---- main ---- */

static void print_usage(void)
{
	fprintf(stderr, "usage: fsfuzz [--seed S] [--ops N] [--uids 0,1001,...] [--threads T]\n"
			"              [--filter none|pass|post] [--cache MS] [--rdr RENAMES] [--worker W]\n"
			"              [--inject result|tree|mode:W:OP] [--shrink-secs S] [-v]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	char kind[16], *s, *tok;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-v")) {
			cfg.verbose = true;
			continue;
		}
		if (!v)
			print_usage();
		i++;
		if (!strcmp(a, "--seed")) {
			cfg.seed = strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--ops")) {
			cfg.ops = strtoll(v, NULL, 0);
		} else if (!strcmp(a, "--threads")) {
			cfg.threads = atoi(v);
		} else if (!strcmp(a, "--rdr")) {
			cfg.rdr = atoi(v);
		} else if (!strcmp(a, "--worker")) {
			cfg.worker = atoi(v);
		} else if (!strcmp(a, "--cache")) {
			cfg.cache_ms = atoi(v);
		} else if (!strcmp(a, "--shrink-secs")) {
			cfg.shrink_secs = atoi(v);
		} else if (!strcmp(a, "--filter")) {
			for (cfg.filter = 0; cfg.filter < 3; cfg.filter++)
				if (!strcmp(v, filter_names[cfg.filter]))
					break;
			if (cfg.filter == 3)
				print_usage();
		} else if (!strcmp(a, "--uids")) {
			s = strdup(v);
			cfg.nr_uids = 0;
			for (tok = strtok(s, ","); tok && cfg.nr_uids < MAX_UIDS;
			     tok = strtok(NULL, ","))
				cfg.uids[cfg.nr_uids++] = strtoul(tok, NULL, 0);
		} else if (!strcmp(a, "--inject")) {
			if (sscanf(v, "%15[a-z]:%d:%d", kind, &cfg.inject_worker,
				   &cfg.inject_op) != 3)
				print_usage();
			cfg.inject = !strcmp(kind, "result") ? FSD_INJECT_RESULT :
				     !strcmp(kind, "tree") ? FSD_INJECT_TREE :
				     !strcmp(kind, "mode") ? FSD_INJECT_MODE :
				     FSD_INJECT_NONE;
			if (!cfg.inject)
				print_usage();
		} else {
			print_usage();
		}
	}
	if (cfg.nr_uids < 1 || cfg.threads < 1 || cfg.threads > MAX_THREADS ||
	    cfg.ops < 1 || cfg.worker >= nr_workers())
		print_usage();
}

int main(int argc, char **argv)
{
	pthread_rwlockattr_t attr;
	struct rdr rdr[2] = { 0 };
	int tree_diffs = 0, tree_worker, ret, diffs;
	struct fsd_report *rep;
	double t0;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid()) {
		fprintf(stderr, "fsfuzz: needs root (mounts, and workers of several uids)\n");
		return 2;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		die("%s", "mmap");
	shm->first_worker = -1;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	/* the exclusive operations must not starve */
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&shm->lock, &attr);
	umask(022);
	setup();

	if (cfg.worker >= 0) {
		ret = replay_worker(cfg.worker, cfg.ops);
		teardown();
		return ret ? (ret < 0 ? 2 : 1) : 0;
	}

	printf("fsfuzz: seed %u: %lld ops over %d workers (%d processes x %d threads), filter %s\n",
	       cfg.seed, cfg.ops, nr_workers(), cfg.nr_uids, cfg.threads,
	       filter_names[cfg.filter]);
	t0 = now();
	ret = run_all();
	if (ret) {
		teardown();
		return ret;
	}
	if (cfg.rdr && shm->first_worker < 0) {
		if (rdr_phase(mnt, &rdr[0]) || rdr_phase(twin, &rdr[1])) {
			perror("fsfuzz: readdir while renaming");
			teardown();
			return 2;
		}
	}
	/* the final trees: the mount and the backing tree against the twin */
	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		perror("fsfuzz: calloc");
		teardown();
		return 2;
	}
	ret = fsd_compare_trees(mnt, twin, rep);
	tree_diffs = fsd_compare_trees(back, twin, rep);
	/* -1: the comparison could not run, which must not cancel a diff */
	if (ret < 0 || tree_diffs < 0) {
		perror("fsfuzz: comparing the final trees");
		free(rep);
		teardown();
		return 2;
	}
	tree_diffs += ret;
	print_summary(now() - t0, rdr, tree_diffs);
	if (tree_diffs)
		fsd_print_report(stdout, rep);
	tree_worker = first_tree_worker(rep);
	free(rep);

	diffs = tree_diffs + rdr[0].violations + rdr[1].violations;
	if (shm->first_worker >= 0) {
		int w = shm->first_worker;

		diffs++;
		fsd_print_report(stdout, &shm->rep[w]);
		printf("fsfuzz: DIVERGENCE: seed %u, worker %d (uid %u), op %d: %s\n",
		       cfg.seed, w, worker_uid(w), shm->first_op,
		       shm->first_msg);
		replay_worker(w, shm->first_op);
	} else if (tree_worker >= 0) {
		/* no operation diverged, the trees did: all the worker's ops */
		printf("fsfuzz: DIVERGENCE: seed %u, worker %d (uid %u), in the final trees\n",
		       cfg.seed, tree_worker, worker_uid(tree_worker));
		replay_worker(tree_worker, worker_ops(tree_worker));
	}
	printf("fsfuzz: %s\n", diffs ? "FAIL" : "PASS");
	teardown();
	return diffs ? 1 : 0;
}
