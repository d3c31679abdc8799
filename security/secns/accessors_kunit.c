// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the accessors of <linux/secns.h> as C callers see them:
 * the contexts they may be called in, softirq and hardirq included. The Rust
 * KUnit tests of ffi.rs call the hardirq probe here with a namespace
 * pending, which only Rust can create in a kernel thread.
 */

#include <kunit/test.h>
#include <linux/cred.h>
#include <linux/hardirq.h>
#include <linux/irq_work.h>
#include <linux/limits.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/secns.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "accessors_kunit.h"

/* What the accessors answered in the irq_work, and where it ran. */
struct secns_hardirq_probe {
	struct irq_work work;
	const struct cred *cred;
	struct task_struct *interrupted;
	int hardirq;
	const struct secns *ns;
	const struct secns *pending;
};

static void secns_hardirq_probe_run(struct irq_work *work)
{
	struct secns_hardirq_probe *p =
		container_of(work, struct secns_hardirq_probe, work);

	p->hardirq = !!in_hardirq();
	p->interrupted = current;
	p->ns = secns_of_cred(p->cred);
	p->pending = secns_current_pending();
}

/**
 * secns_kunit_accessors_in_hardirq() - Call the accessors in hardirq context
 * @ns: set to what secns_of_cred() returns there for the current task's
 *	credentials
 * @pending: set to what secns_current_pending() returns there
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
int secns_kunit_accessors_in_hardirq(const struct secns **ns,
				     const struct secns **pending)
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

/* What the accessors answered in the BH work item, and where it ran. */
struct secns_softirq_probe {
	struct work_struct work;
	const struct cred *cred;
	struct task_struct *interrupted;
	int softirq;
	const struct secns *ns;
	const struct secns *pending;
};

static void secns_softirq_probe_run(struct work_struct *work)
{
	struct secns_softirq_probe *p =
		container_of(work, struct secns_softirq_probe, work);

	p->softirq = !!in_serving_softirq();
	p->interrupted = current;
	p->ns = secns_of_cred(p->cred);
	p->pending = secns_current_pending();
}

/**
 * secns_kunit_accessors_in_softirq() - Call the accessors in softirq context
 * @ns: set to what secns_of_cred() returns there for the current task's
 *	credentials
 * @pending: set to what secns_current_pending() returns there
 *
 * Both run in a work item of the BH workqueue, queued on this CPU with
 * bottom halves disabled, so that enabling them again runs it as a softirq
 * on the current task's stack. Should ksoftirqd take it instead, the next
 * of a few attempts tries again.
 *
 * Context: Process context. May sleep.
 * Return: 0 if the accessors ran in softirq context on behalf of the current
 * task; -EINVAL otherwise. @ns and @pending are set either way.
 */
int secns_kunit_accessors_in_softirq(const struct secns **ns,
				     const struct secns **pending)
{
	struct secns_softirq_probe p = { .cred = get_current_cred() };
	int attempt;

	for (attempt = 0; attempt < 10; attempt++) {
		INIT_WORK_ONSTACK(&p.work, secns_softirq_probe_run);
		local_bh_disable();
		queue_work(system_bh_wq, &p.work);
		local_bh_enable();
		flush_work(&p.work);
		destroy_work_on_stack(&p.work);
		if (p.softirq && p.interrupted == current)
			break;
	}
	put_cred(p.cred);

	*ns = p.ns;
	*pending = p.pending;
	return p.softirq && p.interrupted == current ? 0 : -EINVAL;
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
	const struct secns *ns, *pending;
	unsigned long flags;

	raw_spin_lock_irqsave(&lock, flags);
	ns = secns_of_cred(cred);
	pending = secns_current_pending();
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
	const struct secns *want = secns_of_cred(cred);
	const struct secns *ns, *pending;
	int ret;

	put_cred(cred);
	ret = secns_kunit_accessors_in_hardirq(&ns, &pending);

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, want);
	KUNIT_EXPECT_PTR_EQ(test, ns, want);
	KUNIT_EXPECT_NULL(test, pending);
}

/* In softirq context too: the same answers. */
static void secns_accessors_answer_in_softirq(struct kunit *test)
{
	const struct cred *cred = get_current_cred();
	const struct secns *want = secns_of_cred(cred);
	const struct secns *ns, *pending;
	int ret;

	put_cred(cred);
	ret = secns_kunit_accessors_in_softirq(&ns, &pending);

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, want);
	KUNIT_EXPECT_PTR_EQ(test, ns, want);
	KUNIT_EXPECT_NULL(test, pending);
}

/*
 * Blank credentials (cred_alloc_blank(), as keyctl_session_to_parent() makes
 * them) have no namespace yet: secns_of_cred() says it does not know, and
 * never answers the initial namespace, which would fail open.
 */
static void secns_of_blank_cred_is_unknown(struct kunit *test)
{
	struct cred *blank = cred_alloc_blank();

	KUNIT_ASSERT_NOT_NULL(test, blank);
	KUNIT_EXPECT_NULL(test, secns_of_cred(blank));
	put_cred(blank);
}

/*
 * The kfuncs, called as C functions: the initial namespace for the current
 * task's credentials and for the task, and U64_MAX, never 0, for
 * credentials whose namespace is not known (blank or NULL ones) and for
 * ancestors deeper than the namespace.
 */
static void secns_kfuncs_answer_unknown_as_u64_max(struct kunit *test)
{
	const struct cred *cred;
	struct cred *blank;

	if (!IS_ENABLED(CONFIG_BPF_LSM))
		kunit_skip(test, "the kfuncs need CONFIG_BPF_LSM");

	cred = get_current_cred();
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_id(cred), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_parent_id(cred), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_depth(cred), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_ancestor_id(cred, 0), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_ancestor_id(cred, 1), U64_MAX);
	put_cred(cred);

	KUNIT_EXPECT_EQ(test, bpf_secns_task_id(current), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_task_parent_id(current), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_task_depth(current), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_task_ancestor_id(current, 0), 0);
	KUNIT_EXPECT_EQ(test, bpf_secns_task_ancestor_id(current, 1), U64_MAX);
	KUNIT_EXPECT_EQ(test, bpf_secns_pending_id(), 0);

	blank = cred_alloc_blank();
	KUNIT_ASSERT_NOT_NULL(test, blank);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_id(blank), U64_MAX);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_parent_id(blank), U64_MAX);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_depth(blank), U64_MAX);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_ancestor_id(blank, 0), U64_MAX);
	put_cred(blank);

	/* task_kill passes NULL credentials, which the verifier admits. */
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_id(NULL), U64_MAX);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_parent_id(NULL), U64_MAX);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_depth(NULL), U64_MAX);
	KUNIT_EXPECT_EQ(test, bpf_secns_cred_ancestor_id(NULL, 0), U64_MAX);
}

static struct kunit_case secns_accessors_cases[] = {
	KUNIT_CASE(secns_accessors_take_no_sleeping_lock),
	KUNIT_CASE(secns_accessors_answer_in_hardirq),
	KUNIT_CASE(secns_accessors_answer_in_softirq),
	KUNIT_CASE(secns_of_blank_cred_is_unknown),
	KUNIT_CASE(secns_kfuncs_answer_unknown_as_u64_max),
	{}
};

static struct kunit_suite secns_accessors_suite = {
	.name = "secns_accessors",
	.test_cases = secns_accessors_cases,
};

kunit_test_suite(secns_accessors_suite);
