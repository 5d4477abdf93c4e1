/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For tests of programs the verifier must refuse: collect libbpf's output
 * (the verifier log included) and look for the reason in it.
 */
#ifndef __VERIFIER_LOG_H
#define __VERIFIER_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/param.h>

#include <bpf/libbpf.h>

static char verifier_log[65536];
static size_t verifier_log_len;

static int collect_log(enum libbpf_print_level level, const char *fmt,
		       va_list args)
{
	int n = vsnprintf(verifier_log + verifier_log_len,
			  sizeof(verifier_log) - verifier_log_len, fmt, args);

	if (n > 0)
		verifier_log_len = MIN(verifier_log_len + n,
				       sizeof(verifier_log) - 1);
	return 0;
}

#define ASSERT_REFUSED(skel, why) do {					\
	struct skel *__s;						\
	bool __loaded;							\
									\
	verifier_log_len = 0;						\
	verifier_log[0] = '\0';						\
	__s = skel##__open_and_load();					\
	__loaded = __s != NULL;						\
	skel##__destroy(__s);						\
	ASSERT_FALSE(__loaded) TH_LOG(#skel " loaded");			\
	ASSERT_NE(NULL, strstr(verifier_log, why))			\
		TH_LOG(#skel ": no \"%s\" in:\n%s", why, verifier_log);	\
} while (0)

#endif
