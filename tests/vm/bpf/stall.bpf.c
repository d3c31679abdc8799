// SPDX-License-Identifier: GPL-2.0-only
/*
 * Holds a task inside the file_open hook's BPF trampoline, for the upgrade
 * test of tests/vm/src/upgrade.rs: for a task named "secns-stall", this
 * sleepable program reads a byte at STALL_ADDR, a page the task mapped and
 * keeps missing behind a userfaultfd until the test lets it go. The task
 * sleeps in the trampoline image it entered, and the programs attached
 * before this one (those that run after it) have yet to run.
 *
 * The two others are what BPF_LINK_UPDATE is tried with in the same file:
 * another file_open program, and one of another hook.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct file;
struct path;

/* STALL_ADDR in tests/vm/src/upgrade.rs. */
#define STALL_ADDR 0x5ec000000000ULL

static const char stalled[] = "secns-stall";

char LICENSE[] SEC("license") = "GPL";

SEC("lsm.s/file_open")
int BPF_PROG(stall, struct file *file, int ret)
{
	char comm[16] = {};
	char byte;
	int i;

	if (ret)
		return ret;
	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < sizeof(stalled); i++)
		if (comm[i] != stalled[i])
			return 0;
	bpf_copy_from_user(&byte, sizeof(byte), (const void *)STALL_ADDR);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(pass, struct file *file, int ret)
{
	return ret;
}

SEC("lsm/inode_getattr")
int BPF_PROG(other_hook, const struct path *path, int ret)
{
	return ret;
}
