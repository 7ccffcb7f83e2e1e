# vsw - top-level entry: `make` builds, `make check` tests, `make bench` measures.
#
#   make run             vswd on a built-in default: two QEMU guests ping through it
#                        (KEEP=1: leave them running for a look with vswctl)
#   make                 library, tools and tests into build/
#   make check           unit, hostile and stress tests; then the unit tests
#                        again under ASan+UBSan (build/asan)
#   make bench           the benchmarks: rings, switching, containers, scale (docs/PERFORMANCE.md)
#   make fuzz            libFuzzer targets with clang (build/fuzz)
#   make fuzz-run        a short run of every fuzz target over its seed corpus
#   make install         tools, man pages, systemd unit, config, completion (PREFIX, DESTDIR)
#
# CC=clang works too; SAN=1 builds with ASan+UBSan; BUILD=dir picks the output.
# Missing Debian packages are installed by scripts/install-deps.sh first.

CC ?= cc
BUILD ?= build
SAN ?=
FUZZ_SECONDS ?= 30

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wvla -Wformat=2 -Wundef -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -pthread -D_GNU_SOURCE -Iinclude -Isrc $(WARN) $(CFLAGS)
LDLIBS := -pthread
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDLIBS += -fsanitize=address,undefined
endif
# Hardening, gcc and clang alike: stack canaries, a position-independent
# executable, full RELRO (GOT read-only after start).  _FORTIFY_SOURCE only
# where it works: with -O2 and up (it warns at -O0/-O1, i.e. in the fuzz
# build) and not under ASan, which checks the same calls more closely.
HARDEN_CFLAGS := -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
ifneq ($(filter -O2 -O3 -Os,$(CFLAGS)),)
ifneq ($(SAN),1)
HARDEN_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
endif
ALL_CFLAGS += $(HARDEN_CFLAGS)
LDLIBS += $(HARDEN_LDFLAGS)

LIB_SRCS := $(sort $(wildcard src/*/*.c))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
LIB := $(BUILD)/libvsw.a

TEST_LIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TEST_LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TEST_LIB_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
STRESS_TESTS := $(patsubst tests/stress/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/stress/*.c)))
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(sort $(wildcard bench/*.c)))
TOOLS := $(patsubst tools/%.c,$(BUILD)/%,$(sort $(wildcard tools/*.c)))
# Control plane and port types: JSON, libpcap (capture, pcap ports), libxdp/libbpf (AF_XDP).
JSON_LIBS := -ljson-c -lpcap -lxdp -lbpf
FUZZERS := $(patsubst fuzz/%.c,build/fuzz/%,$(sort $(wildcard fuzz/fuzz_*.c)))

.PHONY: all deps run check bench fuzz fuzz-run clean
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory binaries

.PHONY: binaries
binaries: $(LIB) $(TOOLS) $(UNIT_TESTS) $(STRESS_TESTS) $(BENCHES)

deps:
	@scripts/install-deps.sh

# V=1 shows the full command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

.SECONDARY:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(TEST_LIB_OBJS) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka $(JSON_LIBS) $(LDLIBS)

# It sees each ring flush of a transmit burst as it happens (__wrap_vq_flush() in the test).
$(BUILD)/tests/test_port_vhost_migration: LDLIBS += -Wl,--wrap=vq_flush

$(BUILD)/vsw%: $(BUILD)/tools/vsw%.o $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(JSON_LIBS) $(LDLIBS)

# vswd tells systemd when it is ready, reloading and stopping (sd_notify; nothing without NOTIFY_SOCKET).
$(BUILD)/vswd: JSON_LIBS += -lsystemd

$(BUILD)/tests/%: $(BUILD)/tests/stress/%.o $(TEST_LIB_OBJS) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(JSON_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# A switch with ports: the capture hook's libpcap comes along.
$(BUILD)/bench/bench_flow_commit $(BUILD)/bench/bench_flow_storm: LDLIBS += -lpcap
# A port made from JSON parameters.
$(BUILD)/bench/bench_vxlan: LDLIBS += $(JSON_LIBS)

run: deps
	@$(MAKE) --no-print-directory binaries
	@scripts/install-deps.sh --scenarios
	@python3 scripts/demo.py --build $(BUILD) $(if $(KEEP),--keep)

# Everything the test runner needs, plus the ASan+UBSan unit tests.
check: deps
	@$(MAKE) --no-print-directory binaries
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 binaries
	@scripts/run-tests.sh $(BUILD) build/asan

# Includes point one way between the folders of src/ (also one test of `make check`).
.PHONY: check-includes
check-includes:
	@scripts/check-includes.sh

bench: deps
	@$(MAKE) --no-print-directory binaries
	@scripts/run-bench.sh $(BUILD)

# libFuzzer targets: clang, ASan+UBSan, the library compiled in.
FUZZ_CFLAGS := -std=gnu11 -pthread -D_GNU_SOURCE -Iinclude -Isrc $(WARN) -O1 -g \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# What the targets share with the unit tests (leak counts, device checks).
FUZZ_TEST_LIB := tests/lib/proc_counts.c tests/lib/stub_port.c
build/fuzz/%: fuzz/%.c $(LIB_SRCS) $(FUZZ_TEST_LIB) $(wildcard include/vsw/*.h src/*/*.h tests/lib/*.h)
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(FUZZ_TEST_LIB) $(JSON_LIBS)

# The control fuzzers add and delete ports by the hundred: the FDB's loops are not theirs to explore.
build/fuzz/fuzz_ctl_%: FUZZ_CFLAGS += -fsanitize-coverage-ignorelist=fuzz/ctl_coverage_ignore.txt

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZERS)

fuzz-run: fuzz
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

# make install [PREFIX=/usr/local] [DESTDIR=] - the tools, manual pages, systemd unit, default
# configuration (kept when one is there, unless DESTDIR stages a package) and bash completion.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/vsw
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

.PHONY: tools install uninstall
tools: $(TOOLS)

install: $(TOOLS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/vsw $(DESTDIR)$(COMPLETIONDIR) \
		$(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/vswd $(BUILD)/vswctl $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BUILD)/vsw-bench $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/man/vsw-bench.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/man/vsw.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/man/vswd.8 docs/man/vswctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/VSWD.md docs/FLOWS.md $(DESTDIR)$(DOCDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/vswd.service.in \
		> $(DESTDIR)$(UNITDIR)/vswd.service && chmod 0644 $(DESTDIR)$(UNITDIR)/vswd.service
	install -m 0644 dist/vswctl.bash $(DESTDIR)$(COMPLETIONDIR)/vswctl
	@if [ -n "$(DESTDIR)" ] || [ ! -e $(SYSCONFDIR)/vsw/vswd.json ]; then \
		install -m 0644 dist/vswd.json $(DESTDIR)$(SYSCONFDIR)/vsw/vswd.json; \
	else echo "  keeping $(SYSCONFDIR)/vsw/vswd.json"; fi
	@[ -n "$(DESTDIR)" ] || getent group vsw >/dev/null || \
		echo "  the service's control group is missing: groupadd --system vsw (then systemctl daemon-reload)"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vswd $(DESTDIR)$(SBINDIR)/vswctl $(DESTDIR)$(BINDIR)/vsw-bench \
		$(DESTDIR)$(MANDIR)/man1/vsw-bench.1 $(DESTDIR)$(MANDIR)/man5/vsw.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/vswd.8 $(DESTDIR)$(MANDIR)/man8/vswctl.8 $(DESTDIR)$(UNITDIR)/vswd.service \
		$(DESTDIR)$(COMPLETIONDIR)/vswctl
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
