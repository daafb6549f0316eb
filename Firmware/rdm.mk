# The lighting side of the firmware: RDM responders and the USB-Pro widget (core/rdm),
# the widget emulator host and its tests. Included by Firmware/Makefile or run alone:
#   make -f rdm.mk            builds build/ledsentry-widget-emu
#   make -f rdm.mk rdm-test   runs the C tests
RDM_DIR     := $(dir $(lastword $(MAKEFILE_LIST)))
RDM_BUILD   ?= $(RDM_DIR)build
RDM_CC      ?= cc
RDM_CFLAGS  ?= -std=c99 -O2 -g -Wall -Wextra -Werror -pedantic
RDM_CORE    := $(RDM_DIR)core/rdm/rdm.c $(RDM_DIR)core/rdm/rdm_responder.c \
               $(RDM_DIR)core/rdm/usbpro_widget.c
RDM_HEADERS := $(wildcard $(RDM_DIR)core/rdm/*.h) $(RDM_DIR)host/widget_host.h
RDM_HOST    := $(RDM_DIR)host/widget_host.c

.PHONY: rdm-all rdm-test rdm-clean
rdm-all: $(RDM_BUILD)/ledsentry-widget-emu

$(RDM_BUILD)/ledsentry-widget-emu: $(RDM_CORE) $(RDM_HOST) $(RDM_DIR)host/widget_emu_main.c $(RDM_HEADERS)
	@mkdir -p $(RDM_BUILD)
	$(RDM_CC) $(RDM_CFLAGS) -o $@ $(RDM_CORE) $(RDM_HOST) $(RDM_DIR)host/widget_emu_main.c

$(RDM_BUILD)/test_rdm: $(RDM_CORE) $(RDM_DIR)tests/test_rdm.c $(RDM_HEADERS)
	@mkdir -p $(RDM_BUILD)
	$(RDM_CC) $(RDM_CFLAGS) -fsanitize=address,undefined -o $@ $(RDM_CORE) $(RDM_DIR)tests/test_rdm.c

rdm-test: $(RDM_BUILD)/test_rdm rdm-all
	$(RDM_BUILD)/test_rdm

rdm-clean:
	rm -f $(RDM_BUILD)/ledsentry-widget-emu $(RDM_BUILD)/test_rdm
