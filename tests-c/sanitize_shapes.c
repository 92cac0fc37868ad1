/* The reference-count bugs users hit with libssl's own sessions, and their correct twins:
 * real handshakes between an in-process client and server over a BIO pair, built against
 * libssl. tests/sanitizer.rs runs each shape preloaded (the bug must be reported with its
 * culprit; in warn mode it must run to its end clean under valgrind) and each twin with
 * and without the preload (same output, no report, valgrind clean).
 *
 * Usage: sanitize_shapes SHAPE bug|fix
 *   server    the server frees SSL_get_session()'s session, which its cache still holds
 *   client12  the client frees SSL_get_session()'s session (TLS 1.2, client cache)
 *   client13  the same over TLS 1.3 (the session comes from a ticket)
 *   stale     a saved SSL_get_session() pointer given to SSL_set_session on a later
 *             connection, after SSL_free freed the session
 *   copy      the external cache's get callback sets *copy = 0 but keeps its reference
 *   newcb     the new-session callback returns 0 but keeps the pointer, used later
 *   leak      SSL_get1_session's reference never given back (SSL_SESSION_LEAKS=1 lists it)
 *   exdata    (no bug) ex_data "free" callbacks on libssl's sessions: each runs once, at
 *             the last free, between the same lines of output as without the preload
 * The twins take the references they use (SSL_get1_session, returning 1, *copy = 1). */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fix;
static EVP_PKEY *key;
static X509 *cert;

static void fail(const char *what)
{
    printf("FAIL: %s\n", what);
    ERR_print_errors_fp(stdout);
    exit(1);
}

static void make_cert(void)
{
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    if (key == NULL || cert == NULL)
        fail("key");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(cert, n);
    if (!X509_sign(cert, key, EVP_sha256()))
        fail("sign");
}

static SSL_CTX *server_ctx(int version, long mode)
{
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (c == NULL || !SSL_CTX_use_certificate(c, cert) || !SSL_CTX_use_PrivateKey(c, key))
        fail("server ctx");
    SSL_CTX_set_min_proto_version(c, version);
    SSL_CTX_set_max_proto_version(c, version);
    SSL_CTX_set_session_cache_mode(c, mode);
    SSL_CTX_set_session_id_context(c, (const unsigned char *)"shapes", 6);
    return c;
}

static SSL_CTX *client_ctx(int version, long mode)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c == NULL)
        fail("client ctx");
    SSL_CTX_set_min_proto_version(c, version);
    SSL_CTX_set_max_proto_version(c, version);
    SSL_CTX_set_session_cache_mode(c, mode);
    return c;
}

/* A client and a server SSL joined by a BIO pair. */
static void pair(SSL_CTX *cc, SSL_CTX *sc, SSL **c, SSL **s)
{
    BIO *bc, *bs;
    *c = SSL_new(cc);
    *s = SSL_new(sc);
    if (*c == NULL || *s == NULL || !BIO_new_bio_pair(&bc, 0, &bs, 0))
        fail("SSL_new");
    SSL_set_bio(*c, bc, bc);
    SSL_set_bio(*s, bs, bs);
    SSL_set_connect_state(*c);
    SSL_set_accept_state(*s);
}

static int pending(SSL *x, int r)
{
    int e = SSL_get_error(x, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Handshake, then one message each way (the client reads the TLS 1.3 tickets then). */
static void talk(SSL *c, SSL *s)
{
    int dc = 0, ds = 0;
    for (int i = 0; i < 100 && !(dc && ds); i++) {
        if (!dc) {
            int r = SSL_do_handshake(c);
            if (r == 1)
                dc = 1;
            else if (!pending(c, r))
                fail("client handshake");
        }
        if (!ds) {
            int r = SSL_do_handshake(s);
            if (r == 1)
                ds = 1;
            else if (!pending(s, r))
                fail("server handshake");
        }
    }
    if (!(dc && ds))
        fail("handshake did not finish");
    char buf[16];
    if (SSL_write(s, "ping", 4) != 4 || SSL_read(c, buf, sizeof buf) != 4)
        fail("server to client");
    if (SSL_write(c, "pong", 4) != 4 || SSL_read(s, buf, sizeof buf) != 4)
        fail("client to server");
}

static void done(const char *tag, SSL *c, SSL *s)
{
    printf("%s: %s %s\n", tag, SSL_session_reused(c) ? "reused" : "new", SSL_get_version(c));
    SSL_shutdown(c);
    SSL_shutdown(s);
}

/* --- server: an over-free of a session the server's cache holds ----------------------- */
void shape_server(void)
{
    SSL_CTX *sc = server_ctx(TLS1_2_VERSION, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET); /* stateful: the cache holds the session */
    SSL_CTX *cc = client_ctx(TLS1_2_VERSION, SSL_SESS_CACHE_OFF);
    SSL *c, *s;
    pair(cc, sc, &c, &s);
    talk(c, s);
    SSL_SESSION *resume = SSL_get1_session(c);
    if (fix) {
        SSL_SESSION *mine = SSL_get1_session(s);
        printf("server session has an ID: %d\n", SSL_SESSION_get_id(mine, NULL) != NULL);
        SSL_SESSION_free(mine);
    } else {
        SSL_SESSION *mine = SSL_get_session(s); /* takes no reference */
        printf("server session has an ID: %d\n", SSL_SESSION_get_id(mine, NULL) != NULL);
        SSL_SESSION_free(mine); /* the bug */
    }
    done("first", c, s);
    SSL_free(c);
    SSL_free(s);
    pair(cc, sc, &c, &s);
    SSL_set_session(c, resume);
    SSL_SESSION_free(resume);
    talk(c, s);
    done("second", c, s);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_flush_sessions(sc, 0);
    SSL_CTX_free(cc);
    SSL_CTX_free(sc);
}

/* --- client12/13: an over-free of a session the client's cache holds ------------------ */
void shape_client(int version)
{
    SSL_CTX *sc = server_ctx(version, SSL_SESS_CACHE_SERVER);
    SSL_CTX *cc = client_ctx(version, SSL_SESS_CACHE_CLIENT);
    SSL *c, *s;
    pair(cc, sc, &c, &s);
    talk(c, s);
    if (fix) {
        SSL_SESSION *mine = SSL_get1_session(c);
        printf("client session resumable: %d\n", SSL_SESSION_is_resumable(mine));
        SSL_SESSION_free(mine);
    } else {
        SSL_SESSION *mine = SSL_get_session(c); /* takes no reference */
        printf("client session resumable: %d\n", SSL_SESSION_is_resumable(mine));
        SSL_SESSION_free(mine); /* the bug */
    }
    done("first", c, s);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_flush_sessions(cc, 0);
    SSL_CTX_free(cc);
    SSL_CTX_free(sc);
}

/* --- stale: SSL_get_session's pointer kept past SSL_free ------------------------------ */
void shape_stale(void)
{
    SSL_CTX *sc = server_ctx(TLS1_2_VERSION, SSL_SESS_CACHE_SERVER);
    SSL_CTX *cc = client_ctx(TLS1_2_VERSION, SSL_SESS_CACHE_OFF);
    SSL *c, *s;
    pair(cc, sc, &c, &s);
    talk(c, s);
    SSL_SESSION *saved = fix ? SSL_get1_session(c) : SSL_get_session(c);
    done("first", c, s);
    SSL_free(c); /* frees the client's session: saved holds no reference in the bug */
    SSL_free(s);
    pair(cc, sc, &c, &s);
    printf("set_session: %d\n", SSL_set_session(c, saved));
    if (fix)
        SSL_SESSION_free(saved);
    talk(c, s);
    done("second", c, s);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cc);
    SSL_CTX_free(sc);
}

/* --- copy: the external cache's get callback and *copy -------------------------------- */
static SSL_SESSION *stored;
int stored_new(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    if (stored != NULL)
        SSL_SESSION_free(stored);
    stored = sess;
    return 1; /* we keep libssl's reference */
}

SSL_SESSION *stored_get(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl;
    unsigned int have = 0;
    if (stored == NULL)
        return NULL;
    const unsigned char *sid = SSL_SESSION_get_id(stored, &have);
    if (sid == NULL || have != (unsigned int)len || memcmp(sid, id, have) != 0)
        return NULL;
    if (!fix)
        *copy = 0; /* the bug: libssl gets our reference, yet we keep the session */
    return stored;
}

void shape_copy(void)
{
    SSL_CTX *sc = server_ctx(TLS1_2_VERSION, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    SSL_CTX_sess_set_new_cb(sc, stored_new);
    SSL_CTX_sess_set_get_cb(sc, stored_get);
    SSL_CTX *cc = client_ctx(TLS1_2_VERSION, SSL_SESS_CACHE_OFF);
    SSL *c, *s;
    pair(cc, sc, &c, &s);
    talk(c, s);
    SSL_SESSION *resume = SSL_get1_session(c);
    done("first", c, s);
    SSL_free(c);
    SSL_free(s);
    for (int i = 0; i < 2; i++) {
        pair(cc, sc, &c, &s);
        SSL_set_session(c, resume);
        talk(c, s);
        done(i == 0 ? "second" : "third", c, s);
        SSL_free(c);
        SSL_free(s);
    }
    SSL_SESSION_free(resume);
    SSL_SESSION_free(stored); /* the cache lets its session go */
    stored = NULL;
    SSL_CTX_free(cc);
    SSL_CTX_free(sc);
}

/* --- newcb: the new-session callback's return value ------------------------------------ */
static SSL_SESSION *latest;
int keep_new(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    if (fix && latest != NULL)
        SSL_SESSION_free(latest);
    latest = sess;
    return fix; /* the bug returns 0: libssl drops the reference, we keep the pointer */
}

void shape_newcb(void)
{
    SSL_CTX *sc = server_ctx(TLS1_3_VERSION, SSL_SESS_CACHE_SERVER);
    SSL_CTX *cc = client_ctx(TLS1_3_VERSION, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(cc, keep_new);
    SSL *c, *s;
    pair(cc, sc, &c, &s);
    talk(c, s);
    done("first", c, s);
    SSL_free(c);
    SSL_free(s);
    pair(cc, sc, &c, &s);
    printf("set_session: %d\n", SSL_set_session(c, latest));
    talk(c, s);
    done("second", c, s);
    SSL_free(c);
    SSL_free(s);
    if (fix)
        SSL_SESSION_free(latest);
    latest = NULL;
    SSL_CTX_free(cc);
    SSL_CTX_free(sc);
}

/* --- leak: a reference the application took and never gave back ---------------------- */
void shape_leak(void)
{
    SSL_CTX *sc = server_ctx(TLS1_3_VERSION, SSL_SESS_CACHE_SERVER);
    SSL_CTX *cc = client_ctx(TLS1_3_VERSION, SSL_SESS_CACHE_OFF);
    SSL *c, *s;
    pair(cc, sc, &c, &s);
    talk(c, s);
    SSL_SESSION *mine = SSL_get1_session(c);
    printf("client session resumable: %d\n", SSL_SESSION_is_resumable(mine));
    if (fix)
        SSL_SESSION_free(mine);
    done("first", c, s);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cc);
    SSL_CTX_free(sc);
}

/* --- exdata: when the free callbacks run ---------------------------------------------- */
static int ex_frees;
void ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    ex_frees++;
    if (ptr != NULL)
        printf("  free callback: %s\n", (const char *)ptr);
}

void shape_exdata(void)
{
    int idx = SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, ex_free);
    for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
        SSL_CTX *sc = server_ctx(v, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_options(sc, SSL_OP_NO_TICKET); /* the server's cache keeps its session */
        SSL_CTX *cc = client_ctx(v, SSL_SESS_CACHE_OFF);
        SSL *c, *s;
        pair(cc, sc, &c, &s);
        talk(c, s);
        SSL_SESSION *mine = SSL_get1_session(c);
        SSL_SESSION_set_ex_data(mine, idx, v == TLS1_2_VERSION ? "client 1.2" : "client 1.3");
        SSL_SESSION_set_ex_data(SSL_get_session(s), idx, v == TLS1_2_VERSION ? "server 1.2" : "server 1.3");
        done("first", c, s);
        printf("SSL_free(client)\n");
        SSL_free(c);
        printf("SSL_free(server)\n");
        SSL_free(s);
        printf("SSL_SESSION_free(client's)\n");
        SSL_SESSION_free(mine);
        printf("SSL_CTX_flush_sessions(server)\n");
        SSL_CTX_flush_sessions(sc, 0);
        printf("SSL_CTX_free\n");
        SSL_CTX_free(cc);
        SSL_CTX_free(sc);
    }
    printf("free callbacks, with or without a value: %d\n", ex_frees);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "bug") && strcmp(argv[2], "fix"))) {
        fprintf(stderr, "usage: sanitize_shapes server|client12|client13|stale|copy|newcb|leak|exdata bug|fix\n");
        return 2;
    }
    fix = strcmp(argv[2], "fix") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    make_cert();
    const char *shape = argv[1];
    if (!strcmp(shape, "server"))
        shape_server();
    else if (!strcmp(shape, "client12"))
        shape_client(TLS1_2_VERSION);
    else if (!strcmp(shape, "client13"))
        shape_client(TLS1_3_VERSION);
    else if (!strcmp(shape, "stale"))
        shape_stale();
    else if (!strcmp(shape, "copy"))
        shape_copy();
    else if (!strcmp(shape, "newcb"))
        shape_newcb();
    else if (!strcmp(shape, "leak"))
        shape_leak();
    else if (!strcmp(shape, "exdata"))
        shape_exdata();
    else {
        fprintf(stderr, "unknown shape %s\n", shape);
        return 2;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    printf("end\n");
    return 0;
}
