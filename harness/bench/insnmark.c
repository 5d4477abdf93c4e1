// SPDX-License-Identifier: GPL-2.0
/*
 * insnmark: brackets a region of a guest for the insnprof QEMU plugin
 * (insnprof.c) with marks, the no-op "nopl 0x4e534e49(%rax)".
 *
 *   insnmark run COMMAND [ARG...]
 *	Runs COMMAND with FSBENCH_STOP=1 in its environment and waits for
 *	it to stop itself (fsbench does, between its preparation and its
 *	timed loop); then marks, continues it, waits for its exit and
 *	marks again. The region holds the timed loop, the command's exit
 *	and this process waking up.
 *   insnmark loop N
 *	Marks, runs a loop of N iterations of two instructions (dec, jnz)
 *	and marks again: the plugin should count 2 * N user instructions
 *	and a few more.
 *
 * Prints "insnmark ns NS" on standard error: the guest's CLOCK_MONOTONIC
 * between the two marks, which under QEMU's instruction counting
 * (vm.sh --accel icount) is the number of instructions the vCPUs
 * executed (plus the time all of them were idle).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void mark(void)
{
	asm volatile(".byte 0x0f, 0x1f, 0x80, 0x49, 0x4e, 0x53, 0x4e" ::: "memory");
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long long t0, t1;
	int status;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "loop")) {
		unsigned long n = strtoul(argv[2], NULL, 0);

		if (!n)
			return 2;
		t0 = now_ns();
		mark();
		asm volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
		mark();
		t1 = now_ns();
	} else if (argc >= 3 && !strcmp(argv[1], "run")) {
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid) {
			setenv("FSBENCH_STOP", "1", 1);
			execvp(argv[2], argv + 2);
			perror(argv[2]);
			_exit(127);
		}
		if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
			fprintf(stderr, "insnmark: %s did not stop itself\n", argv[2]);
			return 1;
		}
		t0 = now_ns();
		mark();
		kill(pid, SIGCONT);
		if (waitpid(pid, &status, 0) != pid)
			return 1;
		mark();
		t1 = now_ns();
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "insnmark: %s failed\n", argv[2]);
			return 1;
		}
	} else {
		fprintf(stderr, "usage: insnmark run COMMAND [ARG...] | insnmark loop N\n");
		return 2;
	}
	fprintf(stderr, "insnmark ns %lld\n", t1 - t0);
	return 0;
}
