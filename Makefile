# Thin wrapper over CMake: make, make run, make test, make bench, make install.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
LISTEN     ?= 127.0.0.1:7007
SERVICE    ?= echo

.PHONY: all build run test test-deps unit asan tsan bench install clean format

all: build

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

run: build
	@echo "sockit: serving $(SERVICE) on $(LISTEN). In another terminal try:"
	@echo "    nc 127.0.0.1 7007            (type a line, see it echoed; ^C to quit)"
	@echo "    printf 'hi\\n' | $(BUILD)/sockit connect 127.0.0.1:7007"
	@echo "Stop the server with ^C."
	$(BUILD)/sockit serve --service $(SERVICE) --listen $(LISTEN) -v

# Installs what the suite needs, then runs it twice: a normal build and an
# AddressSanitizer + UBSan build.
test: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j2
	cmake -S . -B $(ASAN_BUILD) -DSOCKIT_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j2

test-deps:
	@bash tests/install-deps.sh

# Benchmarks against nginx, wrk and iperf3 (minutes; not part of make test).
bench: build
	bash bench/run-all.sh

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

format:
	clang-format -i include/sockit/*.h src/*/*.[ch] tests/unit/*.c
