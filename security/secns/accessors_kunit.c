// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the accessors of <linux/secns.h> as C callers see them:
 * the contexts they may be called in.
 */

#include <kunit/test.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/secns.h>
#include <linux/spinlock.h>

/*
 * The accessors take no lock that may sleep (on PREEMPT_RT) or nest wrongly:
 * call them where only raw spinlocks may be taken, which lockdep checks with
 * CONFIG_PROVE_RAW_LOCK_NESTING.
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
	KUNIT_EXPECT_PTR_EQ(test, ns->parent, NULL);
	KUNIT_EXPECT_EQ(test, ns->depth, 0);
	KUNIT_EXPECT_NULL(test, pending);
}

static struct kunit_case secns_accessors_cases[] = {
	KUNIT_CASE(secns_accessors_take_no_sleeping_lock),
	{}
};

static struct kunit_suite secns_accessors_suite = {
	.name = "secns_accessors",
	.test_cases = secns_accessors_cases,
};

kunit_test_suite(secns_accessors_suite);
