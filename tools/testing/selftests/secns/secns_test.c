// SPDX-License-Identifier: GPL-2.0
/*
 * Security namespaces (secns): lsm_set_self_attr(2) and lsm_get_self_attr(2)
 * with LSM_ATTR_UNSHARE_INIT and LSM_ATTR_UNSHARE (SECNS_JOIN included), each
 * error of Documentation/userspace-api/secns.rst, the limits in securityfs,
 * and the namespace as a boundary for ptrace.
 *
 * Needs root (CAP_MAC_ADMIN, CAP_SYS_PTRACE), securityfs on
 * /sys/kernel/security, secns in the active LSMs and a kernel that is not
 * locked down. Each test changes namespaces in a child process of its own,
 * then checks that the count of live namespaces is back to where it was once
 * that child is gone.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/lsm.h>
#include <linux/secns.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

#define SECNS_FS "/sys/kernel/security/secns/"

/* An lsm_ctx with room for a payload, 8-byte aligned. */
union req {
	struct lsm_ctx ctx;
	__u64 words[16];
};

static int set_raw(__u32 attr, const void *ctx, __u32 size, __u32 flags)
{
	return syscall(__NR_lsm_set_self_attr, attr, ctx, size, flags) ? -errno : 0;
}

/* lsm_set_self_attr(attr) addressed to secns with a payload of len bytes. */
static int set_payload(__u32 attr, const void *payload, __u32 len)
{
	union req r = {};

	r.ctx.id = LSM_ID_SECNS;
	r.ctx.len = sizeof(r.ctx) + len;
	r.ctx.ctx_len = len;
	if (len)
		memcpy(r.ctx.ctx, payload, len);
	return set_raw(attr, &r, r.ctx.len, 0);
}

/* A version 0 payload: the flags alone. */
static int set_flags(__u32 attr, __u64 flags)
{
	struct secns_unshare_args args = { .flags = flags };

	return set_payload(attr, &args, SECNS_UNSHARE_ARGS_SIZE_VER0);
}

/* A version 1 payload cut or zero-padded to len bytes (at most 32). */
static int set_args(__u32 attr, __u64 flags, int pidfd, __u32 reserved,
		    __u32 len)
{
	__u64 payload[4] = {};
	struct secns_unshare_args args = {
		.flags = flags,
		.pidfd = pidfd,
		.reserved = reserved,
	};

	memcpy(payload, &args, sizeof(args));
	return set_payload(attr, payload, len);
}

/* SECNS_JOIN: enter the effective namespace of the task of pidfd. */
static int join(int pidfd)
{
	return set_args(LSM_ATTR_UNSHARE, SECNS_JOIN, pidfd, 0,
			SECNS_UNSHARE_ARGS_SIZE_VER1);
}

static int init(void)
{
	return set_payload(LSM_ATTR_UNSHARE_INIT, NULL, 0);
}

static int enter(void)
{
	return set_payload(LSM_ATTR_UNSHARE, NULL, 0);
}

static int drop_pending(void)
{
	return set_flags(LSM_ATTR_UNSHARE_INIT, SECNS_ABORT);
}

/* lsm_get_self_attr(LSM_ATTR_UNSHARE) for secns alone. */
static int get_info(struct secns_info *info)
{
	union req r = {};
	__u32 size = sizeof(r);
	long n;

	r.ctx.id = LSM_ID_SECNS;
	n = syscall(__NR_lsm_get_self_attr, LSM_ATTR_UNSHARE, &r, &size,
		    LSM_FLAG_SINGLE);
	if (n < 0)
		return -errno;
	if (n != 1 || r.ctx.id != LSM_ID_SECNS ||
	    r.ctx.ctx_len < SECNS_INFO_SIZE_VER0)
		return -EIO;
	memcpy(info, r.ctx.ctx, sizeof(*info));
	return 0;
}

static long read_number(const char *name)
{
	char path[128], buf[32] = "";
	long v = -1;
	int fd;

	snprintf(path, sizeof(path), SECNS_FS "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtol(buf, NULL, 10);
	close(fd);
	return v;
}

/* One write(2) of text to a secns file: 0 or -errno. */
static int write_text(const char *name, const char *text)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SECNS_FS "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : 0;
}

static long count(void)
{
	return read_number("count");
}

/*
 * Whether the count is back to base within five seconds: a namespace goes
 * once nothing refers to it (reaped tasks, their credentials freed after an
 * RCU grace period, its free work run).
 */
static bool count_back_to(long base)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 500; i++) {
		if (count() == base)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

/* Whether a CHECK() of this (child) process failed. */
static bool child_failed;

static void check(bool ok, int line, const char *what)
{
	if (!ok) {
		fprintf(stderr, "# line %d: %s (errno %d)\n", line, what, errno);
		child_failed = true;
	}
}

/* In a child: report and remember cond if it is false, and go on. */
#define CHECK(cond) check(cond, __LINE__, #cond)

static void check_rc(int rc, int want, int line, const char *what)
{
	if (rc != want) {
		fprintf(stderr, "# line %d: %s is %d, not %d\n", line, what, rc,
			want);
		child_failed = true;
	}
}

/* In a child: the same for a call that returns 0 or -errno. */
#define CHECK_RC(call, want) check_rc(call, want, __LINE__, #call)

/*
 * Runs fn in a child process, then after (if any), then checks that the
 * child succeeded and that the count is back at its base.
 */
static void run_in_child(struct __test_metadata *_metadata, int (*fn)(void),
			 void (*after)(void))
{
	long base = count();
	int status = -1;
	pid_t pid;

	ASSERT_LE(0, base);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(fn() || child_failed);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (after)
		after();
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_TRUE(count_back_to(base));
}

#define RUN_IN_CHILD(fn) run_in_child(_metadata, fn, NULL)

static int two_phase(void)
{
	struct secns_info i;
	long base = count();
	__u64 pending;

	CHECK(get_info(&i) == 0);
	CHECK(i.id == 0 && i.parent_id == 0 && i.depth == 0 && i.flags == 0);
	CHECK(init() == 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == 0 && i.pending_id > 0 && i.flags == SECNS_INFO_PENDING);
	CHECK(count() == base + 1);
	pending = i.pending_id;
	CHECK(enter() == 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == pending && i.parent_id == 0 && i.depth == 1);
	CHECK(i.pending_id == 0 && i.flags == 0);
	CHECK(count() == base + 1);
	return 0;
}

TEST(init_makes_a_pending_namespace_that_unshare_enters)
{
	RUN_IN_CHILD(two_phase);
}

static int one_shot(void)
{
	struct secns_info a, b;

	CHECK(enter() == 0);
	CHECK(get_info(&a) == 0);
	CHECK(a.depth == 1 && a.id > 0 && a.parent_id == 0);
	CHECK(enter() == 0);
	CHECK(get_info(&b) == 0);
	CHECK(b.depth == 2 && b.parent_id == a.id && b.id > a.id);
	return 0;
}

TEST(unshare_without_pending_creates_and_enters)
{
	RUN_IN_CHILD(one_shot);
}

static int inherited(void)
{
	struct secns_info me, child;
	int fds[2], status;
	pid_t pid;

	CHECK(enter() == 0);
	CHECK(init() == 0);
	CHECK(get_info(&me) == 0);
	CHECK(pipe(fds) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The effective namespace is inherited, the pending one not. */
		_exit(get_info(&child) == 0 &&
		      write(fds[1], &child, sizeof(child)) == sizeof(child) ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);
	CHECK(read(fds[0], &child, sizeof(child)) == sizeof(child));
	CHECK(child.id == me.id && child.depth == 1);
	CHECK(child.pending_id == 0 && child.flags == 0);
	CHECK(me.flags == SECNS_INFO_PENDING);
	return 0;
}

TEST(fork_inherits_the_namespace_but_not_the_pending_one)
{
	RUN_IN_CHILD(inherited);
}

static int exec_drops(void)
{
	struct secns_info i;
	long base = count();

	CHECK(init() == 0);
	CHECK(count() == base + 1);
	CHECK(get_info(&i) == 0 && i.flags == SECNS_INFO_PENDING);
	/* The new program cannot report the checks above: fail here. */
	if (child_failed)
		return 1;
	/* main() below reports what the new program finds. */
	execl("/proc/self/exe", "secns_test", "--pending-after-exec", NULL);
	CHECK(!"execl");
	return 1;
}

TEST(execve_drops_the_pending_namespace)
{
	RUN_IN_CHILD(exec_drops);
}

TEST(a_zombie_keeps_its_pending_namespace_until_it_is_reaped)
{
	const struct timespec settle = { .tv_nsec = 300 * 1000 * 1000 };
	long base = count();
	siginfo_t info = { 0 };
	pid_t pid;

	ASSERT_LE(0, base);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(init() == 0 ? 0 : 1);
	/* Exited, not reaped: WNOWAIT leaves the zombie. */
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
	ASSERT_EQ(CLD_EXITED, info.si_code);
	ASSERT_EQ(0, info.si_status);
	/* Time for anything dropped at exit to be freed: nothing is. */
	nanosleep(&settle, NULL);
	EXPECT_EQ(base + 1, count());
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	EXPECT_TRUE(count_back_to(base));
}

static int second_init(void)
{
	struct secns_info a, b;
	long base;

	CHECK(init() == 0);
	CHECK(get_info(&a) == 0);
	base = count();
	CHECK(init() == -EBUSY);
	CHECK(get_info(&b) == 0);
	CHECK(b.pending_id == a.pending_id);
	CHECK(count() == base);
	return 0;
}

TEST(a_second_init_is_ebusy)
{
	RUN_IN_CHILD(second_init);
}

static int abort_pending(void)
{
	struct secns_info i;

	CHECK(drop_pending() == -ENOENT);
	CHECK(init() == 0);
	CHECK(drop_pending() == 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.pending_id == 0 && i.flags == 0);
	CHECK(drop_pending() == -ENOENT);
	return 0;
}

TEST(secns_abort_drops_the_pending_namespace)
{
	RUN_IN_CHILD(abort_pending);
}

static int unknown_flags(void)
{
	struct secns_info i;
	union req r = {};

	CHECK(set_flags(LSM_ATTR_UNSHARE_INIT, 1ULL << 2) == -EINVAL);
	CHECK(set_flags(LSM_ATTR_UNSHARE_INIT, 1ULL << 63) == -EINVAL);
	CHECK(set_flags(LSM_ATTR_UNSHARE, 1ULL << 2) == -EINVAL);
	/* Each known flag is valid with one attribute only. */
	CHECK(set_flags(LSM_ATTR_UNSHARE, SECNS_ABORT) == -EINVAL);
	CHECK(set_args(LSM_ATTR_UNSHARE_INIT, SECNS_JOIN, -1, 0,
		       SECNS_UNSHARE_ARGS_SIZE_VER1) == -EINVAL);
	/* lsm_ctx.flags are not used. */
	r.ctx.id = LSM_ID_SECNS;
	r.ctx.flags = 1;
	r.ctx.len = sizeof(r.ctx);
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, sizeof(r.ctx), 0) == -EINVAL);
	CHECK(get_info(&i) == 0 && i.flags == 0 && i.depth == 0);
	return 0;
}

TEST(unknown_flags_are_einval)
{
	RUN_IN_CHILD(unknown_flags);
}

static int payload_rules(void)
{
	static const __u32 lens[] = {
		0, SECNS_UNSHARE_ARGS_SIZE_VER0, SECNS_UNSHARE_ARGS_SIZE_VER1, 24,
	};
	__u8 payload[24] = {};
	__u64 abort_flag = SECNS_ABORT;
	struct secns_info i;
	size_t k;

	CHECK(set_payload(LSM_ATTR_UNSHARE_INIT, payload, 4) == -EINVAL);
	/* A non-zero byte beyond version 1. */
	payload[SECNS_UNSHARE_ARGS_SIZE_VER1 + 4] = 1;
	CHECK(set_payload(LSM_ATTR_UNSHARE_INIT, payload, 24) == -E2BIG);
	CHECK(set_payload(LSM_ATTR_UNSHARE, payload, 24) == -E2BIG);
	payload[SECNS_UNSHARE_ARGS_SIZE_VER1 + 4] = 0;
	/* No payload, exactly version 0 or 1, and a longer zero tail. */
	for (k = 0; k < ARRAY_SIZE(lens); k++) {
		CHECK_RC(set_payload(LSM_ATTR_UNSHARE_INIT, payload, lens[k]), 0);
		CHECK(drop_pending() == 0);
	}
	/* Version 1: reserved is 0, and pidfd too without SECNS_JOIN. */
	CHECK_RC(set_args(LSM_ATTR_UNSHARE_INIT, 0, 0, 1, 16), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE_INIT, 0, 0, 1U << 31, 24), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, 0, 0, 1, 16), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE_INIT, 0, 3, 0, 16), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, 0, 3, 0, 16), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, 0, -1, 0, 24), -EINVAL);
	CHECK(get_info(&i) == 0 && i.depth == 0 && i.flags == 0);
	memcpy(payload, &abort_flag, sizeof(abort_flag));
	CHECK(set_payload(LSM_ATTR_UNSHARE_INIT, payload, 16) == -ENOENT);
	return 0;
}

TEST(the_payload_follows_the_extensible_struct_rules)
{
	RUN_IN_CHILD(payload_rules);
}

/* Drops cap from the caller's effective set (it stays permitted). */
static int drop_effective(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(__NR_capget, &h, d))
		return -errno;
	d[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	return syscall(__NR_capset, &h, d) ? -errno : 0;
}

static int drop_cap_mac_admin(void)
{
	return drop_effective(CAP_MAC_ADMIN);
}

/* Drops every capability: effective, permitted and inheritable ones. */
static int drop_all_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {};
	int k;

	if (syscall(__NR_capset, &h, d) || syscall(__NR_capget, &h, d))
		return -errno;
	for (k = 0; k < 2; k++) {
		if (d[k].effective || d[k].permitted || d[k].inheritable)
			return -EIO;
	}
	return 0;
}

static int no_cap(void)
{
	struct secns_info i;

	CHECK(init() == 0);
	CHECK(drop_cap_mac_admin() == 0);
	/* The capability is checked before a pending namespace (EBUSY). */
	CHECK(init() == -EPERM);
	/* Dropping one's own pending namespace needs no capability. */
	CHECK(drop_pending() == 0);
	CHECK(init() == -EPERM);
	/* With nothing pending, unshare creates one: that needs it. */
	CHECK(enter() == -EPERM);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == 0 && i.depth == 0 && i.pending_id == 0 && i.flags == 0);
	return 0;
}

TEST(without_cap_mac_admin_init_and_one_shot_are_eperm_but_abort_works)
{
	RUN_IN_CHILD(no_cap);
}

static void *wait_for_release(void *arg)
{
	int *fd = arg;
	char c;

	return read(*fd, &c, 1) < 0 ? NULL : arg;
}

static int threads(void)
{
	struct secns_info i;
	pthread_t t;
	int fds[2], rc;

	CHECK(pipe(fds) == 0);
	CHECK(pthread_create(&t, NULL, wait_for_release, &fds[0]) == 0);
	rc = enter();
	CHECK(write(fds[1], "x", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(rc == -EINVAL);
	CHECK(get_info(&i) == 0 && i.depth == 0);
	return 0;
}

TEST(unshare_from_a_multithreaded_process_is_einval)
{
	RUN_IN_CHILD(threads);
}

static int limits(void)
{
	long base = count();
	char text[32];

	/* Exactly maxnsdepth deep fits; one more is ENOSPC. */
	CHECK(write_text("maxnsdepth", "2") == 0);
	CHECK(enter() == 0);
	CHECK(enter() == 0);
	CHECK(init() == -ENOSPC);
	CHECK(enter() == -ENOSPC);
	CHECK(write_text("maxnsdepth", "32") == 0);
	/* Exactly maxns live namespaces fit; one more is ENOSPC. */
	snprintf(text, sizeof(text), "%ld", base + 3);
	CHECK(write_text("maxns", text) == 0);
	CHECK(init() == 0);
	CHECK(count() == base + 3);
	CHECK(init() == -EBUSY);
	CHECK(enter() == 0);
	CHECK(init() == -ENOSPC);
	CHECK(enter() == -ENOSPC);
	CHECK(count() == base + 3);
	return 0;
}

static long saved_maxns, saved_maxnsdepth;

/* Puts the limits back however the child ended. */
static void restore_limits(void)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld", saved_maxns);
	write_text("maxns", text);
	snprintf(text, sizeof(text), "%ld", saved_maxnsdepth);
	write_text("maxnsdepth", text);
}

TEST(maxns_and_maxnsdepth_are_enospc_at_the_exact_boundary)
{
	saved_maxns = read_number("maxns");
	saved_maxnsdepth = read_number("maxnsdepth");
	ASSERT_LE(0, saved_maxns);
	ASSERT_LE(0, saved_maxnsdepth);
	run_in_child(_metadata, limits, restore_limits);
	ASSERT_EQ(saved_maxns, read_number("maxns"));
	ASSERT_EQ(saved_maxnsdepth, read_number("maxnsdepth"));
}

TEST(secns_is_an_active_lsm)
{
	__u64 ids[32];
	__u32 size = sizeof(ids);
	long n, i;
	char lsms[256] = "";
	int fd;

	n = syscall(__NR_lsm_list_modules, ids, &size, 0);
	ASSERT_LT(0, n);
	for (i = 0; i < n && ids[i] != LSM_ID_SECNS; i++)
		;
	EXPECT_LT(i, n);
	fd = open("/sys/kernel/security/lsm", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, lsms, sizeof(lsms) - 1));
	close(fd);
	EXPECT_NE(NULL, strstr(lsms, "secns"));
}

TEST(limits_show_the_documented_defaults)
{
	EXPECT_EQ(4096, read_number("maxns"));
	EXPECT_EQ(32, read_number("maxnsdepth"));
	EXPECT_LE(0, count());
}

TEST(limits_take_values_in_range_and_refuse_the_rest)
{
	const char *bad[][2] = {
		{ "maxnsdepth", "33" }, { "maxnsdepth", "-1" },
		{ "maxns", "2147483648" }, { "maxns", "abc" }, { "maxns", "" },
		{ "maxns", "12 34" }, { "maxns", "0x10" }, { "maxns", "\xff" },
		{ "count", "5" },
	};
	long maxns = read_number("maxns"), depth = read_number("maxnsdepth");
	char text[32];
	size_t i;

	ASSERT_LE(0, maxns);
	ASSERT_LE(0, depth);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, write_text(bad[i][0], bad[i][1])) {
			TH_LOG("writing \"%s\" to %s", bad[i][1], bad[i][0]);
		}
	}
	EXPECT_EQ(maxns, read_number("maxns"));
	EXPECT_EQ(depth, read_number("maxnsdepth"));
	EXPECT_EQ(0, write_text("maxns", "2147483647\n"));
	EXPECT_EQ(2147483647, read_number("maxns"));
	EXPECT_EQ(0, write_text("maxnsdepth", "5"));
	EXPECT_EQ(5, read_number("maxnsdepth"));
	snprintf(text, sizeof(text), "%ld", maxns);
	ASSERT_EQ(0, write_text("maxns", text));
	snprintf(text, sizeof(text), "%ld", depth);
	ASSERT_EQ(0, write_text("maxnsdepth", text));
}

/* Only a file opened with CAP_MAC_ADMIN can change a limit. */
static int write_without_cap(void)
{
	long maxns = read_number("maxns");

	CHECK(drop_cap_mac_admin() == 0);
	CHECK(write_text("maxns", "7") == -EPERM);
	CHECK(read_number("maxns") == maxns);
	return 0;
}

TEST(writing_a_limit_needs_cap_mac_admin)
{
	RUN_IN_CHILD(write_without_cap);
}

static int get_sizes(void)
{
	const __u32 want = sizeof(struct lsm_ctx) + SECNS_INFO_SIZE_VER0;
	union req r = {};
	__u32 size = 0;

	/* A size query: no buffer, E2BIG and the size needed. */
	CHECK(syscall(__NR_lsm_get_self_attr, LSM_ATTR_UNSHARE, NULL, &size,
		      0) == -1 && errno == E2BIG);
	CHECK(size == want);
	/* Too small a buffer: the same. */
	size = sizeof(r.ctx) + 8;
	CHECK(syscall(__NR_lsm_get_self_attr, LSM_ATTR_UNSHARE, &r, &size,
		      0) == -1 && errno == E2BIG);
	CHECK(size == want);
	/* LSM_FLAG_SINGLE with secns's id: one entry of that size. */
	r.ctx.id = LSM_ID_SECNS;
	size = sizeof(r);
	CHECK(syscall(__NR_lsm_get_self_attr, LSM_ATTR_UNSHARE, &r, &size,
		      LSM_FLAG_SINGLE) == 1);
	CHECK(size == want && r.ctx.len == want);
	CHECK(r.ctx.ctx_len == SECNS_INFO_SIZE_VER0);
	/* secns answers no other attribute. */
	r.ctx.id = LSM_ID_SECNS;
	size = sizeof(r);
	CHECK(syscall(__NR_lsm_get_self_attr, LSM_ATTR_UNSHARE_INIT, &r, &size,
		      LSM_FLAG_SINGLE) == -1 && errno == EOPNOTSUPP);
	/* A NULL size. */
	CHECK(syscall(__NR_lsm_get_self_attr, LSM_ATTR_UNSHARE, &r, NULL,
		      0) == -1 && errno == EINVAL);
	return 0;
}

TEST(get_self_attr_answers_size_queries_and_e2big)
{
	RUN_IN_CHILD(get_sizes);
}

/* The argument checks of lsm_set_self_attr(2), each leaving nothing. */
static int bad_arguments(void)
{
	union req r = {};
	void *unmapped;
	struct secns_info i;

	r.ctx.id = LSM_ID_SECNS;
	r.ctx.len = sizeof(r.ctx) + 8;
	r.ctx.ctx_len = 8;
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, 0, 0) == -EINVAL);
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, sizeof(r.ctx) - 1, 0) == -EINVAL);
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, 4097, 0) == -E2BIG);
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, NULL, sizeof(r.ctx), 0) == -EFAULT);
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(unmapped != MAP_FAILED);
	CHECK(munmap(unmapped, 4096) == 0);
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, unmapped, sizeof(r.ctx), 0) == -EFAULT);
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, sizeof(r.ctx) + 8, 1) == -EINVAL);
	/* Header fields: len beyond size, ctx_len beyond len, overflow. */
	r.ctx.len = 48;
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, 40, 0) == -EINVAL);
	r.ctx.len = 40;
	r.ctx.ctx_len = 16;
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, 40, 0) == -EINVAL);
	r.ctx.ctx_len = ~0ULL - 7;
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, 40, 0) == -EINVAL);
	/* Another LSM's id, an unknown attribute, another LSM's attribute. */
	r.ctx.ctx_len = 8;
	r.ctx.id = LSM_ID_SECNS + 1;
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT, &r, 40, 0) == -EOPNOTSUPP);
	r.ctx.id = LSM_ID_SECNS;
	CHECK(set_raw(LSM_ATTR_UNSHARE_INIT + 1, &r, 40, 0) == -EOPNOTSUPP);
	CHECK(set_raw(LSM_ATTR_CURRENT, &r, 40, 0) == -EOPNOTSUPP);
	CHECK(get_info(&i) == 0 && i.flags == 0 && i.depth == 0);
	return 0;
}

TEST(bad_arguments_get_their_errno_and_leave_nothing)
{
	RUN_IN_CHILD(bad_arguments);
}

/*
 * Fault injection (CONFIG_FAULT_INJECTION_DEBUG_FS, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC): sleeping allocations may fail too, and quietly.
 * False if the kernel has no fault injection.
 */
static bool faults_set_up(void)
{
	static const char *const knobs[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/verbose", "0" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/verbose", "0" },
	};
	char path[128];
	unsigned int i;
	int fd;

	if (access("/proc/thread-self/fail-nth", R_OK | W_OK))
		return false;
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", knobs[i][0]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			return false;
		if (write(fd, knobs[i][1], strlen(knobs[i][1])) < 0) {
			close(fd);
			return false;
		}
		close(fd);
	}
	return true;
}

struct attempt {
	int rc;		/* what op returned: 0 or -errno */
	bool injected;	/* whether the nth allocation came, and failed */
};

/*
 * Runs op in a child whose nth allocation from the call on fails
 * (/proc/thread-self/fail-nth); nothing else runs between arming the
 * fault and the call. Returns false if the child could not report.
 */
static bool attempt_with_fault(int (*op)(void), int nth, struct attempt *out)
{
	char arm[16], left[16] = "";
	int fds[2], status, fd, len;
	struct attempt a = {};
	pid_t pid;

	if (pipe(fds))
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		fd = open("/proc/thread-self/fail-nth", O_RDWR);
		len = snprintf(arm, sizeof(arm), "%d", nth);
		if (fd < 0 || write(fd, arm, len) != len)
			_exit(1);
		a.rc = op();
		if (pread(fd, left, sizeof(left) - 1, 0) <= 0)
			_exit(1);
		a.injected = atoi(left) == 0;
		_exit(write(fds[1], &a, sizeof(a)) == sizeof(a) ? 0 : 1);
	}
	close(fds[1]);
	len = read(fds[0], out, sizeof(*out));
	close(fds[0]);
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 && len == sizeof(*out);
}

/*
 * Every allocation op makes fails in turn, until op completes without a
 * fault: each failure is ENOMEM, and leaves nothing counted once its
 * process is gone.
 */
static void every_allocation_fails_cleanly(struct __test_metadata *_metadata,
					   int (*op)(void))
{
	long base = count();
	int nth, failures = 0;
	struct attempt a;

	ASSERT_LE(0, base);
	for (nth = 1; nth < 1000; nth++) {
		ASSERT_TRUE(attempt_with_fault(op, nth, &a));
		if (a.rc) {
			EXPECT_EQ(-ENOMEM, a.rc);
			EXPECT_TRUE(a.injected);
			failures++;
		}
		ASSERT_TRUE(count_back_to(base));
		if (!a.injected)
			break;
	}
	/* It completed, without a fault, after failing at least once. */
	EXPECT_EQ(0, a.rc);
	EXPECT_FALSE(a.injected);
	EXPECT_LT(0, failures);
}

TEST(every_failed_allocation_of_init_is_enomem_and_leaves_nothing)
{
	if (!faults_set_up())
		SKIP(return, "no fault injection (see the config file)");
	every_allocation_fails_cleanly(_metadata, init);
}

TEST(every_failed_allocation_of_a_one_shot_unshare_is_enomem_and_leaves_nothing)
{
	if (!faults_set_up())
		SKIP(return, "no fault injection (see the config file)");
	every_allocation_fails_cleanly(_metadata, enter);
}

/* Whether the lockdown LSM is at integrity or above. */
static bool locked_down(void)
{
	char buf[128] = "";
	int fd = open("/sys/kernel/security/lockdown", O_RDONLY);

	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strstr(buf, "[integrity]") || strstr(buf, "[confidentiality]");
}

static int lockdown_vetoes(void)
{
	long base = count();
	int self = syscall(__NR_pidfd_open, getpid(), 0);

	/* Every check of secns passes; the lockdown LSM refuses. */
	CHECK_RC(init(), -EPERM);
	CHECK_RC(enter(), -EPERM);
	CHECK(self >= 0);
	CHECK_RC(join(self), -EPERM);
	CHECK(count() == base);
	return 0;
}

TEST(under_lockdown_init_unshare_and_join_are_eperm_and_leave_nothing)
{
	if (!locked_down())
		SKIP(return, "not locked down (boot with lockdown=integrity)");
	RUN_IN_CHILD(lockdown_vetoes);
}

/* Whether two secns_info are the same (the struct has no padding). */
static bool same_info(const struct secns_info *a, const struct secns_info *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* The secns_info of a child forked now. */
static int forked_info(struct secns_info *info)
{
	int fds[2], status, rc = -EIO;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid == 0)
		_exit(get_info(info) == 0 &&
		      write(fds[1], info, sizeof(*info)) == sizeof(*info) ? 0 : 1);
	close(fds[1]);
	if (pid > 0 && read(fds[0], info, sizeof(*info)) == sizeof(*info))
		rc = 0;
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		rc = -ECHILD;
	return rc;
}

/*
 * A child that runs a setup, reports its secns_info and waits to be killed:
 * a target for SECNS_JOIN and ptrace.
 */
struct waiter {
	pid_t pid;
	int pidfd;
	int fd;		/* A file the waiter has open (its end of a pipe). */
	int release;	/* The other end of that pipe. */
	struct secns_info info;
};

static void wait_forever(int fd)
{
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* Starts a waiter that runs setup (if any) first: 0 or -1. */
static int start_waiter(struct waiter *w, int (*setup)(void))
{
	int report[2], hold[2];
	struct secns_info i;

	w->pid = -1;
	w->pidfd = -1;
	w->release = -1;
	if (pipe2(report, O_CLOEXEC))
		return -1;
	if (pipe2(hold, O_CLOEXEC)) {
		close(report[0]);
		close(report[1]);
		return -1;
	}
	w->pid = fork();
	if (w->pid == 0) {
		close(report[0]);
		close(hold[1]);
		if ((setup && setup()) || get_info(&i) ||
		    write(report[1], &i, sizeof(i)) != sizeof(i))
			_exit(1);
		wait_forever(hold[0]);
	}
	close(report[1]);
	close(hold[0]);
	w->fd = hold[0];
	w->release = hold[1];
	if (w->pid < 0 ||
	    read(report[0], &w->info, sizeof(w->info)) != sizeof(w->info)) {
		close(report[0]);
		return -1;
	}
	close(report[0]);
	w->pidfd = syscall(__NR_pidfd_open, w->pid, 0);
	return w->pidfd < 0 ? -1 : 0;
}

/* Kills and reaps a waiter, whether a tracer stopped it or not. */
static int stop_waiter(struct waiter *w)
{
	int rc = 0;

	if (w->pidfd >= 0)
		close(w->pidfd);
	if (w->release >= 0)
		close(w->release);
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		rc = waitpid(w->pid, NULL, 0) == w->pid ? 0 : -1;
	}
	w->pid = -1;
	w->pidfd = -1;
	w->release = -1;
	return rc;
}

/* Setup of a waiter: enters a new namespace, then becomes another user. */
static int enter_as_another_user(void)
{
	return enter() || setresuid(1000, 1000, 1000);
}

/* Checks of SECNS_JOIN on the payload, each before any other. */
static int join_payloads(void)
{
	struct {
		struct secns_unshare_args args;
		__u64 tail;
	} big = { .args.flags = SECNS_JOIN };
	struct secns_info before, after;
	struct waiter w;
	long n;

	CHECK(start_waiter(&w, enter) == 0);
	CHECK(get_info(&before) == 0);
	n = count();
	/* Version 0, and version 1 cut short. */
	CHECK_RC(set_flags(LSM_ATTR_UNSHARE, SECNS_JOIN), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, SECNS_JOIN, w.pidfd, 0, 12), -EINVAL);
	/* With another flag, with the other attribute, with reserved set. */
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, SECNS_JOIN | SECNS_ABORT, w.pidfd, 0,
			  16), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, SECNS_JOIN | (1ULL << 2), w.pidfd,
			  0, 16), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE_INIT, SECNS_JOIN, w.pidfd, 0, 16),
		 -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, SECNS_JOIN, w.pidfd, 1, 16), -EINVAL);
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, SECNS_JOIN, w.pidfd, 1U << 31, 24),
		 -EINVAL);
	/* A pidfd without SECNS_JOIN is not a one-shot unshare. */
	CHECK_RC(set_args(LSM_ATTR_UNSHARE, 0, w.pidfd, 0, 16), -EINVAL);
	/* Beyond version 1. */
	big.args.pidfd = w.pidfd;
	big.tail = 1;
	CHECK_RC(set_payload(LSM_ATTR_UNSHARE, &big, sizeof(big)), -E2BIG);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(count() == n);
	/* A zero tail beyond version 1 is fine. */
	big.tail = 0;
	CHECK_RC(set_payload(LSM_ATTR_UNSHARE, &big, sizeof(big)), 0);
	CHECK(get_info(&after) == 0 && after.id == w.info.id);
	CHECK(count() == n);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(join_needs_a_version_1_payload_with_secns_join_alone)
{
	RUN_IN_CHILD(join_payloads);
}

static int join_threads(void)
{
	struct secns_info before, after;
	struct waiter w;
	pthread_t t;
	int fds[2], rc, rc_bad_pidfd;

	CHECK(start_waiter(&w, enter) == 0);
	CHECK(get_info(&before) == 0);
	CHECK(pipe(fds) == 0);
	CHECK(pthread_create(&t, NULL, wait_for_release, &fds[0]) == 0);
	rc = join(w.pidfd);
	rc_bad_pidfd = join(-1);
	CHECK(write(fds[1], "x", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_RC(rc, -EINVAL);
	/* Before the pidfd is looked at. */
	CHECK_RC(rc_bad_pidfd, -EINVAL);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(join_from_a_multithreaded_process_is_einval)
{
	RUN_IN_CHILD(join_threads);
}

static int no_cap_no_join(void)
{
	struct secns_info before, after;
	long base = count();
	struct waiter w;

	CHECK(start_waiter(&w, enter) == 0);
	CHECK(init() == 0);
	CHECK(drop_cap_mac_admin() == 0);
	/* The capability is checked before a pending namespace (EBUSY). */
	CHECK_RC(join(w.pidfd), -EPERM);
	CHECK(drop_pending() == 0);
	/* The waiter's namespace is left once the pending one is freed. */
	CHECK(count_back_to(base + 1));
	CHECK(get_info(&before) == 0);
	CHECK_RC(join(w.pidfd), -EPERM);
	/* Before the pidfd is looked at. */
	CHECK_RC(join(-1), -EPERM);
	/* Nothing pending: a one-shot unshare needs the capability too. */
	CHECK_RC(enter(), -EPERM);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(after.depth == 0);
	CHECK(count() == base + 1);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(without_cap_mac_admin_join_and_one_shot_unshare_are_eperm)
{
	RUN_IN_CHILD(no_cap_no_join);
}

static int join_while_pending(void)
{
	struct secns_info before, after;
	struct waiter w;
	long n;

	CHECK(start_waiter(&w, enter) == 0);
	CHECK(init() == 0);
	CHECK(get_info(&before) == 0);
	n = count();
	CHECK_RC(join(w.pidfd), -EBUSY);
	/* Before the pidfd is looked at. */
	CHECK_RC(join(-1), -EBUSY);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(count() == n);
	/* Once nothing is pending, the same join works. */
	CHECK(drop_pending() == 0);
	CHECK_RC(join(w.pidfd), 0);
	CHECK(get_info(&after) == 0 && after.id == w.info.id);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(join_with_a_pending_namespace_is_ebusy)
{
	RUN_IN_CHILD(join_while_pending);
}

static int join_bad_pidfd(void)
{
	struct secns_info before, after;
	long n = count();
	int fd;

	CHECK(get_info(&before) == 0);
	CHECK_RC(join(-1), -EBADF);
	CHECK_RC(join(INT_MAX), -EBADF);
	/* An open file that is not a pidfd, then its number once closed. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_RC(join(fd), -EBADF);
	CHECK(close(fd) == 0);
	CHECK_RC(join(fd), -EBADF);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(count() == n);
	return 0;
}

TEST(join_with_a_bad_pidfd_is_ebadf)
{
	RUN_IN_CHILD(join_bad_pidfd);
}

static int join_dead_task(void)
{
	struct secns_info before, after;
	struct waiter reaped, zombie;
	long base = count();
	siginfo_t si;
	int pidfd;

	CHECK(start_waiter(&reaped, enter) == 0);
	CHECK(start_waiter(&zombie, enter) == 0);
	pidfd = dup(reaped.pidfd);
	CHECK(pidfd >= 0);
	CHECK(stop_waiter(&reaped) == 0);
	/* Exited, not reaped: a zombie keeps its credentials. */
	CHECK(kill(zombie.pid, SIGKILL) == 0);
	CHECK(waitid(P_PID, zombie.pid, &si, WEXITED | WNOWAIT) == 0);
	CHECK(count_back_to(base + 1));
	CHECK(get_info(&before) == 0);
	CHECK_RC(join(pidfd), -ESRCH);
	CHECK_RC(join(zombie.pidfd), -ESRCH);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(count() == base + 1);
	CHECK(close(pidfd) == 0);
	CHECK(stop_waiter(&zombie) == 0);
	return 0;
}

TEST(join_of_a_reaped_or_zombie_task_is_esrch)
{
	RUN_IN_CHILD(join_dead_task);
}

/*
 * Joining needs ptrace read access (PTRACE_MODE_READ_REALCREDS): without
 * CAP_SYS_PTRACE, only to a task of the caller's own uid.
 */
static int join_without_ptrace_access(void)
{
	struct secns_info before, after;
	struct waiter other_user, same_user;
	long n;

	CHECK(start_waiter(&other_user, enter_as_another_user) == 0);
	CHECK(start_waiter(&same_user, enter) == 0);
	CHECK(drop_effective(CAP_SYS_PTRACE) == 0);
	CHECK(get_info(&before) == 0);
	n = count();
	CHECK_RC(join(other_user.pidfd), -EPERM);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(count() == n);
	CHECK_RC(join(same_user.pidfd), 0);
	CHECK(get_info(&after) == 0 && after.id == same_user.info.id);
	CHECK(stop_waiter(&other_user) == 0);
	CHECK(stop_waiter(&same_user) == 0);
	return 0;
}

TEST(join_without_ptrace_read_access_is_eperm)
{
	RUN_IN_CHILD(join_without_ptrace_access);
}

static int join_upward_or_sideways(void)
{
	struct secns_info before, after;
	struct waiter outside, sibling;
	long n;

	CHECK(start_waiter(&outside, NULL) == 0);
	CHECK(start_waiter(&sibling, enter) == 0);
	CHECK(enter() == 0);
	CHECK(get_info(&before) == 0);
	n = count();
	/* The initial namespace is our parent, the sibling's its child. */
	CHECK(outside.info.id == before.parent_id);
	CHECK(sibling.info.parent_id == before.parent_id);
	CHECK_RC(join(outside.pidfd), -EPERM);
	CHECK_RC(join(sibling.pidfd), -EPERM);
	CHECK(get_info(&after) == 0 && same_info(&before, &after));
	CHECK(count() == n);
	CHECK(stop_waiter(&outside) == 0);
	CHECK(stop_waiter(&sibling) == 0);
	return 0;
}

TEST(joining_upward_or_sideways_is_eperm)
{
	RUN_IN_CHILD(join_upward_or_sideways);
}

static int join_from_the_initial_namespace(void)
{
	struct secns_info i, child;
	struct waiter w;
	long n;

	CHECK(start_waiter(&w, enter) == 0);
	CHECK(w.info.depth == 1 && w.info.id > 0);
	n = count();
	CHECK_RC(join(w.pidfd), 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == w.info.id && i.parent_id == w.info.parent_id);
	CHECK(i.depth == w.info.depth);
	CHECK(i.pending_id == 0 && i.flags == 0);
	/* No namespace was made. */
	CHECK(count() == n);
	/* A child forked now is in it too. */
	CHECK(forked_info(&child) == 0);
	CHECK(child.id == w.info.id && child.depth == 1);
	/* It stays ours once the task we joined is gone. */
	CHECK(stop_waiter(&w) == 0);
	CHECK(get_info(&i) == 0 && i.id == w.info.id);
	return 0;
}

TEST(join_enters_the_namespace_of_the_task_of_the_pidfd)
{
	RUN_IN_CHILD(join_from_the_initial_namespace);
}

static int join_downward(void)
{
	struct secns_info a, i;
	struct waiter w;
	long n;

	CHECK(enter() == 0);
	CHECK(get_info(&a) == 0);
	CHECK(start_waiter(&w, enter) == 0);
	CHECK(w.info.parent_id == a.id && w.info.depth == 2);
	n = count();
	CHECK_RC(join(w.pidfd), 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == w.info.id && i.parent_id == a.id && i.depth == 2);
	CHECK(count() == n);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(join_from_a_namespace_into_a_child_namespace)
{
	RUN_IN_CHILD(join_downward);
}

/* Joins a waiter that stays in the caller's namespace: nothing changes. */
static void join_own_namespace(int line)
{
	struct secns_info before, after;
	struct waiter w;
	long n;

	check(start_waiter(&w, NULL) == 0, line, "start_waiter");
	check(get_info(&before) == 0, line, "get_info");
	n = count();
	check_rc(join(w.pidfd), 0, line, "join(w.pidfd)");
	check(get_info(&after) == 0 && same_info(&before, &after), line,
	      "the same secns_info");
	check(count() == n, line, "count() == n");
	check(stop_waiter(&w) == 0, line, "stop_waiter");
}

static int join_own(void)
{
	join_own_namespace(__LINE__);
	CHECK(enter() == 0);
	join_own_namespace(__LINE__);
	return 0;
}

TEST(joining_ones_own_namespace_changes_nothing)
{
	RUN_IN_CHILD(join_own);
}

static int join_not_the_pending(void)
{
	struct secns_info i;
	struct waiter w;
	long n;

	CHECK(start_waiter(&w, init) == 0);
	CHECK(w.info.id == 0 && w.info.flags == SECNS_INFO_PENDING);
	n = count();
	/* The effective namespace of the task, the initial one, is joined. */
	CHECK_RC(join(w.pidfd), 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == 0 && i.depth == 0 && i.pending_id == 0 && i.flags == 0);
	CHECK(count() == n);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(join_takes_the_effective_namespace_not_the_pending_one)
{
	RUN_IN_CHILD(join_not_the_pending);
}

static int enter_pending_without_caps(void)
{
	struct secns_info i;
	__u64 pending;

	CHECK(init() == 0);
	CHECK(get_info(&i) == 0);
	pending = i.pending_id;
	CHECK(drop_all_caps() == 0);
	CHECK_RC(enter(), 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == pending && i.parent_id == 0 && i.depth == 1);
	CHECK(i.pending_id == 0 && i.flags == 0);
	/* Nothing pending any more: the capability is needed again. */
	CHECK_RC(enter(), -EPERM);
	CHECK_RC(init(), -EPERM);
	return 0;
}

TEST(entering_ones_own_pending_namespace_needs_no_capability)
{
	RUN_IN_CHILD(enter_pending_without_caps);
}

static int enter_pending_as_another_user(void)
{
	struct secns_info i;
	__u64 pending;

	CHECK(init() == 0);
	CHECK(get_info(&i) == 0);
	pending = i.pending_id;
	/* Without SECBIT_KEEP_CAPS, this clears the capabilities too. */
	CHECK(setresuid(1000, 1000, 1000) == 0);
	CHECK(drop_all_caps() == 0);
	CHECK_RC(enter(), 0);
	CHECK(get_info(&i) == 0);
	CHECK(i.id == pending && i.depth == 1 && i.flags == 0);
	return 0;
}

TEST(entering_a_pending_namespace_after_setresuid_needs_no_capability)
{
	RUN_IN_CHILD(enter_pending_as_another_user);
}

/* What the tracer reads from the tracee: same binary, same address. */
static const char marker[] = "secns ptrace marker";

/* PTRACE_ATTACH or PTRACE_SEIZE, then waits for a stop and detaches. */
static int trace_and_detach(pid_t pid, int request)
{
	int status;

	if (ptrace(request, pid, NULL, NULL))
		return -errno;
	if (request == PTRACE_SEIZE && ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return -errno;
	if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status))
		return -ECHILD;
	return ptrace(PTRACE_DETACH, pid, NULL, NULL) ? -errno : 0;
}

/* Reads marker through /proc/PID/mem. */
static int read_proc_mem(pid_t pid)
{
	char path[64], buf[sizeof(marker)];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, sizeof(buf), (off_t)(uintptr_t)marker);
	close(fd);
	return n == sizeof(buf) && !memcmp(buf, marker, sizeof(buf)) ? 0 : -EIO;
}

/* Reads marker with process_vm_readv(2). */
static int read_vm(pid_t pid)
{
	char buf[sizeof(marker)];
	struct iovec local = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct iovec remote = {
		.iov_base = (void *)marker,
		.iov_len = sizeof(marker),
	};
	ssize_t n;

	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return n == sizeof(buf) && !memcmp(buf, marker, sizeof(buf)) ? 0 : -EIO;
}

/* Takes a copy of the waiter's open file with pidfd_getfd(2). */
static int copy_fd(const struct waiter *w)
{
	int fd = syscall(__NR_pidfd_getfd, w->pidfd, w->fd, 0);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * CHECKs the answer of ptrace_access_check() about w through each of its
 * users: 0 from each if allowed, else its errno. For /proc/PID/mem,
 * mm_access() turns a refusal into EACCES, which process_vm_readv(2) maps
 * back to EPERM.
 */
static void check_ptrace(const struct waiter *w, bool refused, int line)
{
	int eperm = refused ? -EPERM : 0;

	check_rc(trace_and_detach(w->pid, PTRACE_ATTACH), eperm, line,
		 "PTRACE_ATTACH");
	check_rc(trace_and_detach(w->pid, PTRACE_SEIZE), eperm, line,
		 "PTRACE_SEIZE");
	check_rc(read_proc_mem(w->pid), refused ? -EACCES : 0, line,
		 "open(/proc/PID/mem)");
	check_rc(copy_fd(w), eperm, line, "pidfd_getfd()");
	check_rc(read_vm(w->pid), eperm, line, "process_vm_readv()");
}

#define CHECK_PTRACE(w, refused) check_ptrace(w, refused, __LINE__)

/* A child that asks to be traced by its parent once told to. */
struct tracee {
	pid_t pid;
	int go;
};

/* Forks a tracee that will run setup (if any), then PTRACE_TRACEME. */
static int start_tracee(struct tracee *t, int (*setup)(void))
{
	int fds[2];
	char c;

	t->go = -1;
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	t->pid = fork();
	if (t->pid == 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1 || (setup && setup()))
			_exit(255);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(errno);
		raise(SIGSTOP);
		_exit(0);
	}
	close(fds[0]);
	t->go = fds[1];
	return t->pid < 0 ? -1 : 0;
}

/*
 * Lets the tracee go: 0 once it stopped for us as its tracer and, let go
 * on, exited; -errno of its PTRACE_TRACEME; -255 if its setup failed.
 */
static int finish_tracee(struct tracee *t)
{
	ssize_t n = write(t->go, "x", 1);
	int status;

	close(t->go);
	if (n != 1)
		return -EPIPE;
	if (waitpid(t->pid, &status, 0) != t->pid)
		return -ECHILD;
	if (WIFSTOPPED(status)) {
		if (WSTOPSIG(status) != SIGSTOP ||
		    ptrace(PTRACE_CONT, t->pid, NULL, NULL) ||
		    waitpid(t->pid, &status, 0) != t->pid)
			return -ECHILD;
		return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ECHILD;
	}
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -ECHILD;
}

/* PTRACE_TRACEME from a new child that runs setup (if any) first. */
static int traceme(int (*setup)(void))
{
	struct tracee t;

	if (start_tracee(&t, setup))
		return -ECHILD;
	return finish_tracee(&t);
}

static int ptrace_out_of_a_namespace(void)
{
	struct waiter outside;

	CHECK(start_waiter(&outside, NULL) == 0);
	CHECK(enter() == 0);
	CHECK_PTRACE(&outside, true);
	CHECK(stop_waiter(&outside) == 0);
	return 0;
}

TEST(ptrace_from_a_namespace_to_a_task_outside_is_refused)
{
	RUN_IN_CHILD(ptrace_out_of_a_namespace);
}

static int ptrace_sideways(void)
{
	struct waiter sibling;

	CHECK(start_waiter(&sibling, enter) == 0);
	CHECK(enter() == 0);
	CHECK_PTRACE(&sibling, true);
	CHECK(stop_waiter(&sibling) == 0);
	return 0;
}

TEST(ptrace_between_sibling_namespaces_is_refused)
{
	RUN_IN_CHILD(ptrace_sideways);
}

/*
 * PTRACE_TRACEME makes the parent the tracer: a child that stayed outside
 * may not ask a parent that entered a namespace to trace it.
 */
static int traceme_to_a_parent_inside(void)
{
	struct tracee t;

	CHECK(start_tracee(&t, NULL) == 0);
	CHECK(enter() == 0);
	CHECK_RC(finish_tracee(&t), -EPERM);
	return 0;
}

TEST(ptrace_traceme_to_a_parent_in_a_namespace_is_eperm)
{
	RUN_IN_CHILD(traceme_to_a_parent_inside);
}

static int ptrace_into_a_namespace(void)
{
	struct waiter inside;

	CHECK(start_waiter(&inside, enter) == 0);
	CHECK(inside.info.depth == 1);
	CHECK_PTRACE(&inside, false);
	/* A child that entered a namespace, traced by its parent outside. */
	CHECK_RC(traceme(enter), 0);
	CHECK(stop_waiter(&inside) == 0);
	return 0;
}

TEST(the_initial_namespace_may_ptrace_into_a_namespace)
{
	RUN_IN_CHILD(ptrace_into_a_namespace);
}

static int ptrace_within_a_namespace(void)
{
	struct waiter w;

	CHECK(enter() == 0);
	CHECK(start_waiter(&w, NULL) == 0);
	CHECK(w.info.depth == 1);
	CHECK_PTRACE(&w, false);
	CHECK_RC(traceme(NULL), 0);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(ptrace_within_one_namespace_is_allowed)
{
	RUN_IN_CHILD(ptrace_within_a_namespace);
}

static int nested_debugger(void)
{
	struct secns_info i;
	struct waiter w;

	CHECK(enter() == 0);
	CHECK(enter() == 0);
	CHECK(get_info(&i) == 0 && i.depth == 2);
	CHECK_RC(traceme(NULL), 0);
	CHECK(start_waiter(&w, NULL) == 0);
	CHECK_RC(trace_and_detach(w.pid, PTRACE_SEIZE), 0);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(a_debugger_in_a_nested_namespace_traces_its_children)
{
	RUN_IN_CHILD(nested_debugger);
}

static int ptrace_into_a_child_namespace(void)
{
	struct waiter w;

	CHECK(enter() == 0);
	CHECK(start_waiter(&w, enter) == 0);
	CHECK(w.info.depth == 2);
	CHECK_PTRACE(&w, false);
	CHECK_RC(traceme(enter), 0);
	CHECK(stop_waiter(&w) == 0);
	return 0;
}

TEST(ptrace_from_a_namespace_into_a_child_namespace_is_allowed)
{
	RUN_IN_CHILD(ptrace_into_a_child_namespace);
}

static int ptrace_while_pending(void)
{
	struct waiter outside;

	CHECK(start_waiter(&outside, NULL) == 0);
	CHECK(init() == 0);
	CHECK_PTRACE(&outside, false);
	/* Once the namespace is entered, the same task is outside it. */
	CHECK(enter() == 0);
	CHECK_RC(trace_and_detach(outside.pid, PTRACE_SEIZE), -EPERM);
	CHECK(stop_waiter(&outside) == 0);
	return 0;
}

TEST(a_pending_namespace_does_not_count_for_ptrace)
{
	RUN_IN_CHILD(ptrace_while_pending);
}

/* After execve: the program must find no pending namespace. */
static int pending_after_exec(void)
{
	struct secns_info i;

	if (get_info(&i))
		return 2;
	return i.pending_id == 0 && i.flags == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--pending-after-exec"))
		return pending_after_exec();
	return test_harness_run(argc, argv);
}
