// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of what the LSM framework does with the security namespace
 * hooks (security/security.c), through secns_test_raw: an LSM whose
 * task_secns_init and task_secns_unshare hooks return, for the test task
 * only, whatever a test sets, including values that no correct LSM returns.
 * It is listed last in CONFIG_LSM of the secns test kernels. Also the
 * contexts the accessors of <linux/secns.h> may be called in, as C callers
 * see them.
 */

#include <kunit/test.h>
#include <linux/cred.h>
#include <linux/lsm_hooks.h>
#include <linux/sched.h>
#include <linux/secns.h>
#include <linux/security.h>
#include <linux/spinlock.h>

static struct task_struct *raw_task;
static int raw_init_ret;
static int raw_unshare_ret;

static int raw_task_secns_init(const struct cred *cred, struct secns *ns)
{
	return READ_ONCE(raw_task) == current ? READ_ONCE(raw_init_ret) : 0;
}

static int raw_task_secns_unshare(const struct cred *cred,
				  const struct secns *ns)
{
	return READ_ONCE(raw_task) == current ? READ_ONCE(raw_unshare_ret) : 0;
}

static struct security_hook_list raw_hooks[] __ro_after_init = {
	LSM_HOOK_INIT(task_secns_init, raw_task_secns_init),
	LSM_HOOK_INIT(task_secns_unshare, raw_task_secns_unshare),
};

static const struct lsm_id raw_lsmid = {
	.name = "secns_test_raw",
	.id = 0xfff2,
};

static int __init raw_init(void)
{
	security_add_hooks(raw_hooks, ARRAY_SIZE(raw_hooks), &raw_lsmid);
	return 0;
}

DEFINE_LSM(secns_test_raw) = {
	.id = &raw_lsmid,
	.init = raw_init,
};

static void raw_disarm(void *unused)
{
	WRITE_ONCE(raw_task, NULL);
	WRITE_ONCE(raw_init_ret, 0);
	WRITE_ONCE(raw_unshare_ret, 0);
}

/* A namespace below the test task's, which no LSM has seen yet. */
static struct secns *raw_new_ns(struct kunit *test)
{
	struct secns *ns = kunit_kzalloc(test, sizeof(*ns), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ns);
	ns->id = U64_MAX;
	ns->parent = secns_of_cred(current_cred());
	KUNIT_ASSERT_NOT_NULL(test, ns->parent);
	ns->depth = ns->parent->depth + 1;
	KUNIT_ASSERT_EQ(test, security_secns_alloc(ns), 0);
	return ns;
}

static void raw_arm(struct kunit *test, int init_ret, int unshare_ret)
{
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, raw_disarm, NULL), 0);
	WRITE_ONCE(raw_init_ret, init_ret);
	WRITE_ONCE(raw_unshare_ret, unshare_ret);
	WRITE_ONCE(raw_task, current);
}

/* A hook's error reaches the caller as it is. */
static void secns_hook_error_is_returned(struct kunit *test)
{
	struct secns *ns = raw_new_ns(test);

	raw_arm(test, -EXDEV, -EL2HLT);
	KUNIT_EXPECT_EQ(test, security_task_secns_init(current_cred(), ns), -EXDEV);
	KUNIT_EXPECT_EQ(test, security_task_secns_unshare(current_cred(), ns), -EL2HLT);
	security_secns_free(ns);
}

/*
 * A positive return stops the walk like a refusal; the framework must not
 * pass it on, where a caller would take it for approval.
 */
static void secns_positive_return_is_a_refusal(struct kunit *test)
{
	struct secns *ns = raw_new_ns(test);
	int rc;

	raw_arm(test, 1, 2);
	kunit_warning_suppress(test) {
		rc = security_task_secns_init(current_cred(), ns);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KUNIT_EXPECT_EQ(test, rc, -EPERM);
	kunit_warning_suppress(test) {
		rc = security_task_secns_unshare(current_cred(), ns);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KUNIT_EXPECT_EQ(test, rc, -EPERM);
	security_secns_free(ns);
}

/*
 * The accessors of <linux/secns.h> take no lock that may sleep (on
 * PREEMPT_RT) or nest wrongly: call them where only raw spinlocks may be
 * taken, which lockdep checks with CONFIG_PROVE_RAW_LOCK_NESTING.
 */
static void secns_accessors_take_no_sleeping_lock(struct kunit *test)
{
	static DEFINE_RAW_SPINLOCK(lock);
	const struct cred *cred = get_current_cred();
	struct secns *ns, *pending;
	unsigned long flags;

	raw_spin_lock_irqsave(&lock, flags);
	ns = secns_of_cred(cred);
	pending = secns_pending(current);
	raw_spin_unlock_irqrestore(&lock, flags);
	put_cred(cred);

	KUNIT_EXPECT_NOT_NULL(test, ns);
	KUNIT_EXPECT_NULL(test, pending);
}

static struct kunit_case secns_framework_cases[] = {
	KUNIT_CASE(secns_hook_error_is_returned),
	KUNIT_CASE(secns_positive_return_is_a_refusal),
	KUNIT_CASE(secns_accessors_take_no_sleeping_lock),
	{}
};

static struct kunit_suite secns_framework_suite = {
	.name = "secns_framework",
	.test_cases = secns_framework_cases,
};

kunit_test_suite(secns_framework_suite);
