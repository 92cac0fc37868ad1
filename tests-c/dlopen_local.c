// A program that is not linked with libssl: it dlopen()s libssl.so.3 with RTLD_LOCAL at
// run time, as CPython's _ssl and Perl's Net::SSLeay do, and runs in-process TLS
// handshakes over a socketpair: TLS 1.2 with tickets, TLS 1.2 with session IDs, TLS 1.3,
// each resumed from libssl's session and from a DER copy read back with
// d2i_SSL_SESSION, then the cipher accessors on libssl's cipher and on the copy's.
//
// Session and cipher functions are looked up as a module's own references would bind:
// in the global scope first (where a preloaded libssl_session.so defines them), else in
// libssl's handle. So, preloaded, the program's calls reach ssl-session, and libssl's own
// calls (SSL_SESSION_new in its handshakes) reach it too. The output must not depend on
// whether ssl-session is preloaded.
//
// Usage: dlopen_local CERT KEY [local|late|reload] [LIBSSL [SECOND]]
//   local   dlopen LIBSSL (default libssl.so.3) first
//   late    first make and free 100 sessions with the global SSL_SESSION_new
//           (ssl-session's, preloaded; REQUIRE_GLOBAL=1 makes its absence an error),
//           then dlopen LIBSSL
//   reload  run the flows, dlclose LIBSSL (says whether it was unloaded: libssl.so.3 is
//           linked NODELETE), dlopen SECOND (default LIBSSL; another path gives a second
//           libssl in the process) and run them again
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef void V;
static void *lib;

static void *sym_in(void *h, const char *name) {
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "missing symbol %s\n", name);
        exit(2);
    }
    return p;
}

// A session or cipher function: the global definition if there is one, else libssl's.
static void *api(const char *name) {
    void *p = dlsym(RTLD_DEFAULT, name);
    return p ? p : sym_in(lib, name);
}

#define FN(ret, name, args) static ret(*name) args
FN(V *, TLS_method, (void));
FN(V *, SSL_CTX_new, (V *));
FN(void, SSL_CTX_free, (V *));
FN(int, SSL_CTX_use_certificate_chain_file, (V *, const char *));
FN(int, SSL_CTX_use_PrivateKey_file, (V *, const char *, int));
FN(long, SSL_CTX_ctrl, (V *, int, long, void *));
FN(unsigned long long, SSL_CTX_set_options, (V *, unsigned long long));
FN(int, SSL_CTX_set_session_id_context, (V *, const unsigned char *, unsigned));
FN(V *, SSL_new, (V *));
FN(void, SSL_free, (V *));
FN(int, SSL_set_fd, (V *, int));
FN(int, SSL_connect, (V *));
FN(int, SSL_accept, (V *));
FN(int, SSL_get_error, (const V *, int));
FN(int, SSL_read, (V *, void *, int));
FN(int, SSL_write, (V *, const void *, int));
FN(int, SSL_shutdown, (V *));
FN(V *, SSL_get1_session, (V *));
FN(int, SSL_set_session, (V *, V *));
FN(int, SSL_session_reused, (const V *));
FN(const V *, SSL_get_current_cipher, (const V *));
FN(const char *, SSL_get_version, (const V *));
// Session and cipher API (api()).
FN(V *, SSL_SESSION_new, (void));
FN(void, SSL_SESSION_free, (V *));
FN(int, SSL_SESSION_set_timeout, (V *, long));
FN(long, SSL_SESSION_get_time, (const V *));
FN(long, SSL_SESSION_get_timeout, (const V *));
FN(int, SSL_SESSION_has_ticket, (const V *));
FN(unsigned long, SSL_SESSION_get_ticket_lifetime_hint, (const V *));
FN(const unsigned char *, SSL_SESSION_get_id, (const V *, unsigned *));
FN(const V *, SSL_SESSION_get0_cipher, (const V *));
FN(int, SSL_SESSION_get_protocol_version, (const V *));
FN(int, SSL_SESSION_is_resumable, (const V *));
FN(size_t, SSL_SESSION_get_master_key, (const V *, unsigned char *, size_t));
FN(int, i2d_SSL_SESSION, (const V *, unsigned char **));
FN(V *, d2i_SSL_SESSION, (V **, const unsigned char **, long));
FN(const char *, SSL_CIPHER_get_name, (const V *));
FN(const char *, SSL_CIPHER_standard_name, (const V *));
FN(const char *, SSL_CIPHER_get_version, (const V *));
FN(int, SSL_CIPHER_get_bits, (const V *, int *));
FN(unsigned, SSL_CIPHER_get_id, (const V *));
FN(char *, SSL_CIPHER_description, (const V *, char *, int));
FN(int, SSL_CIPHER_is_aead, (const V *));
FN(int, SSL_CIPHER_get_cipher_nid, (const V *));
FN(int, SSL_CIPHER_get_kx_nid, (const V *));

#define LOAD(name) *(void **)&name = sym_in(lib, #name)
#define API(name) *(void **)&name = api(#name)

static void open_libssl(const char *path) {
    lib = dlopen(path, RTLD_LOCAL | RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(2);
    }
    LOAD(TLS_method);
    LOAD(SSL_CTX_new);
    LOAD(SSL_CTX_free);
    LOAD(SSL_CTX_use_certificate_chain_file);
    LOAD(SSL_CTX_use_PrivateKey_file);
    LOAD(SSL_CTX_ctrl);
    LOAD(SSL_CTX_set_options);
    LOAD(SSL_CTX_set_session_id_context);
    LOAD(SSL_new);
    LOAD(SSL_free);
    LOAD(SSL_set_fd);
    LOAD(SSL_connect);
    LOAD(SSL_accept);
    LOAD(SSL_get_error);
    LOAD(SSL_read);
    LOAD(SSL_write);
    LOAD(SSL_shutdown);
    LOAD(SSL_get1_session);
    API(SSL_set_session);
    LOAD(SSL_session_reused);
    LOAD(SSL_get_current_cipher);
    LOAD(SSL_get_version);
    API(SSL_SESSION_new);
    API(SSL_SESSION_free);
    API(SSL_SESSION_set_timeout);
    API(SSL_SESSION_get_time);
    API(SSL_SESSION_get_timeout);
    API(SSL_SESSION_has_ticket);
    API(SSL_SESSION_get_ticket_lifetime_hint);
    API(SSL_SESSION_get_id);
    API(SSL_SESSION_get0_cipher);
    API(SSL_SESSION_get_protocol_version);
    API(SSL_SESSION_is_resumable);
    API(SSL_SESSION_get_master_key);
    API(i2d_SSL_SESSION);
    API(d2i_SSL_SESSION);
    API(SSL_CIPHER_get_name);
    API(SSL_CIPHER_standard_name);
    API(SSL_CIPHER_get_version);
    API(SSL_CIPHER_get_bits);
    API(SSL_CIPHER_get_id);
    API(SSL_CIPHER_description);
    API(SSL_CIPHER_is_aead);
    API(SSL_CIPHER_get_cipher_nid);
    API(SSL_CIPHER_get_kx_nid);
}

static int count_libssl(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    const char *slash = strrchr(info->dlpi_name, '/');
    if (!strcmp(slash ? slash + 1 : info->dlpi_name, "libssl.so.3"))
        ++*(int *)data;
    return 0;
}

static void fail(const char *what) {
    fprintf(stderr, "failed: %s\n", what);
    exit(1);
}

// Drive both ends over a non-blocking socketpair until both handshakes are done.
static void handshake(V *c, V *s) {
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 10000 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_connect(c);
            if (r == 1)
                cdone = 1;
            else if (SSL_get_error(c, r) != 2 && SSL_get_error(c, r) != 3)
                fail("SSL_connect");
        }
        if (!sdone) {
            int r = SSL_accept(s);
            if (r == 1)
                sdone = 1;
            else if (SSL_get_error(s, r) != 2 && SSL_get_error(s, r) != 3)
                fail("SSL_accept");
        }
    }
    if (!(cdone && sdone))
        fail("handshake did not finish");
}

// Server sends a byte; the client reads it (and, in TLS 1.3, the tickets before it).
static void exchange(V *c, V *s) {
    char b = 'x', got = 0;
    if (SSL_write(s, &b, 1) != 1)
        fail("SSL_write");
    for (int i = 0; i < 10000; i++) {
        int r = SSL_read(c, &got, 1);
        if (r == 1)
            break;
        if (SSL_get_error(c, r) != 2)
            fail("SSL_read");
    }
    if (got != 'x')
        fail("no data");
}

static void cipher_line(const char *who, const V *ci) {
    int alg = -1;
    int bits = SSL_CIPHER_get_bits(ci, &alg);
    char desc[128];
    if (!SSL_CIPHER_description(ci, desc, sizeof desc))
        fail("SSL_CIPHER_description");
    desc[strcspn(desc, "\n")] = 0;
    printf("  %s cipher: %s / %s / %s bits=%d alg_bits=%d id=%08x aead=%d nid=%d kx=%d\n", who,
           SSL_CIPHER_get_name(ci), SSL_CIPHER_standard_name(ci), SSL_CIPHER_get_version(ci), bits,
           alg, SSL_CIPHER_get_id(ci), SSL_CIPHER_is_aead(ci), SSL_CIPHER_get_cipher_nid(ci),
           SSL_CIPHER_get_kx_nid(ci));
    printf("    %s\n", desc);
}

static void session_line(const char *who, const V *sess, time_t start) {
    unsigned idlen = 0;
    SSL_SESSION_get_id(sess, &idlen);
    long t = SSL_SESSION_get_time(sess);
    unsigned char mk[64];
    printf("  %s session: version=%04x id_len=%u time_ok=%d timeout=%ld ticket=%d hint=%lu "
           "resumable=%d master_key_len=%zu\n",
           who, SSL_SESSION_get_protocol_version(sess), idlen,
           t >= start - 2 && t <= time(NULL) + 1, SSL_SESSION_get_timeout(sess),
           SSL_SESSION_has_ticket(sess), SSL_SESSION_get_ticket_lifetime_hint(sess),
           SSL_SESSION_is_resumable(sess), SSL_SESSION_get_master_key(sess, mk, sizeof mk));
    cipher_line(who, SSL_SESSION_get0_cipher(sess));
}

// One connection; returns the client's session (a reference), resumed from `resume`.
static V *connect_once(V *cctx, V *sctx, V *resume, const char *what) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        fail("socketpair");
    for (int i = 0; i < 2; i++)
        fcntl(sv[i], F_SETFL, O_NONBLOCK);
    V *c = SSL_new(cctx), *s = SSL_new(sctx);
    if (!c || !s)
        fail("SSL_new");
    SSL_set_fd(c, sv[0]);
    SSL_set_fd(s, sv[1]);
    if (resume && SSL_set_session(c, resume) != 1)
        fail("SSL_set_session");
    handshake(c, s);
    exchange(c, s);
    printf(" %s: %s reused client=%d server=%d\n", what, SSL_get_version(c), SSL_session_reused(c),
           SSL_session_reused(s));
    cipher_line("current", SSL_get_current_cipher(c));
    V *sess = SSL_get1_session(c);
    if (!sess)
        fail("SSL_get1_session");
    SSL_shutdown(c);
    SSL_shutdown(s);
    SSL_shutdown(c);
    SSL_free(c);
    SSL_free(s);
    close(sv[0]);
    close(sv[1]);
    return sess;
}

static void flow(const char *name, int version, int no_ticket, const char *cert, const char *key) {
    time_t start = time(NULL);
    V *sctx = SSL_CTX_new(TLS_method()), *cctx = SSL_CTX_new(TLS_method());
    if (!sctx || !cctx)
        fail("SSL_CTX_new");
    if (SSL_CTX_use_certificate_chain_file(sctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(sctx, key, 1) != 1)
        fail("certificate");
    SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"dl", 2);
    V *ctxs[2] = {sctx, cctx};
    for (int i = 0; i < 2; i++) {
        SSL_CTX_ctrl(ctxs[i], 123, version, NULL); // SSL_CTX_set_min_proto_version
        SSL_CTX_ctrl(ctxs[i], 124, version, NULL); // SSL_CTX_set_max_proto_version
        if (no_ticket)
            SSL_CTX_set_options(ctxs[i], 1ULL << 14); // SSL_OP_NO_TICKET
    }
    // The client keeps its sessions itself (SSL_get1_session); no client cache.
    printf("== %s\n", name);
    V *first = connect_once(cctx, sctx, NULL, "full");
    session_line("libssl's", first, start);
    V *again = connect_once(cctx, sctx, first, "resumed from libssl's session");
    SSL_SESSION_free(again);

    // The application's DER copy of libssl's session, read back: ours when preloaded.
    unsigned char *der = NULL;
    int n = i2d_SSL_SESSION(first, &der);
    if (n <= 0)
        fail("i2d_SSL_SESSION");
    const unsigned char *p = der;
    V *copy = d2i_SSL_SESSION(NULL, &p, n);
    if (!copy || p != der + n)
        fail("d2i_SSL_SESSION");
    free(der);
    session_line("DER copy", copy, start);
    V *third = connect_once(cctx, sctx, copy, "resumed from the DER copy");
    SSL_SESSION_free(third);
    SSL_SESSION_free(copy);
    SSL_SESSION_free(first);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

// A fresh SSL_CTX's cipher list, before any handshake (Python's SSLContext.get_ciphers()).
static void ctx_ciphers(void) {
    V *(*get_ciphers)(const V *) = (V * (*)(const V *)) sym_in(lib, "SSL_CTX_get_ciphers");
    int (*sk_num)(const V *) = (int (*)(const V *))sym_in(lib, "OPENSSL_sk_num");
    V *(*sk_value)(const V *, int) = (V * (*)(const V *, int)) sym_in(lib, "OPENSSL_sk_value");
    V *ctx = SSL_CTX_new(TLS_method());
    if (!ctx)
        fail("SSL_CTX_new");
    V *sk = get_ciphers(ctx);
    int n = sk_num(sk);
    printf("SSL_CTX_get_ciphers: %d\n", n);
    for (int i = 0; i < n; i++)
        cipher_line("listed", sk_value(sk, i));
    SSL_CTX_free(ctx);
}

static void flows(const char *cert, const char *key) {
    ctx_ciphers();
    flow("TLS 1.2 tickets", 0x0303, 0, cert, key);
    flow("TLS 1.2 session IDs", 0x0303, 1, cert, key);
    flow("TLS 1.3", 0x0304, 0, cert, key);
}

// Sessions made and freed before any libssl is loaded.
static void before_libssl(void) {
    V *(*new_)(void) = (V * (*)(void)) dlsym(RTLD_DEFAULT, "SSL_SESSION_new");
    if (!new_) {
        if (getenv("REQUIRE_GLOBAL"))
            fail("no global SSL_SESSION_new");
        printf("before libssl: 100 sessions made and freed\n");
        return;
    }
    void (*free_)(V *) = (void (*)(V *))dlsym(RTLD_DEFAULT, "SSL_SESSION_free");
    long (*set_timeout)(V *, long) = (long (*)(V *, long))dlsym(RTLD_DEFAULT, "SSL_SESSION_set_timeout");
    long (*get_timeout)(const V *) = (long (*)(const V *))dlsym(RTLD_DEFAULT, "SSL_SESSION_get_timeout");
    if (!free_ || !set_timeout || !get_timeout)
        fail("global session functions");
    for (int i = 0; i < 100; i++) {
        V *s = new_();
        if (!s || set_timeout(s, 1000 + i) != 1 || get_timeout(s) != 1000 + i)
            fail("a session before libssl");
        free_(s);
    }
    printf("before libssl: 100 sessions made and freed\n");
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s CERT KEY [local|late|reload] [LIBSSL [SECOND]]\n", argv[0]);
        return 2;
    }
    const char *mode = argc > 3 ? argv[3] : "local";
    const char *path = argc > 4 ? argv[4] : "libssl.so.3";
    const char *second = argc > 5 ? argv[5] : path;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "late"))
        before_libssl();
    open_libssl(path);
    flows(argv[1], argv[2]);
    if (!strcmp(mode, "reload")) {
        if (dlclose(lib))
            fail("dlclose");
        void *still = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
        printf("-- dlclose: %s; dlopen again\n", still ? "still loaded" : "unloaded");
        if (still)
            dlclose(still);
        open_libssl(second);
        int n = 0;
        dl_iterate_phdr(count_libssl, &n);
        printf("-- libssl.so.3 objects loaded: %d\n", n);
        flows(argv[1], argv[2]);
    }
    printf("done\n");
    return 0;
}
