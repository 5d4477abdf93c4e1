# SPDX-License-Identifier: GPL-2.0
#
# fuse-bpf: the one entry point of the harness. See README.md.
#
#   make demo        build everything, boot the VM, show fuse-bpf working
#   make test        build everything, run the fuse kselftests in the VM
#   make tree        create build/linux (base + series) if missing, sync it
#   make sync        bring repository and work tree together
#   make status      list work tree changes the repository lacks (exit 1)
#   make kernel      build the VM kernel (DEBUG=1: KASAN/lockdep/kmemleak)
#   make selftests   build the fuse kselftests
#   make sample      build the sample daemon (samples/fuse) into build/sample
#   make vm CMD=...  run a command in the VM
#   make series      numbered git format-patch series + cover letter
#   make checkpatch  scripts/checkpatch.pl --strict over the series
#   make series-build  build the kernel at every patch of the series
#   make warncheck   fs/fuse with W=1, CONFIG_FUSE_BPF=y and =n
#   make doccheck    Documentation/filesystems/fuse-bpf.rst builds without warnings
#   make modcheck    fuse-bpf in a modular fuse (BUILD=1: build, load, run the suite)
#   make bpfcheck    the series' test_progs test in selftests/bpf (after modcheck BUILD=1)
#   make bench       quick side-by-side benchmark in one VM boot, and classic
#                    FUSE on the CONFIG_FUSE_BPF=n kernel beside it
#   make bench-full  the full benchmark (several hours, counting instructions)
#   make bench-cost  what CONFIG_FUSE_BPF=y costs classic FUSE mounts (=y vs =n)
#   make xfstests    xfstests side by side: bare tmpfs/ext4, overlayfs, fuse-bpf
#                    without and with a daemon (about two hours)
#   make fuzz        the differential fuzzer: a million operations, mount vs tmpfs
#   make faults      fuse-bpf paths under fail-nth fault injection (debug kernel)
#   make soak        fsstress on a fuse-bpf mount with filters, debug kernel
#   make deps        install the Debian packages the harness needs

H := harness
SHELL := /bin/bash
# BUILD=1 (make modcheck) is a switch here, while the scripts take BUILD
# from the environment as the build folder, and the kselftest Makefile as
# its output folder: keep it out of their environment and MAKEFLAGS.
unexport BUILD
MAKEOVERRIDES := $(filter-out BUILD=%,$(MAKEOVERRIDES))

.PHONY: all demo test tree sync status kernel selftests sample vm series checkpatch warncheck bench deps clean

all: demo

deps:
	@bash $(H)/deps.sh

tree: deps
	@bash $(H)/tree.sh create

sync:
	@bash $(H)/tree.sh sync

status:
	@bash $(H)/tree.sh status

kernel: tree
	@bash $(H)/kbuild.sh

selftests: kernel
	@bash $(H)/selftests.sh

sample: selftests
	@bash $(H)/sample.sh

vm:
	@bash $(H)/vm.sh -- $(CMD)

test: selftests
	@bash $(H)/test.sh

demo: selftests
	@bash $(H)/demo.sh

series: tree
	@bash $(H)/series.sh

checkpatch: series
	@bash $(H)/checkpatch.sh

.PHONY: series-build
series-build: series
	@bash $(H)/series-build.sh

warncheck: kernel
	@bash $(H)/warncheck.sh

.PHONY: doccheck
doccheck: tree
	@bash $(H)/doccheck.sh

.PHONY: modcheck
modcheck: tree $(if $(BUILD),selftests)
	@bash $(H)/modcheck.sh $(if $(BUILD),--build)

.PHONY: bpfcheck
bpfcheck: tree
	@bash $(H)/bpfcheck.sh

bench: selftests
	@bash $(H)/bench.sh quick

.PHONY: bench-cost
bench-cost: selftests
	@bash $(H)/bench-cost.sh

.PHONY: bench-full
bench-full: selftests
	@bash $(H)/bench.sh full

.PHONY: xfstests fuzz faults soak
xfstests: selftests
	@bash $(H)/xfstests.sh

fuzz: selftests
	@bash $(H)/fuzz.sh

faults: tree
	@bash $(H)/faults.sh

soak: tree
	@bash $(H)/soak.sh

clean:
	rm -rf build/kernel build/kernel-debug build/vm build/series
