# Qubes OS Admin API in C: lib/ -> broker/, services/; tests; install.
#
#   make            build everything (installs missing Debian packages first)
#   make check      every test: unit, bats, conformance replay, ASan+UBSan
#                   build of all that, fuzz smoke runs
#   make demo       start a broker on a temporary dir and walk through calls
#   make bench      benchmarks (table on stdout)
#   make install DESTDIR=...
#
# O=DIR puts every build product under DIR (the sanitizer build uses
# O=build-asan SAN=1).  Binaries land in $(O)/broker, $(O)/services.

O	?= .
SAN	?=
PREFIX	?= /usr
SYSCONFDIR ?= /etc
DESTDIR	?=

# Missing Debian packages are installed before anything is evaluated, so
# that pkg-config below already sees them on a fresh machine.  DEPS=no
# skips it (sub-makes, machines managed by hand).
ifneq ($(DEPS),no)
DEPS_OK := $(shell sh scripts/install-deps >&2 && echo ok)
ifneq ($(DEPS_OK),ok)
$(error scripts/install-deps failed)
endif
endif

CC	?= cc
PKGS	:= libxml-2.0 libvirt jansson libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Werror -Wvla -Wformat=2 -Wshadow \
	   -Wstrict-prototypes -Wmissing-prototypes
HARDEN	:= -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS	?= -O2 -g
ifeq ($(SAN),1)
CFLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
LDSAN	:= -fsanitize=address,undefined
HARDEN	:= -fPIE
endif
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Ilib -Ibroker \
	      $(PKG_CFLAGS)
LDFLAGS	+= -pie -Wl,-z,relro,-z,now $(LDSAN)

B	:= $(O)/build
LIB_SRC	:= $(wildcard lib/*.c)
LIB_OBJ	:= $(LIB_SRC:%.c=$(B)/%.o)
LIBA	:= $(B)/libadmin.a
BROKER_SRC := $(filter-out broker/main.c,$(wildcard broker/*.c))
BROKER_OBJ := $(BROKER_SRC:%.c=$(B)/%.o)
BROKERA	:= $(B)/libbroker.a
BROKER	:= $(O)/broker/qubes-broker
SERVICE_MAINS := $(wildcard services/*.c)
SERVICES := $(SERVICE_MAINS:services/%.c=$(O)/services/%)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS	:= $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOLS	:= $(TOOL_SRC:tests/tools/%.c=$(B)/tests/tools/%)

.PHONY: all deps check unit bats replay asan fuzz-smoke demo bench install \
	clean readme readme-check links links-check
.SECONDARY:

POLICY_GEN := $(B)/policy/90-admin-default.policy

all: $(BROKER) $(SERVICES) $(UNITS) $(TOOLS) $(POLICY_GEN)

# The default admin policy comes from the call table.
$(POLICY_GEN): $(B)/tests/tools/api-table
	@mkdir -p $(dir $@)
	$< --policy > $@

deps:
	sh scripts/install-deps

$(B)/%.o: %.c $(wildcard lib/*.h broker/*.h lib/api/*.def)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BROKERA): $(BROKER_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BROKER): $(B)/broker/main.o $(BROKERA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(O)/services/%: $(B)/services/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(BROKERA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(B)/tests/tools/%: $(B)/tests/tools/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs libpcre2-8 2>/dev/null)

unit: all
	@set -e; for t in $(UNITS); do echo "# $$t"; $$t; done

bats: all
	BROKER=$(abspath $(BROKER)) SERVICES_DIR=$(abspath $(O)/services) \
	TOOLS_DIR=$(abspath $(B)/tests/tools) bats tests/bats

replay: all
	sh tests/replay.sh $(abspath $(BROKER)) $(abspath $(B)/tests/tools/replay)

asan:
	$(MAKE) O=build-asan SAN=1 DEPS=no all
	$(MAKE) O=build-asan SAN=1 DEPS=no LIST_MAX_MS=250 unit replay bats

fuzz-smoke:
	sh tests/fuzz/run.sh smoke

readme: all
	sh scripts/readme-table.sh $(B)/tests/tools/api-table

readme-check: all
	sh scripts/readme-table.sh $(B)/tests/tools/api-table --check

links: all
	sh scripts/links-list.sh $(B)/tests/tools/api-table

links-check: all
	sh scripts/links-list.sh $(B)/tests/tools/api-table --check

# Each suite stops the run on failure; the last line counts the suites.
check: all
	$(MAKE) DEPS=no readme-check
	$(MAKE) DEPS=no links-check
	$(MAKE) DEPS=no unit
	$(MAKE) DEPS=no replay
	$(MAKE) DEPS=no bats
	$(MAKE) DEPS=no asan
	$(MAKE) DEPS=no fuzz-smoke
	@echo "check: 7 passed, 0 failed"

demo: all
	bash scripts/demo.sh $(abspath $(BROKER)) $(abspath $(O)/services) \
	    $(abspath $(B)/tests/tools)

bench: all
	sh bench/run.sh

POLICYDIR := $(DESTDIR)$(SYSCONFDIR)/qubes/policy.d
LIBEXECDIR ?= $(PREFIX)/lib/qubes-admin

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 755 $(BROKER) $(DESTDIR)$(PREFIX)/sbin/qubes-broker
	install -m 755 $(O)/services/qubesd-query $(DESTDIR)$(PREFIX)/bin/qubesd-query
	install -d $(POLICYDIR)/include
	install -m 664 $(POLICY_GEN) policy-includes/85-admin-backup-restore.policy \
	    $(POLICYDIR)/
	install -m 664 policy-includes/admin-global-ro \
	    policy-includes/admin-global-rwx policy-includes/admin-local-ro \
	    policy-includes/admin-local-rwx $(POLICYDIR)/include/
	sh scripts/install-links.sh "$(DESTDIR)" $(O)/services $(LIBEXECDIR)
	install -m 664 policy-includes/90-admin-policy-default.policy $(POLICYDIR)/
	install -m 664 policy-includes/admin-policy-ro \
	    policy-includes/admin-policy-rwx $(POLICYDIR)/include/
	install -m 755 $(O)/services/qubes-policy-admin $(DESTDIR)$(LIBEXECDIR)/
	install -m 755 $(O)/services/qubes-policy $(DESTDIR)$(PREFIX)/bin/
	for c in List Get Replace Remove GetFiles include.List include.Get \
	    include.Replace include.Remove; do \
		ln -sfn $(LIBEXECDIR)/qubes-policy-admin \
		    $(DESTDIR)$(SYSCONFDIR)/qubes-rpc/policy.$$c; \
	done

clean:
	rm -rf build build-asan build-fuzz broker/qubes-broker \
	    $(SERVICE_MAINS:%.c=%)
