# ssl-session: build, test, demo, benchmark and install (GNU make).
#
#   make            cargo build --release, and check that include/ssl.h and
#                   docs/api-coverage.md are current (tools/gen; compiles no C)
#   make header     regenerate include/ssl.h (commit it)
#   make docs       regenerate docs/api-coverage.md from exports.txt (commit it)
#   make demo       build, then compile and run the examples (demo.c, inspect.c,
#                   psk_session.c) against the library
#   make check      the whole test suite (cargo test --release: Rust, C programs, valgrind);
#                   the C test programs are compiled here only (tests-c/, a dev-dependency)
#   make fleet      only tests/fleet.rs, with its report: two Apache httpd (mod_ssl), one
#                   preloaded, sharing a memcached session cache (needs apache2, memcached)
#   make bench      build, then run bench/bench.c: libssl and ours side by side;
#                   bench/forward.c and bench/handshake.c: the preload's costs
#   make install    copy the built library, header, pkg-config files and the
#                   ssl-session-check command (builds nothing: run make first);
#                   PREFIX=/usr/local, DESTDIR for staging. Runs ldconfig only as root,
#                   without DESTDIR, into one of the loader's directories
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
# The SONAME build.rs sets (with a link of that name beside the library it builds), and the
# file name make install gives the library.
SONAME := libssl_session.so.$(MAJOR)
REALNAME := libssl_session.so.$(VERSION)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
# Holds only a link to $(LIBDIR)/libssl_session.a: `pkg-config --static` puts it first in
# the search path, so that -lssl_session finds the archive there (see ssl-session.pc.in).
STATICDIR = $(LIBDIR)/ssl-session
INSTALL ?= install
# Updates the loader's cache after an install or uninstall without DESTDIR, as root, into
# one of the directories the cache covers (ld.so.conf's and the built-in ones, as ldconfig
# -v lists them). A private PREFIX is not one: its programs find the library by rpath.
LDCONFIG ?= ldconfig
LOADER_DIRS ?= $(shell ldconfig -vNX 2>/dev/null | sed -n 's|^\(/[^:]*\):.*|\1|p')
define ldconfig_if_system
	@lib=$$(realpath -m '$(LIBDIR)'); system=; \
	for d in $(LOADER_DIRS); do [ "$$(realpath -m "$$d")" != "$$lib" ] || system=1; done; \
	if [ -n '$(DESTDIR)' ]; then :; \
	elif [ -z "$$system" ]; then \
		echo "ldconfig not run: $(LIBDIR) is not one of the loader's directories"; \
	elif [ "$$(id -u)" != 0 ]; then echo "ldconfig not run: not root"; \
	else echo $(LDCONFIG); $(LDCONFIG); fi
endef

DEMO_CFLAGS ?= -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra

.PHONY: all build header docs demo check fleet bench install uninstall clean

# The generator of include/ssl.h and docs/api-coverage.md (tools/gen), in the release
# profile: it shares its cbindgen build with the tests' (make check).
GEN = $(CARGO) run --release --quiet -p ssl-session-gen --

all: build
	$(GEN) header --check
	$(GEN) docs --check

# build.rs leaves the link $(SONAME) -> libssl_session.so beside the library, so programs
# linked here with -lssl_session run (with -Wl,-rpath to this directory).
build:
	$(CARGO) build --release

header:
	$(GEN) header

docs:
	$(GEN) docs

# The examples: demo.c (the API's tour), inspect.c (what a session file holds: the text of
# openssl sess_id -text, and every getter) and psk_session.c (a TLS 1.3 PSK session file),
# run on the sessions in examples/sessions/.
DEMO_LINK = -L$(RELEASE) -Wl,-rpath,$(abspath $(RELEASE)) -lssl_session
DEMO_PSK = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
# The demo's programs as the commands it prints name them: relative to here when they are.
SHOWN := $(patsubst $(CURDIR)/%,%,$(RELEASE))

demo: build
	$(CC) $(DEMO_CFLAGS) -Iinclude -o $(RELEASE)/demo examples/demo.c $(DEMO_LINK)
	$(CC) $(DEMO_CFLAGS) -Iinclude -o $(RELEASE)/inspect examples/inspect.c $(DEMO_LINK) -lcrypto
	$(CC) $(DEMO_CFLAGS) -Iinclude -o $(RELEASE)/psk_session examples/psk_session.c \
		$(DEMO_LINK) -lcrypto
	$(RELEASE)/demo
	@echo
	@echo '==> inspect -text: what openssl sess_id -text prints (a TLS 1.2 session from s_client)'
	@echo '$$ $(SHOWN)/inspect -text examples/sessions/s2_tls12_noticket.pem'
	@$(RELEASE)/inspect -text examples/sessions/s2_tls12_noticket.pem
	@echo
	@echo '==> inspect -getters: a TLS 1.3 session from s_client, through the getters'
	@echo '$$ $(SHOWN)/inspect -getters examples/sessions/s3_tls13.pem'
	@$(RELEASE)/inspect -getters examples/sessions/s3_tls13.pem
	@echo
	@echo '==> psk_session: a TLS 1.3 PSK session file, for openssl s_client -psk_session'
	@echo '$$ $(SHOWN)/psk_session -early_data 16384 $(DEMO_PSK) TLS_AES_128_GCM_SHA256 \'
	@echo '    demo-client > $(SHOWN)/demo-psk.pem'
	@$(RELEASE)/psk_session -early_data 16384 $(DEMO_PSK) TLS_AES_128_GCM_SHA256 demo-client \
		> $(RELEASE)/demo-psk.pem
	@cat $(RELEASE)/demo-psk.pem
	@echo '$$ $(SHOWN)/inspect -text $(SHOWN)/demo-psk.pem'
	@$(RELEASE)/inspect -text $(RELEASE)/demo-psk.pem
	@echo "(Timeout: 304 and Verify return code: 1 are SSL_SESSION_new's defaults, the same as"
	@echo " OpenSSL's: psk_session sets neither. Start Time is when the file was made.)"
	@echo
	@echo '$(SHOWN)/inspect FILE... reports everything (i2d, PEM, print, key log, getters, dup);'
	@echo '$(SHOWN)/inspect -outform PEM|DER|NSS FILE writes it as openssl sess_id -outform does.'

check:
	$(CARGO) test --release

fleet:
	$(CARGO) test --release --test fleet -- --nocapture

bench: build
	$(CC) -O2 -o $(RELEASE)/bench bench/bench.c -ldl -pthread
	$(RELEASE)/bench $(RELEASE)/libssl_session.so
	@echo
	@echo "forwarding a libssl session through a preloaded ssl-session (overhead per call):"
	$(CC) -O2 -o $(RELEASE)/forward bench/forward.c -lssl -lcrypto -ldl
	@echo "(sanitizer of libssl's sessions off: plain forwarding)"
	LD_PRELOAD=$(RELEASE)/libssl_session.so SSL_SESSION_SANITIZE=0 $(RELEASE)/forward
	@echo "(sanitizer on, the default: up_ref + free budget is 30 ns above direct)"
	LD_PRELOAD=$(RELEASE)/libssl_session.so $(RELEASE)/forward
	@echo
	@echo "handshakes with and without the preload (budget: on/none >= 0.97):"
	$(CC) -O2 -o $(RELEASE)/handshake bench/handshake.c -lssl -lcrypto
	$(RELEASE)/handshake --compare $(RELEASE)/libssl_session.so

$(BUILD_DIR)/libssl_session.so $(BUILD_DIR)/libssl_session.a:
	@echo "$@ is missing: run make (cargo build --release) before make install" >&2
	@exit 1

install: $(BUILD_DIR)/libssl_session.so $(BUILD_DIR)/libssl_session.a
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(STATICDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/ssl-session $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(BUILD_DIR)/libssl_session.so $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sfn $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libssl_session.so
	$(INSTALL) -m 644 $(BUILD_DIR)/libssl_session.a $(DESTDIR)$(LIBDIR)/libssl_session.a
	ln -sfn ../libssl_session.a $(DESTDIR)$(STATICDIR)/libssl_session.a
	$(INSTALL) -m 644 include/ssl.h $(DESTDIR)$(INCLUDEDIR)/ssl-session/ssl.h
	for pc in ssl-session ssl-session-libdir; do \
		sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
			-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
			$$pc.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/$$pc.pc || exit 1; \
	done
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@MAJOR@|$(MAJOR)|g' tools/ssl-session-check \
		> $(DESTDIR)$(BINDIR)/ssl-session-check
	chmod 755 $(DESTDIR)$(BINDIR)/ssl-session-check
	$(ldconfig_if_system)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libssl_session.so $(DESTDIR)$(LIBDIR)/libssl_session.a \
		$(DESTDIR)$(STATICDIR)/libssl_session.a \
		$(DESTDIR)$(INCLUDEDIR)/ssl-session/ssl.h $(DESTDIR)$(PKGCONFIGDIR)/ssl-session.pc \
		$(DESTDIR)$(PKGCONFIGDIR)/ssl-session-libdir.pc $(DESTDIR)$(BINDIR)/ssl-session-check
	for d in $(DESTDIR)$(INCLUDEDIR)/ssl-session $(DESTDIR)$(STATICDIR); do \
		if [ -d $$d ]; then rmdir --ignore-fail-on-non-empty $$d; fi; done
	$(ldconfig_if_system)

clean:
	$(CARGO) clean
