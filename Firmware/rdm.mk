# The lighting side of the firmware: C tests of core/rdm (RDM responders, USB-Pro widget).
# core/rdm/*.c and host/widget_host.c are built into ledsentry-emu by the Makefile
# (`ledsentry-emu --mode widget`). Included by Makefile: `make rdm-test`.
RDM_TEST_CFLAGS ?= -std=c99 -O1 -g -Wall -Wextra -Werror -pedantic -fsanitize=address,undefined

$(BUILD)/rdm-tests: tests/rdm/test_rdm.c $(wildcard core/rdm/*.c) $(wildcard core/rdm/*.h)
	@mkdir -p $(BUILD)
	$(CC) $(RDM_TEST_CFLAGS) tests/rdm/test_rdm.c $(wildcard core/rdm/*.c) -o $@

.PHONY: rdm-test
rdm-test: $(BUILD)/rdm-tests
	$(BUILD)/rdm-tests

# libFuzzer target for the widget and drivers (clang): `make rdm-fuzz-run` (RDM_FUZZ_SECONDS).
RDM_FUZZ_SECONDS ?= 120
$(BUILD)/rdm-fuzz: tests/rdm/widget_fuzz.c $(wildcard core/rdm/*.c) $(wildcard core/rdm/*.h)
	@mkdir -p $(BUILD)
	$(CLANG) -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fuse-ld=lld tests/rdm/widget_fuzz.c $(wildcard core/rdm/*.c) -o $@

.PHONY: rdm-fuzz-run
rdm-fuzz-run: $(BUILD)/rdm-fuzz
	@mkdir -p $(BUILD)/rdm-corpus
	$(BUILD)/rdm-fuzz -max_total_time=$(RDM_FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/ $(BUILD)/rdm-corpus
