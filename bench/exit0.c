// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest static program there is: it exits with status 0 and does
 * nothing else, so that the fork+execve benchmark times the kernel's exec
 * path rather than a C library's start-up.
 */
void _start(void)
{
	__asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
}
