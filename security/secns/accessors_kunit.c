// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the accessors of <linux/secns.h> as C callers see them:
 * the contexts they may be called in, hardirq context included. The Rust
 * KUnit tests of ffi.rs call the hardirq probe here with a namespace
 * pending, which only Rust can create in a kernel thread.
 */

#include <kunit/test.h>
#include <linux/cred.h>
#include <linux/hardirq.h>
#include <linux/irq_work.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/secns.h>
#include <linux/spinlock.h>

#include "accessors_kunit.h"

/* What the accessors answered in the irq_work, and where it ran. */
struct secns_hardirq_probe {
	struct irq_work work;
	const struct cred *cred;
	struct task_struct *interrupted;
	int hardirq;
	struct secns *ns;
	struct secns *pending;
};

static void secns_hardirq_probe_run(struct irq_work *work)
{
	struct secns_hardirq_probe *p =
		container_of(work, struct secns_hardirq_probe, work);

	p->hardirq = !!in_hardirq();
	p->interrupted = current;
	p->ns = secns_of_cred(p->cred);
	p->pending = secns_pending(current);
}

/**
 * secns_kunit_accessors_in_hardirq() - Call the accessors in hardirq context
 * @ns: set to what secns_of_cred() returns there for the current task's
 *	credentials
 * @pending: set to what secns_pending() returns there for the current task
 *
 * Both run in an irq_work that interrupts the current task: one that runs
 * in hardirq context also on PREEMPT_RT, queued and waited for with
 * preemption disabled, so that the interrupt that runs it (a self-IPI, or
 * the next tick on architectures without one) comes on this CPU while the
 * current task runs.
 *
 * Context: Process context. May sleep.
 * Return: 0 if the accessors ran in hardirq context on behalf of the current
 * task; -EINVAL otherwise. @ns and @pending are set either way.
 */
int secns_kunit_accessors_in_hardirq(struct secns **ns, struct secns **pending)
{
	struct secns_hardirq_probe p = {
		.work = IRQ_WORK_INIT_HARD(secns_hardirq_probe_run),
		.cred = get_current_cred(),
	};

	preempt_disable();
	irq_work_queue(&p.work);
	while (irq_work_is_busy(&p.work))
		cpu_relax();
	preempt_enable();
	irq_work_sync(&p.work);
	put_cred(p.cred);

	*ns = p.ns;
	*pending = p.pending;
	return p.hardirq && p.interrupted == current ? 0 : -EINVAL;
}

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

/*
 * In hardirq context, as their kernel-doc allows: the same answers as in
 * process context (the initial namespace, nothing pending; ffi.rs checks a
 * pending namespace).
 */
static void secns_accessors_answer_in_hardirq(struct kunit *test)
{
	const struct cred *cred = get_current_cred();
	struct secns *want = secns_of_cred(cred);
	struct secns *ns, *pending;
	int ret;

	put_cred(cred);
	ret = secns_kunit_accessors_in_hardirq(&ns, &pending);

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, want);
	KUNIT_EXPECT_PTR_EQ(test, ns, want);
	KUNIT_EXPECT_NULL(test, pending);
}

static struct kunit_case secns_accessors_cases[] = {
	KUNIT_CASE(secns_accessors_take_no_sleeping_lock),
	KUNIT_CASE(secns_accessors_answer_in_hardirq),
	{}
};

static struct kunit_suite secns_accessors_suite = {
	.name = "secns_accessors",
	.test_cases = secns_accessors_cases,
};

kunit_test_suite(secns_accessors_suite);
