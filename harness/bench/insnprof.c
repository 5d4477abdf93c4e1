// SPDX-License-Identifier: GPL-2.0
/*
 * insnprof: a QEMU TCG plugin counting the guest instructions executed
 * per kernel code address, for exact per-function instruction profiles
 * of a bracketed region (see harness/insnprof.sh).
 *
 *   qemu-system-x86_64 ... -plugin insnprof.so,out=FILE[,mark=ADDR]
 *
 * Each translation block (TB) gets an inline counter that adds the
 * block's instruction count each time the block starts: blocks starting
 * at a kernel address (the upper half) add to a counter kept per start
 * address, in a table that survives retranslation and TB flushes;
 * blocks in user space add to one counter. A block ends at a branch,
 * call or return, so the address a block starts at tells the function
 * its instructions belong to (a block that falls through into the next
 * symbol, as padding does into its function, counts whole to the first).
 *
 * A mark is the execution of the instruction "nopl 0x4e534e49(%rax)"
 * (bytes 0f 1f 80 49 4e 53 4e, "INSN": a no-op wherever it runs; see
 * insnmark.c), or of the instruction at guest address ADDR when mark= is
 * given. At each mark the plugin appends to FILE what ran since the
 * previous mark:
 *
 *   mark INDEX
 *   user INSTRUCTIONS
 *   kernel INSTRUCTIONS
 *   ADDRESS INSTRUCTIONS       (hex address of a block start, one a line)
 *   end INDEX
 *
 * The counters are plain 64-bit adds: exact with one TCG thread (vm.sh
 * --accel icount runs thread=single), racy under multi-threaded TCG.
 *
 * qemu-plugin.h is not packaged by Debian 12, so the few parts of the
 * QEMU 7.2 plugin API (version 1) this uses are declared here.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- QEMU 7.2 plugin API (include/qemu/qemu-plugin.h) --- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;
/* --- end of the API --- */

#define KERNEL_START	0xffff800000000000ULL
#define CHUNK		4096

static const unsigned char magic[] = { 0x0f, 0x1f, 0x80, 'I', 'N', 'S', 'N' };

struct counter {
	uint64_t vaddr;
	uint64_t insns;		/* added to by the inline ops */
	uint64_t dumped;	/* insns at the last mark */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* open addressing on vaddr; counters never move once made */
static struct counter **table;
static size_t table_size, table_used;
static struct counter *chunk;
static size_t chunk_used = CHUNK;
/* every counter, in the order made, for the dumps */
static struct counter **all;
static size_t all_size, all_used;

static uint64_t user_insns, user_dumped;
static uint64_t mark_addr;
static long marks;
static FILE *out;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		qemu_plugin_outs("insnprof: out of memory\n");
		abort();
	}
	return p;
}

static size_t slot(uint64_t vaddr, size_t size)
{
	/* Fibonacci hashing: block starts are often aligned */
	return (vaddr * 0x9e3779b97f4a7c15ULL) >> 20 & (size - 1);
}

static void grow(void)
{
	size_t size = table_size ? table_size * 2 : 1 << 16;
	struct counter **t = calloc(size, sizeof(*t));
	size_t i, j;

	if (!t) {
		qemu_plugin_outs("insnprof: out of memory\n");
		abort();
	}
	for (i = 0; i < table_size; i++) {
		if (!table[i])
			continue;
		for (j = slot(table[i]->vaddr, size); t[j]; j = (j + 1) & (size - 1))
			;
		t[j] = table[i];
	}
	free(table);
	table = t;
	table_size = size;
}

/* The counter of the blocks starting at vaddr, made on first use. */
static struct counter *counter_of(uint64_t vaddr)
{
	struct counter *c;
	size_t i;

	if (2 * (table_used + 1) > table_size)
		grow();
	for (i = slot(vaddr, table_size); table[i]; i = (i + 1) & (table_size - 1))
		if (table[i]->vaddr == vaddr)
			return table[i];
	if (chunk_used == CHUNK) {
		chunk = calloc(CHUNK, sizeof(*chunk));
		if (!chunk) {
			qemu_plugin_outs("insnprof: out of memory\n");
			abort();
		}
		chunk_used = 0;
	}
	c = &chunk[chunk_used++];
	c->vaddr = vaddr;
	table[i] = c;
	table_used++;
	if (all_used == all_size) {
		all_size = all_size ? all_size * 2 : 1 << 16;
		all = xrealloc(all, all_size * sizeof(*all));
	}
	all[all_used++] = c;
	return c;
}

/* Append what ran since the last mark to the output file. */
static void dump(unsigned int vcpu_index, void *userdata)
{
	uint64_t kernel = 0, d;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < all_used; i++)
		kernel += all[i]->insns - all[i]->dumped;
	fprintf(out, "mark %ld\nuser %" PRIu64 "\nkernel %" PRIu64 "\n",
		marks, user_insns - user_dumped, kernel);
	user_dumped = user_insns;
	for (i = 0; i < all_used; i++) {
		d = all[i]->insns - all[i]->dumped;
		if (!d)
			continue;
		fprintf(out, "%" PRIx64 " %" PRIu64 "\n", all[i]->vaddr, d);
		all[i]->dumped = all[i]->insns;
	}
	fprintf(out, "end %ld\n", marks);
	fflush(out);
	marks++;
	pthread_mutex_unlock(&lock);
}

static int is_mark(struct qemu_plugin_insn *insn)
{
	if (mark_addr)
		return qemu_plugin_insn_vaddr(insn) == mark_addr;
	return qemu_plugin_insn_size(insn) == sizeof(magic) &&
	       !memcmp(qemu_plugin_insn_data(insn), magic, sizeof(magic));
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	uint64_t *insns = &user_insns;

	if (vaddr >= KERNEL_START) {
		pthread_mutex_lock(&lock);
		insns = &counter_of(vaddr)->insns;
		pthread_mutex_unlock(&lock);
	}
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 insns, n);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (is_mark(insn))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, dump,
							       QEMU_PLUGIN_CB_NO_REGS,
							       NULL);
	}
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "insnprof: %ld marks, %zu kernel blocks\n",
		 marks, all_used);
	qemu_plugin_outs(msg);
	fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *path = NULL;
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			path = argv[i] + 4;
		} else if (!strncmp(argv[i], "mark=", 5)) {
			mark_addr = strtoull(argv[i] + 5, NULL, 16);
		} else {
			fprintf(stderr, "insnprof: unknown argument %s\n", argv[i]);
			return -1;
		}
	}
	if (!path) {
		fprintf(stderr, "insnprof: needs out=FILE\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
