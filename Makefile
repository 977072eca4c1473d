# Thin wrapper over CMake: make, make run, make test, make bench, make fuzz, make install,
# make build-matrix.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
LISTEN     ?= 127.0.0.1:7007
SERVICE    ?= echo

.PHONY: all build build-deps bench-deps run test test-deps unit asan tsan bench install clean format format-check fuzz layers \
        build-matrix build-matrix-quick matrix-build man fault-table

all: build

# Profile-guided optimization (gcc; PGO=0 turns it off): an instrumented
# CLI, built in $(BUILD)-pgo, serves and loads itself on loopback for about
# ten seconds (tools/pgo-train.sh), and $(BUILD) is built from that profile.
# The profile is made once per build directory (make clean makes a fresh
# one); code edited since is built as without it. No gcc, or a training run
# that fails: the build goes on without a profile.
PGO       ?= 1
PGO_GEN   := $(BUILD)-pgo
PGO_DIR   := $(abspath $(BUILD))-profile
PGO_STAMP := $(PGO_DIR)/trained
ifeq ($(PGO),1)
PGO_FLAGS := -DSOCKIT_PGO=use -DSOCKIT_PGO_DIR=$(PGO_DIR)
else
PGO_FLAGS := -DSOCKIT_PGO=
endif

.PHONY: pgo-profile
pgo-profile:
	@if [ "$(PGO)" = 1 ] && [ ! -e $(PGO_STAMP) ]; then $(MAKE) --no-print-directory $(PGO_STAMP); fi

$(PGO_STAMP):
	@rm -rf $(PGO_DIR) && mkdir -p $(PGO_DIR)
	@if $${CC:-cc} --version 2>/dev/null | grep -q 'Free Software Foundation'; then \
	    echo "pgo: an instrumented build in $(PGO_GEN) and its training run"; \
	    { cmake -S . -B $(PGO_GEN) -DSOCKIT_PGO=generate -DSOCKIT_PGO_DIR=$(PGO_DIR) >/dev/null && \
	      cmake --build $(PGO_GEN) -j$(JOBS) --target sockit >$(PGO_DIR)/build.log 2>&1 && \
	      bash tools/pgo-train.sh $(PGO_GEN)/sockit; } || \
	    { echo "pgo: no profile (see $(PGO_DIR)/build.log); building without one" >&2; \
	      rm -f $(PGO_DIR)/*.gcda; }; \
	else echo "pgo: the compiler is not gcc: building without a profile"; fi
	@touch $@

# A plain build needs only the build packages: the test suite (and cmocka)
# is configured by make test alone.
build: build-deps
	@$(MAKE) --no-print-directory pgo-profile
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(PGO_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

run: build
	@echo "sockit: serving $(SERVICE) on $(LISTEN). In another terminal try:"
	@echo "    nc 127.0.0.1 7007            (type a line, see it echoed; ^C to quit)"
	@printf '%s\n' "    printf 'hi\\n' | $(BUILD)/sockit connect 127.0.0.1:7007"
	@echo "Stop the server with ^C."
	$(BUILD)/sockit serve --service $(SERVICE) --listen $(LISTEN) -v

# Installs what the suite needs, checks the formatting, builds Release with
# gcc and clang, then runs the suite in a normal build, an AddressSanitizer +
# UBSan build, and a ThreadSanitizer build of the tests that run several
# threads (thread and hybrid models, deferred work). Warnings are errors in
# every build make test does (SOCKIT_WERROR; a plain make does not use it).
# The fault suite (ctest label fault) runs in the first two; its rows are
# gathered into fault/results.{tsv,json} and fault/table.md of each build.
FAULT_TABLE = /usr/bin/python3 tests/fault/table.py

test: test-deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory build-matrix-quick
	@$(MAKE) --no-print-directory pgo-profile
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSOCKIT_TESTS=ON -DSOCKIT_WERROR=ON $(PGO_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j2
	$(FAULT_TABLE) $(BUILD) >$(BUILD)/fault/table.md
	cmake -S . -B $(ASAN_BUILD) -DSOCKIT_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DSOCKIT_TESTS=ON \
		-DSOCKIT_WERROR=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j2
	$(FAULT_TABLE) $(ASAN_BUILD) >$(ASAN_BUILD)/fault/table.md
	$(MAKE) tsan

tsan: test-deps
	cmake -S . -B $(TSAN_BUILD) -DSOCKIT_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug -DSOCKIT_TESTS=ON \
		-DSOCKIT_WERROR=ON
	cmake --build $(TSAN_BUILD) -j$(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		ctest --output-on-failure -j2 -R 'model_thread|model_hybrid|test_defer|t_limits|t_chat|t_exec|t_lifecycle|t_etcd|t_mdns_conflict|t_mdns_conform'

# The fault suite alone in the normal build, and its table written into
# docs/reliability.md between the fault-table markers.
fault-table: test-deps
	@$(MAKE) --no-print-directory pgo-profile
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSOCKIT_TESTS=ON -DSOCKIT_WERROR=ON $(PGO_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)
	rm -rf $(BUILD)/fault/rows
	cd $(BUILD) && ctest --output-on-failure -j2 -L fault
	$(FAULT_TABLE) $(BUILD) --update docs/reliability.md

# Every build type with both compilers, warnings as errors, tests compiled
# but not run: the optimisers see more (and warn about more) than Debug.
# build-matrix-quick (part of make test) is Release alone; build-matrix is
# all eight, into build-<type>-<compiler> (build-release-gcc, ...).
MATRIX_TYPES     ?= Debug RelWithDebInfo Release MinSizeRel
MATRIX_COMPILERS ?= gcc clang

build-matrix-quick: test-deps
	@$(MAKE) --no-print-directory matrix-build MATRIX_TYPES=Release

build-matrix: test-deps
	@$(MAKE) --no-print-directory matrix-build

# One configure and build per type and compiler; stops at the first failure.
matrix-build:
	@set -e; for t in $(MATRIX_TYPES); do for c in $(MATRIX_COMPILERS); do \
	    d=build-$$(echo $$t | tr A-Z a-z)-$$c; \
	    echo "build-matrix: $$t with $$c in $$d"; \
	    cmake -S . -B $$d -DCMAKE_C_COMPILER=$$c -DCMAKE_BUILD_TYPE=$$t -DSOCKIT_TESTS=ON -DSOCKIT_WERROR=ON >/dev/null; \
	    cmake --build $$d -j$(JOBS) >$$d/build.log 2>&1 || { tail -40 $$d/build.log >&2; \
	        echo "build-matrix: $$t with $$c failed (log: $$d/build.log)" >&2; exit 1; }; \
	done; done

test-deps:
	@bash tests/install-deps.sh

build-deps:
	@bash tests/install-deps.sh --build

bench-deps:
	@bash tests/install-deps.sh --bench

# Benchmarks against nginx, wrk and iperf3 (minutes; not part of make test).
bench: bench-deps build
	bash bench/run-all.sh

# The prefix is given at install time, so PREFIX=... is honoured whatever
# the build directory was configured with.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# libFuzzer targets, built with clang outside CMake: tests/fuzz/fuzz_NAME.c
# links src/codec/NAME.c and src/codec/NAME_*.c (dns: dns_write.c), with the helpers
# codec files share (src/codec/*_common.c) and base/error.c, and runs FUZZ_SECONDS from its seed corpus
# tests/fuzz/corpus/NAME; new inputs collect in $(FUZZ_BUILD). FUZZ_ONLY=NAME
# runs one target.
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_FLAGS   ?= -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -fno-sanitize-recover=all \
                -fsanitize=fuzzer,address,undefined -Iinclude -Isrc
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_COMMON  := $(wildcard src/codec/*_common.c)
ifdef FUZZ_ONLY
FUZZ_TARGETS := $(FUZZ_ONLY)
endif

fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: needs clang with libFuzzer (apt-get install clang)" >&2; exit 1; }
	@mkdir -p $(FUZZ_BUILD)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_$$t.c src/codec/$$t.c $$(ls src/codec/$${t}_*.c 2>/dev/null | grep -v _common) $(FUZZ_COMMON) src/base/error.c -o $(FUZZ_BUILD)/fuzz_$$t; \
	    mkdir -p $(FUZZ_BUILD)/corpus-$$t tests/fuzz/corpus/$$t; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=20000 -print_final_stats=1 $$dict \
	        -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus-$$t tests/fuzz/corpus/$$t; \
	done

# docs/sockit.1 from docs/sockit.1.in and the option tables (the test
# integration/t_man fails while the committed page is stale).
man: build
	cmake --build $(BUILD) --target man

clean:
	rm -rf $(BUILD) $(PGO_GEN) $(PGO_DIR) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(foreach c,$(MATRIX_COMPILERS),build-*-$(c))

# Every C file the project writes, formatted by .clang-format; make test runs
# format-check, so the tree stays formatted.
FORMAT_FILES = $(wildcard include/sockit/*.h src/*/*.[ch] tests/unit/*.c tests/fuzz/*.c bench/*.c examples/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@command -v clang-format >/dev/null || { echo "make format-check: needs clang-format" >&2; exit 1; }
	@bad=$$(for f in $(FORMAT_FILES); do clang-format "$$f" | cmp -s - "$$f" || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "format-check: not formatted (run make format):" $$bad >&2; exit 1; fi; \
	echo "format-check: $(words $(FORMAT_FILES)) files formatted"

