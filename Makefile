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
LOGS := $(SECNS_CACHE)/logs
RESULTS := $(LOGS)/results
export SECNS_RESULTS := $(RESULTS)

# The two kernels. The project's (Kconfig) is what the in-VM tests and make
# run boot. The checker kernel adds the KUnit tests and every memory,
# undefined-behaviour and lock checker: make kunit, stress and fuzz run on it.
KERNEL_IMAGE  := $(SECNS_CACHE)/build/arch/x86/boot/bzImage
CHECKER_IMAGE := $(SECNS_CACHE)/build-stress/arch/x86/boot/bzImage
INITRAMFS     := $(SECNS_CACHE)/build/secns-vm/initramfs.cpio
CHECKER := SECNS_BUILD=$(SECNS_CACHE)/build-stress SECNS_LOGS=$(LOGS)/checker \
	SECNS_KCONFIG_EXTRA="security/secns/.kunitconfig tests/stress.config"

# What each step's result depends on (harness/step skips a step whose inputs
# are those of its last successful run): "tree" is the overlaid kernel tree.
BUILD_INPUTS  := tree Kconfig $(H)/kunit $(H)/build-kernel $(H)/lib.sh $(H)/toolchain.manifest LLVM=$(LLVM)
VM_INPUTS     := $(INITRAMFS) tests/run-vm $(H)/tap-summary $(H)/lib.sh

# The steps of make check, in order; each is a target below, with the steps
# it needs as prerequisites.
CHECK_STEPS := provision source overlay cargo lint series-apply kernel rustdoc userspace vmtest \
	checker kunit stress

.PHONY: help check run $(CHECK_STEPS) fmt series series-check configs fuzz kcsan bench clean distclean

help:
	@echo 'make check      provision, build and run every test; ends with "check: N passed, N failed"'
	@echo 'make run        boot the secns kernel under QEMU and show the LSM active (a shell on a terminal)'
	@echo
	@echo 'The steps of make check, in order (each makes the steps it needs first, and'
	@echo 'is skipped, with its last results, when its inputs did not change; FORCE=1 runs it):'
	@echo '  provision     the Debian toolchain chroot ($(H)/toolchain.manifest)'
	@echo '  source        the pinned kernel source ($(KERNEL_PKG) $(KERNEL_PKG_VERSION))'
	@echo '  overlay       lay the repository and patches/series onto the kernel tree'
	@echo '  cargo         cargo fmt --check, clippy -D warnings, test'
	@echo '  lint          checkpatch --strict, kernel-doc, MAX_LSM_COUNT, rustfmtcheck'
	@echo '  series-apply  make series, then git am onto the pinned base'
	@echo '  kernel        the project kernel (Kconfig; LLVM=$(LLVM), CLIPPY=1), no warnings in our files'
	@echo '  rustdoc       make rustdoc, no warnings in our files'
	@echo '  userspace     static test programs and the VM initramfs'
	@echo '  vmtest        boot the project kernel and run the in-VM tests (TAP)'
	@echo '  checker       the checker kernel: Kconfig + security/secns/.kunitconfig + tests/stress.config'
	@echo '  kunit         its KUnit tests (kunit.py exec under QEMU)'
	@echo '  stress        its in-VM stress and fuzz runs (KASAN, UBSAN, kmemleak, lockdep)'
	@echo
	@echo 'More:'
	@echo '  series        the postable patch series (cover letter, patches, Cc:), signed off by you'
	@echo '  fuzz          the checker kernel fuzzed with FUZZ_CALLS calls (default 1000000) in FUZZ_SECONDS'
	@echo '  kcsan         a KCSAN kernel (tests/kcsan.config): its KUnit tests and the concurrency runs'
	@echo '  bench         what secns costs: a kernel without debugging options (bench/bench.config)'
	@echo '                booted with and without secns under QEMU -icount; DESIGN 7 goals PASS/FAIL'
	@echo '  series-check  git am the series onto the pinned base, checkpatch, build after every patch,'
	@echo '                then the project kernel from it: KUnit and the in-VM tests (about 30 min)'
	@echo '  configs       tinyconfig + Rust with SECURITY, MULTIUSER, BPF_LSM or SECURITYFS off'
	@echo '                (harness/configs.d): each builds, no warnings in our files'
	@echo '  fmt           format the Rust files (kernel side with the pinned rustfmt, and cargo fmt)'
	@echo '  clean         remove the kernel build directories; distclean: the whole cache'
	@echo
	@echo 'Variables: SECNS_CACHE=$(SECNS_CACHE) TOOLCHAIN=chroot|host LLVM=$(LLVM)'
	@echo '           KVM=auto|yes|no JOBS=N V=1 (show step output) VM_TIMEOUT=seconds FORCE=1'

# Every step, going on past failures (a step whose prerequisite failed does
# not run and counts as failed), then one summary of their TAP results.
check:
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS) && date +%s >$(RESULTS)/.start
	@$(MAKE) --no-print-directory -k $(CHECK_STEPS) || true
	@for s in $(CHECK_STEPS); do [ -s $(RESULTS)/$$s.tap ] || \
		echo "not ok - $$s: not run (a step it needs failed)" >$(RESULTS)/$$s.tap; done
	@echo "    total time $$(( $$(date +%s) - $$(cat $(RESULTS)/.start) ))s, logs in $(LOGS)"
	@$(H)/tap-summary --name check $(foreach s,$(CHECK_STEPS),$(RESULTS)/$(s).tap)

provision:
	@STEP_WHAT="toolchain chroot" $(STEP) provision $(H)/provision

source: provision
	@STEP_WHAT="kernel source $(KERNEL_PKG) $(KERNEL_PKG_VERSION)" \
		$(STEP) source $(H)/fetch-source $(KERNEL_PKG) $(KERNEL_PKG_VERSION)

overlay: source
	@STEP_WHAT="lay the repository onto the kernel tree" $(STEP) overlay $(H)/overlay

# userspace/secns/tests/uapi.rs checks the crate against include/uapi/ and
# the lines patches/ add to include/uapi/linux/lsm.h: both are inputs.
cargo:
	@STEP_WHAT="cargo fmt, clippy and test" \
	STEP_INPUTS="Cargo.toml Cargo.lock .cargo userspace tests/vm bench include patches \
		$(H)/lint-user $(H)/lib.sh" \
		$(STEP) cargo $(H)/lint-user

lint: overlay
	@STEP_WHAT="checkpatch --strict, kernel-doc, MAX_LSM_COUNT, rustfmtcheck" \
	STEP_INPUTS="tree patches $(H)/lint-kernel $(H)/check-lsm-count $(H)/lib.sh" \
		$(STEP) lint $(H)/lint-kernel

series: source
	@$(H)/series

series-apply: overlay
	@STEP_WHAT="the series (make series) applies to the pinned base with git am" \
	STEP_INPUTS="patches Documentation include rust security tools $(H)/series $(H)/series-check \
		$(H)/new-files $(H)/export-patches $(H)/lib.sh \
		$$(git config user.name | tr ' ' _) $$(git config user.email)" \
		$(STEP) series-apply $(H)/series-check --apply-only

kernel: overlay
	@STEP_WHAT="building the kernel (LLVM=$(LLVM) CLIPPY=1)" \
	STEP_INPUTS="$(BUILD_INPUTS)" STEP_OUTPUTS="$(KERNEL_IMAGE)" \
		$(STEP) kernel $(H)/build-kernel

rustdoc: kernel
	@STEP_WHAT="make rustdoc, no warnings in our files" \
	STEP_INPUTS="$(BUILD_INPUTS) $(H)/rustdoc" \
		$(STEP) rustdoc $(H)/rustdoc

userspace: overlay
	@STEP_WHAT="static test programs and the initramfs" $(STEP) userspace $(H)/build-userspace

vmtest: kernel userspace
	@STEP_WHAT="booting the VM and running the in-VM tests" \
	STEP_INPUTS="$(KERNEL_IMAGE) $(VM_INPUTS)" \
		$(STEP) vmtest tests/run-vm test

checker: overlay
	@STEP_WHAT="the checker kernel (KUnit; KASAN, UBSAN, kmemleak, lockdep)" \
	STEP_INPUTS="$(BUILD_INPUTS) security/secns/.kunitconfig tests/stress.config" \
	STEP_OUTPUTS="$(CHECKER_IMAGE)" $(CHECKER) \
		$(STEP) checker $(H)/build-kernel

kunit: checker
	@STEP_WHAT="the KUnit tests of the checker kernel (kunit.py exec)" \
	STEP_INPUTS="$(CHECKER_IMAGE) $(H)/run-kunit $(H)/kunit $(H)/tap-summary $(H)/lib.sh" \
	$(CHECKER) $(STEP) kunit $(H)/run-kunit exec

stress: checker userspace
	@STEP_WHAT="the checker kernel's stress and fuzz runs" \
	STEP_INPUTS="$(CHECKER_IMAGE) $(VM_INPUTS) $(H)/stress" \
	$(CHECKER) $(STEP) stress $(H)/stress stress

fuzz: checker userspace
	@STEP_WHAT="the checker kernel fuzzed (FUZZ_CALLS=$${FUZZ_CALLS:-1000000} within FUZZ_SECONDS=$${FUZZ_SECONDS:-7200})" \
	$(CHECKER) $(STEP) fuzz $(H)/stress fuzz

# The KCSAN kernel: KCSAN excludes KASAN, so it is a third build.
KCSAN := SECNS_BUILD=$(SECNS_CACHE)/build-kcsan SECNS_LOGS=$(LOGS)/kcsan \
	SECNS_KCONFIG_EXTRA="security/secns/.kunitconfig tests/kcsan.config"

kcsan: overlay userspace
	@STEP_WHAT="the KCSAN kernel" $(KCSAN) $(STEP) kcsan-kernel $(H)/build-kernel
	@STEP_WHAT="its KUnit tests" $(KCSAN) $(STEP) kcsan-kunit $(H)/run-kunit exec
	@STEP_WHAT="its concurrency runs (random operations, interleavings, fuzz)" \
		$(KCSAN) $(STEP) kcsan-vm $(H)/stress kcsan

# The benchmark kernel: the project's without its debugging options.
BENCH := SECNS_BUILD=$(SECNS_CACHE)/build-bench SECNS_LOGS=$(LOGS)/bench \
	SECNS_KCONFIG_EXTRA="bench/bench.config"

bench: overlay userspace
	@STEP_WHAT="the benchmark kernel (no debugging options)" \
	STEP_INPUTS="$(BUILD_INPUTS) bench/bench.config" \
	STEP_OUTPUTS="$(SECNS_CACHE)/build-bench/arch/x86/boot/bzImage" \
		$(BENCH) $(STEP) bench-kernel $(H)/build-kernel
	@echo '==> bench      booting it with and without secns (QEMU -icount)'
	@$(BENCH) bench/run

run: kernel userspace
	@echo '==> run        booting the secns kernel (QEMU, serial console)'
	@tests/run-vm demo

fmt: source
	@$(H)/fmt
	cargo fmt --all

series-check: source userspace
	@STEP_WHAT="apply, checkpatch and build the series patch by patch, boot it" \
		$(STEP) series-check $(H)/series-check

configs: overlay
	@STEP_WHAT="tinyconfig + Rust, each with one option off (harness/configs.d)" \
	STEP_INPUTS="tree $(H)/configs $(H)/configs.d $(H)/lib.sh $(H)/toolchain.manifest LLVM=$(LLVM)" \
		$(STEP) configs $(H)/configs

clean:
	rm -rf $(SECNS_CACHE)/build $(SECNS_CACHE)/build-stress $(SECNS_CACHE)/build-kcsan \
		$(SECNS_CACHE)/build-bench $(SECNS_CACHE)/build-configs \
		$(SECNS_CACHE)/series $(SECNS_CACHE)/done

distclean:
	rm -rf $(SECNS_CACHE)
