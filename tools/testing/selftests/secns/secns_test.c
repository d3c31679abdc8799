// SPDX-License-Identifier: GPL-2.0
/*
 * Security namespaces (secns): lsm_set_self_attr(2) and lsm_get_self_attr(2)
 * with LSM_ATTR_UNSHARE_INIT and LSM_ATTR_UNSHARE, each error of
 * Documentation/userspace-api/secns.rst, and the limits in securityfs.
 *
 * Needs root (CAP_MAC_ADMIN), securityfs on /sys/kernel/security, secns in
 * the active LSMs and a kernel that is not locked down. Each test changes
 * namespaces in a child process of its own, then checks that the count of
 * live namespaces is back to where it was once that child is gone.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/lsm.h>
#include <linux/secns.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

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

static int set_flags(__u32 attr, __u64 flags)
{
	struct secns_unshare_args args = { .flags = flags };

	return set_payload(attr, &args, sizeof(args));
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
	long base = count();

	/* main() below reports what the new program finds. */
	CHECK(init() == 0);
	CHECK(count() == base + 1);
	execl("/proc/self/exe", "secns_test", "--pending-after-exec", NULL);
	CHECK(!"execl");
	return 1;
}

TEST(execve_drops_the_pending_namespace)
{
	RUN_IN_CHILD(exec_drops);
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

	CHECK(set_flags(LSM_ATTR_UNSHARE_INIT, 2) == -EINVAL);
	CHECK(set_flags(LSM_ATTR_UNSHARE_INIT, 1ULL << 63) == -EINVAL);
	CHECK(set_flags(LSM_ATTR_UNSHARE, SECNS_ABORT) == -EINVAL);
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
	__u8 payload[24] = {};
	__u64 abort_flag = SECNS_ABORT;
	__u32 len;

	CHECK(set_payload(LSM_ATTR_UNSHARE_INIT, payload, 4) == -EINVAL);
	payload[SECNS_UNSHARE_ARGS_SIZE_VER0 + 12] = 1;
	CHECK(set_payload(LSM_ATTR_UNSHARE_INIT, payload, 24) == -E2BIG);
	payload[SECNS_UNSHARE_ARGS_SIZE_VER0 + 12] = 0;
	/* No payload, exactly version 0 and a longer zero tail: no flags. */
	for (len = 0; len <= 24; len += len ? 16 : 8) {
		CHECK(set_payload(LSM_ATTR_UNSHARE_INIT, payload, len) == 0);
		CHECK(drop_pending() == 0);
	}
	memcpy(payload, &abort_flag, sizeof(abort_flag));
	CHECK(set_payload(LSM_ATTR_UNSHARE_INIT, payload, 16) == -ENOENT);
	return 0;
}

TEST(the_payload_follows_the_extensible_struct_rules)
{
	RUN_IN_CHILD(payload_rules);
}

static int drop_cap_mac_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(__NR_capget, &h, d))
		return -errno;
	d[CAP_TO_INDEX(CAP_MAC_ADMIN)].effective &= ~CAP_TO_MASK(CAP_MAC_ADMIN);
	return syscall(__NR_capset, &h, d) ? -errno : 0;
}

static int no_cap(void)
{
	CHECK(init() == 0);
	CHECK(drop_cap_mac_admin() == 0);
	CHECK(init() == -EPERM);
	CHECK(enter() == -EPERM);
	/* Dropping one's own pending namespace needs no capability. */
	CHECK(drop_pending() == 0);
	return 0;
}

TEST(without_cap_mac_admin_it_is_eperm_but_abort_works)
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
