#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build what the demo needs, boot the VM, run
# harness/demo-guest.sh inside it.
. "$(dirname "$0")/lib.sh"

demo=$BUILD/demo
mkdir -p "$demo"
ex=/usr/share/doc/libfuse3-dev/examples
[ -f "$ex/passthrough_ll.c" ] || die "libfuse3 examples missing: run 'make deps'"
if [ ! -x "$demo/passthrough_ll" ] || [ "$ex/passthrough_ll.c" -nt "$demo/passthrough_ll" ]; then
	note "building libfuse's passthrough_ll example"
	gcc -O2 -Wall -o "$demo/passthrough_ll" "$ex/passthrough_ll.c" \
		$(pkg-config --cflags --libs fuse3) ||
		die "cannot build $ex/passthrough_ll.c"
fi
sample=$(bash "$REPO/harness/sample.sh") || die "the sample daemon does not build"
exec bash "$REPO/harness/vm.sh" --name demo --timeout 600 -- \
	"FBT_DEMO='$demo' FBT_SAMPLE='$sample' KOUT='$(kernel_out)' bash '$REPO/harness/demo-guest.sh'"
