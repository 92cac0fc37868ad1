# ssl-session: build, test, demo, benchmark and install (GNU make).
#
#   make            cargo build --release, and check that include/ssl.h is current
#   make header     regenerate include/ssl.h (commit it)
#   make demo       build, then compile and run examples/demo.c against the library
#   make check      the whole test suite (cargo test --release: Rust, C programs, valgrind)
#   make bench      build, then run bench/bench.c: libssl and ours side by side
#   make install    copy the built library, header and pkg-config file (builds nothing:
#                   run make first); PREFIX=/usr/local, DESTDIR for staging
#   make uninstall  remove what make install copied (same PREFIX and DESTDIR)
#   make clean      cargo clean
#
# cargo builds into $(CARGO_TARGET_DIR) (default: target/ here; an environment setting
# is honoured); the release library is $(CARGO_TARGET_DIR)/release/libssl_session.so.

CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
RELEASE := $(CARGO_TARGET_DIR)/release
# Where make install takes libssl_session.so and .a from.
BUILD_DIR ?= $(RELEASE)

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
# The SONAME build.rs sets, and the file name make install gives the library.
SONAME := libssl_session.so.$(MAJOR)
REALNAME := libssl_session.so.$(VERSION)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
INSTALL ?= install
# Run after a real install or uninstall (no DESTDIR) as root, to update the loader cache.
LDCONFIG ?= ldconfig

DEMO_CFLAGS ?= -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra

.PHONY: all build header demo check bench install uninstall clean

all: build
	$(CARGO) test --release --test header

# The link named by the SONAME lets programs linked here with -lssl_session run
# (with -Wl,-rpath to this directory), as ldconfig's link does once installed.
build:
	$(CARGO) build --release
	ln -sf libssl_session.so $(RELEASE)/$(SONAME)

header:
	SSL_SESSION_WRITE_HEADER=1 $(CARGO) test --release --test header committed_header_is_current

demo: build
	$(CC) $(DEMO_CFLAGS) -Iinclude -o $(RELEASE)/demo examples/demo.c \
		-L$(RELEASE) -Wl,-rpath,$(abspath $(RELEASE)) -lssl_session
	$(RELEASE)/demo

check:
	$(CARGO) test --release

bench: build
	$(CC) -O2 -o $(RELEASE)/bench bench/bench.c -ldl -pthread
	$(RELEASE)/bench $(RELEASE)/libssl_session.so

$(BUILD_DIR)/libssl_session.so $(BUILD_DIR)/libssl_session.a:
	@echo "$@ is missing: run make (cargo build --release) before make install" >&2
	@exit 1

install: $(BUILD_DIR)/libssl_session.so $(BUILD_DIR)/libssl_session.a
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/ssl-session
	$(INSTALL) -m 755 $(BUILD_DIR)/libssl_session.so $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sfn $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libssl_session.so
	$(INSTALL) -m 644 $(BUILD_DIR)/libssl_session.a $(DESTDIR)$(LIBDIR)/libssl_session.a
	$(INSTALL) -m 644 include/ssl.h $(DESTDIR)$(INCLUDEDIR)/ssl-session/ssl.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		ssl-session.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ssl-session.pc
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then echo $(LDCONFIG); $(LDCONFIG); fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libssl_session.so $(DESTDIR)$(LIBDIR)/libssl_session.a \
		$(DESTDIR)$(INCLUDEDIR)/ssl-session/ssl.h $(DESTDIR)$(PKGCONFIGDIR)/ssl-session.pc
	if [ -d $(DESTDIR)$(INCLUDEDIR)/ssl-session ]; then \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)$(INCLUDEDIR)/ssl-session; fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then echo $(LDCONFIG); $(LDCONFIG); fi

clean:
	$(CARGO) clean
