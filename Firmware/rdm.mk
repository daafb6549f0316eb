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
