# shellcheck shell=bash
# Common settings and helpers for the harness scripts. Sourced, not run.

HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HARNESS/.." && pwd)
CACHE=${SECNS_CACHE:-/var/cache/secns}
ROOT=${SECNS_CHROOT:-$CACHE/root}   # the Debian toolchain chroot
LINUX=${SECNS_LINUX:-$CACHE/linux} # pristine-then-overlaid kernel tree (a git repo)
BUILD=${SECNS_BUILD:-$CACHE/build} # kernel build directory (O=)
LOGS=${SECNS_LOGS:-$CACHE/logs}

# The checker kernel: the project's Kconfig, the KUnit tests and every
# memory, undefined-behaviour and lock checker; KUnit, make stress and make
# fuzz run on it.
CHECKER_BUILD=$CACHE/build-stress
CHECKER_KCONFIG="security/secns/.kunitconfig tests/stress.config"

# The pinned kernel source: the Makefile says which.
KERNEL_PKG=${KERNEL_PKG:-$(sed -n 's/^KERNEL_PKG *:= *//p' "$REPO/Makefile")}
KERNEL_PKG_VERSION=${KERNEL_PKG_VERSION:-$(sed -n 's/^KERNEL_PKG_VERSION *:= *//p' "$REPO/Makefile")}

# Paths as seen from inside the chroot (see harness/enter).
C_REPO=/secns/repo
C_LINUX=/secns/linux
C_BUILD=/secns/build

mkdir -p "$CACHE" "$LOGS"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Debian mirror: $DEBIAN_MIRROR, else the first Debian archive URI in the
# host's own apt sources (deb822 or one-line format).
debian_mirror() {
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		echo "$DEBIAN_MIRROR"
		return
	fi
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | head -n1 | tr -d ' ')
	[ -n "$m" ] || die "no Debian mirror in the host's apt sources; set DEBIAN_MIRROR"
	echo "${m%/}"
}

# What the host's Rust build of the user-space workspace needs beyond gcc
# and libc6-dev: libbpf-rs builds its vendored libbpf (make, pkg-config) and
# links the static libelf.a and libz.a (libelf-dev, zlib1g-dev);
# secns-runtime links libcontainer's seccomp support with the static
# libseccomp.a (libseccomp-dev); tests/run-vm gives each boot a btrfs file
# system (btrfs-progs).
HOST_PACKAGES="make pkg-config libelf-dev zlib1g-dev libseccomp-dev btrfs-progs"

# host_packages: install what HOST_PACKAGES lists and the host lacks.
host_packages() {
	local p missing=()
	for p in $HOST_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return
	[ "$(id -u)" = 0 ] || die "the host needs: ${missing[*]} (apt-get install them as root)"
	echo "installing on the host: ${missing[*]}"
	apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
		die "cannot install ${missing[*]} on the host"
}

# Where the toolchain sees things, and how to run a command with it:
# TOOLCHAIN=chroot (default) runs in the Debian chroot (harness/enter);
# TOOLCHAIN=host runs on this machine, which must then provide clang/lld/llvm
# >= 17, rustc >= 1.85 with rust-src, bindgen >= 0.71.1, python3 and qemu.
TOOLCHAIN=${TOOLCHAIN:-chroot}
case "$TOOLCHAIN" in
chroot) T_REPO=$C_REPO T_LINUX=$C_LINUX T_BUILD=$C_BUILD ;;
host) T_REPO=$REPO T_LINUX=$LINUX T_BUILD=$BUILD ;;
*) die "TOOLCHAIN must be chroot or host, not '$TOOLCHAIN'" ;;
esac
LLVM=${LLVM:--19}
JOBS=${JOBS:-$(nproc)}

# tc [--kvm] CMD...: run CMD with the toolchain.
tc() {
	if [ "$TOOLCHAIN" = host ]; then
		[ "${1:-}" = --kvm ] && shift
		"$@"
	else
		"$HARNESS/enter" "$@"
	fi
}

# project_warnings LOG: fail (and show them) if LOG has compiler, clippy or
# rustdoc warnings or errors in a file that the overlay adds or changes.
project_warnings() {
	local log=$1 f re hits=0
	local -a ours
	mapfile -t ours < <(git -C "$LINUX" diff --name-only base HEAD)
	for f in "${ours[@]}"; do
		re="(^|[ /])${f//./\\.}:[0-9]+(:[0-9]+)?"
		if grep -Eq -e "--> .*$re" -e "${re}: (warning|error)" "$log"; then
			grep -En -B2 -A6 -e "--> .*$re" -e "${re}: (warning|error)" "$log" >&2 || true
			hits=$((hits + 1))
		fi
	done
	if [ "$hits" -gt 0 ]; then
		echo "warnings in $hits file(s) of this project (above)" >&2
		return 1
	fi
}

# The one pattern of a kernel report in a kernel log: oops, BUG, WARNING,
# KASAN, UBSAN, KCSAN, lockdep, RCU stalls, kmemleak. Any match fails a run.
SPLAT_RE='Kernel panic|BUG:|Oops|WARNING:|UBSAN:|KASAN:|KCSAN:|possible (circular|recursive) locking|inconsistent lock state|INFO: rcu_|unreferenced object|general protection|Call Trace:'

# merge_kconfig FRAGMENT...: the fragments as one, in order; a later line
# for an option (CONFIG_X=... or "# CONFIG_X is not set") replaces the
# earlier one in place.
merge_kconfig() {
	awk '
		/^CONFIG_[A-Za-z0-9_]+=/ { k = $0; sub(/=.*/, "", k) }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { k = $2 }
		k == "" { next }
		!(k in v) { order[n++] = k }
		{ v[k] = $0; k = "" }
		END { for (i = 0; i < n; i++) print v[order[i]] }
	' "$@"
}

# Results are TAP. A script that reports results calls tap_begin NAME once
# (its file is the step's, STEP_TAP, under harness/step, or $LOGS/NAME.tap),
# then tap_result for each, and ends with tap_end, which prints the summary
# line "NAME: P passed, F failed" (harness/tap-summary) and returns 1 on any
# failure.
tap_begin() {
	TAP_NAME=$1
	TAP=${STEP_TAP:-$LOGS/$1.tap}
	if [ -z "${STEP_TAP:-}" ]; then : >"$TAP"; fi
}
# tap_result NAME RC [DETAILS]: one result; DETAILS shown when it failed.
tap_result() {
	{
		if [ "$2" = 0 ]; then
			echo "ok - $1"
		else
			echo "not ok - $1"
			[ -z "${3:-}" ] || sed 's/^/#   /' <<<"$3"
		fi
	} | tee -a "$TAP"
}
tap_end() {
	"$HARNESS/tap-summary" --name "$TAP_NAME" "$TAP"
}

# inputs_hash TOKEN...: one hash of what a step's result depends on, for
# harness/step to skip a step whose inputs did not change. A token is
# "tree" (the overlaid kernel tree), a path in the repository or an
# absolute path (a file, or the files of a directory), or a word.
inputs_hash() {
	local t
	for t in "$@"; do
		if [ "$t" = tree ]; then
			echo "tree $(git -C "$LINUX" rev-parse 'HEAD^{tree}' 2>/dev/null)"
		elif [[ "$t" != /* ]] && [ -e "$REPO/$t" ]; then
			(cd "$REPO" && git ls-files -co --exclude-standard -z -- "$t" |
				LC_ALL=C sort -z | xargs -0r sha256sum)
		elif [[ "$t" == /* ]] && [ -d "$t" ]; then
			(cd "$t" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
		elif [[ "$t" == /* ]] && [ -f "$t" ]; then
			sha256sum "$t"
		else
			echo "word $t"
		fi
	done | sha256sum | cut -d' ' -f1
}
