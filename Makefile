# secns: the driver. `make help` lists the targets; README.md explains them.
#
# Everything lives in a cache outside the repository (SECNS_CACHE): the
# Debian toolchain chroot, the pinned kernel source (a git repository), the
# kernel build directory and the logs. Each step is incremental.

# The pinned kernel: Debian's linux-source package, by name and version.
KERNEL_PKG         := linux-source-7.3
KERNEL_PKG_VERSION := 7.3.4-1~bpo13+1

SECNS_CACHE ?= /var/cache/secns
TOOLCHAIN   ?= chroot
LLVM        ?= -19
KVM         ?= auto
V           ?= 0
export KERNEL_PKG KERNEL_PKG_VERSION SECNS_CACHE TOOLCHAIN LLVM KVM V
ifdef JOBS
export JOBS
endif

H := harness
STEP := $(H)/step

.PHONY: help check run provision source overlay kernel rustdoc kunit userspace vmtest stress fmt \
	cargo lint series series-check fuzz clean distclean

help:
	@echo 'make check      provision, build and run every test; ends with "check: N passed, N failed"'
	@echo 'make run        boot the secns kernel under QEMU and show the LSM active (a shell on a terminal)'
	@echo
	@echo 'Steps (each provisions or builds what it needs first):'
	@echo '  provision     the Debian toolchain chroot ($(H)/toolchain.manifest)'
	@echo '  source        the pinned kernel source ($(KERNEL_PKG) $(KERNEL_PKG_VERSION))'
	@echo '  overlay       lay the repository and patches/series onto the kernel tree'
	@echo '  kernel        build the kernel (LLVM=$(LLVM), CLIPPY=1), fail on warnings in our files'
	@echo '  rustdoc       make rustdoc, fail on warnings in our files'
	@echo '  kunit         kunit.py run with security/secns/.kunitconfig'
	@echo '  userspace     static test programs and the VM initramfs'
	@echo '  vmtest        boot the kernel and run the in-VM tests (TAP)'
	@echo '  stress        a KASAN/UBSAN/kmemleak/lockdep kernel: KUnit, stress and fuzz runs'
	@echo '  cargo         cargo fmt --check, clippy -D warnings, test'
	@echo '  lint          checkpatch --strict on patches and new C files, rustfmtcheck'
	@echo '  fmt           format the Rust files (kernel side with the pinned rustfmt, and cargo fmt)'
	@echo '  fuzz          the stress kernel fuzzed with FUZZ_CALLS calls (default 1000000) in FUZZ_SECONDS'
	@echo '  series        the postable patch series (cover letter, patches, Cc:), signed off by you'
	@echo '  series-check  git am the series onto the pinned base, checkpatch, build after every patch,'
	@echo '                then the project kernel from it: KUnit and the in-VM tests (about 40 min)'
	@echo '  clean         remove the kernel build directory; distclean: the whole cache'
	@echo
	@echo 'Variables: SECNS_CACHE=$(SECNS_CACHE) TOOLCHAIN=chroot|host LLVM=$(LLVM)'
	@echo '           KVM=auto|yes|no JOBS=N V=1 (show step output) VM_TIMEOUT=seconds'

check:
	@$(H)/check

provision:
	@STEP_WHAT="toolchain chroot" $(STEP) provision $(H)/provision

source: provision
	@STEP_WHAT="kernel source $(KERNEL_PKG) $(KERNEL_PKG_VERSION)" \
		$(STEP) source $(H)/fetch-source $(KERNEL_PKG) $(KERNEL_PKG_VERSION)

overlay: source
	@STEP_WHAT="lay the repository onto the kernel tree" $(STEP) overlay $(H)/overlay

kernel: overlay
	@STEP_WHAT="building the kernel (LLVM=$(LLVM) CLIPPY=1)" $(STEP) kernel $(H)/build-kernel

rustdoc: kernel
	@STEP_WHAT="make rustdoc, no warnings in our files" $(STEP) rustdoc $(H)/rustdoc

kunit: overlay
	@STEP_WHAT="kunit.py run (config, build, QEMU)" $(STEP) kunit $(H)/run-kunit run

userspace: source
	@STEP_WHAT="static test programs and the initramfs" $(STEP) userspace $(H)/build-userspace

vmtest: kernel userspace
	@STEP_WHAT="booting the VM and running the in-VM tests" $(STEP) vmtest tests/run-vm test

stress: overlay userspace
	@STEP_WHAT="the checker kernel: KUnit, stress and fuzz runs" $(STEP) stress $(H)/stress

run: kernel userspace
	@echo '==> run        booting the secns kernel (QEMU, serial console)'
	@tests/run-vm demo

fmt: source
	@$(H)/fmt
	cargo fmt --all

cargo:
	@STEP_WHAT="cargo fmt, clippy and test" $(STEP) cargo $(H)/lint-user

lint: overlay
	@STEP_WHAT="checkpatch --strict and rustfmtcheck" $(STEP) lint $(H)/lint-kernel

fuzz: overlay userspace
	@STEP_WHAT="the checker kernel fuzzed (FUZZ_CALLS=$${FUZZ_CALLS:-1000000})" $(STEP) fuzz $(H)/fuzz

series: source
	@$(H)/series

series-check: source userspace
	@STEP_WHAT="apply, checkpatch and build the series patch by patch, boot it" \
		$(STEP) series-check $(H)/series-check

clean:
	rm -rf $(SECNS_CACHE)/build $(SECNS_CACHE)/build-stress $(SECNS_CACHE)/series

distclean:
	rm -rf $(SECNS_CACHE)
