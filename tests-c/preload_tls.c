/* Real TLS handshakes in one process built against libssl, run with and without
 * libssl_session.so preloaded (tests/preload.rs compares the two outputs).
 *
 * A server and a client SSL over a socketpair, with a self-signed certificate from files.
 * The client's session (libssl's) is serialized, read back (ours, when preloaded) and
 * given back to libssl: SSL_set_session, and on the server SSL_CTX_add_session /
 * SSL_CTX_remove_session and the external cache's get callback. Every resumption must
 * happen exactly as without the preload, and everything is freed.
 *
 * Usage: preload_tls CERT KEY tls1_2|tls1_3 [probe]
 * "probe" (only when preloaded) frees a decoded session twice: ssl-session reports it
 * (run with SSL_SESSION_MISUSE=warn), which shows that d2i from the application made one
 * of ours; libssl's sessions are freed once each and never reported. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int version;
static int new_calls, free_calls;
static const char *freed_value;

static void fail(const char *what)
{
    printf("FAIL: %s\n", what);
    ERR_print_errors_fp(stdout);
    exit(1);
}

static void ex_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ptr, (void)ad, (void)idx, (void)argl, (void)argp;
    new_calls++;
}

static void ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free_calls++;
    if (ptr != NULL)
        freed_value = ptr;
}

/* --- the server's external cache: one DER session, by ID ---------------------------- */
static unsigned char cache_der[4096];
static int cache_len;
static unsigned char cache_id[SSL_MAX_SSL_SESSION_ID_LENGTH];
static unsigned int cache_id_len;
static int get_cb_calls;

static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    unsigned char *p = cache_der;
    int n = i2d_SSL_SESSION(sess, NULL);
    if (n <= 0 || n > (int)sizeof cache_der)
        return 0;
    cache_len = i2d_SSL_SESSION(sess, &p);
    const unsigned char *id = SSL_SESSION_get_id(sess, &cache_id_len);
    memcpy(cache_id, id, cache_id_len);
    return 0; /* we did not keep the object */
}

static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl;
    get_cb_calls++;
    if (cache_len == 0 || (unsigned int)len != cache_id_len || memcmp(id, cache_id, cache_id_len))
        return NULL;
    const unsigned char *p = cache_der;
    SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, cache_len);
    *copy = 0; /* our reference goes to libssl */
    return s;
}

/* --- external PSK (TLS 1.3): sessions the application makes -------------------------- */
static const unsigned char psk_key[32] = "0123456789abcdef0123456789abcde";
static const unsigned char psk_id[] = "preload-identity";
static int psk_client_calls, psk_server_calls;

static SSL_SESSION *psk_session(SSL *ssl)
{
    const unsigned char suite[2] = {0x13, 0x01}; /* TLS_AES_128_GCM_SHA256 */
    SSL_SESSION *s = SSL_SESSION_new();
    if (s == NULL || !SSL_SESSION_set1_master_key(s, psk_key, sizeof psk_key)
        || !SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, suite))
        || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION))
        fail("psk session");
    return s;
}

static int psk_use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                      SSL_SESSION **sess)
{
    (void)md;
    psk_client_calls++;
    *sess = psk_session(ssl); /* its reference goes to libssl */
    *id = psk_id;
    *idlen = sizeof psk_id - 1;
    return 1;
}

static int psk_find_cb(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
    psk_server_calls++;
    *sess = NULL;
    if (idlen == sizeof psk_id - 1 && memcmp(id, psk_id, idlen) == 0)
        *sess = psk_session(ssl);
    return 1;
}

static int use_psk; /* connect_pair sets psk_use_cb on the client SSL */

/* --- handshakes over a socketpair ----------------------------------------------------- */
static SSL_CTX *server_ctx(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1
        || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        fail("server ctx");
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"preload", 7);
    return ctx;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        fail("client ctx");
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    return ctx;
}

static int step(SSL *s, int r)
{
    if (r == 1)
        return 1;
    int e = SSL_get_error(s, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        fail("handshake");
    return 0;
}

/* Handshake, then one byte each way so that the client reads TLS 1.3 tickets.
 * Returns the client; the server SSL is freed. Prints whether each side resumed. */
static SSL *connect_pair(const char *name, SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *set)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        fail("socketpair");
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    SSL *srv = SSL_new(sctx), *cli = SSL_new(cctx);
    SSL_set_fd(srv, fds[0]);
    SSL_set_fd(cli, fds[1]);
    SSL_set_accept_state(srv);
    SSL_set_connect_state(cli);
    if (set != NULL && SSL_set_session(cli, set) != 1)
        fail("SSL_set_session");
    if (use_psk)
        SSL_set_psk_use_session_callback(cli, psk_use_cb);
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 1000 && !(cdone && sdone); i++) {
        if (!cdone)
            cdone = step(cli, SSL_do_handshake(cli));
        if (!sdone)
            sdone = step(srv, SSL_do_handshake(srv));
    }
    if (!cdone || !sdone)
        fail("handshake did not finish");
    char b = 'x';
    size_t n;
    if (SSL_write_ex(srv, &b, 1, &n) != 1 || SSL_read_ex(cli, &b, 1, &n) != 1)
        fail("server to client");
    if (SSL_write_ex(cli, &b, 1, &n) != 1 || SSL_read_ex(srv, &b, 1, &n) != 1)
        fail("client to server");
    printf("%s: %s, client reused %d, server reused %d\n", name, SSL_get_version(cli),
           SSL_session_reused(cli), SSL_session_reused(srv));
    SSL_shutdown(srv);
    SSL_free(srv);
    close(fds[0]);
    return cli;
}

static void close_client(SSL *cli)
{
    int fd = SSL_get_fd(cli);
    SSL_shutdown(cli); /* else SSL_free marks the session not resumable */
    SSL_free(cli);
    close(fd);
}

static int der_equal(SSL_SESSION *a, SSL_SESSION *b)
{
    unsigned char *da = NULL, *db = NULL;
    int la = i2d_SSL_SESSION(a, &da), lb = i2d_SSL_SESSION(b, &db);
    int eq = la > 0 && la == lb && memcmp(da, db, la) == 0;
    OPENSSL_free(da);
    OPENSSL_free(db);
    return eq;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    version = strcmp(argv[3], "tls1_3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
    int probe = argc > 4 && strcmp(argv[4], "probe") == 0;
    signal(SIGPIPE, SIG_IGN); /* a close_notify to a peer already gone */
    int idx = SSL_SESSION_get_ex_new_index(0, NULL, ex_new, NULL, ex_free);
    int ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);

    SSL_CTX *sctx = server_ctx(argv[1], argv[2]);
    SSL_CTX *cctx = client_ctx();

    /* 1. A full handshake; the client's session is libssl's. */
    SSL *c1 = connect_pair("first", sctx, cctx, NULL);
    if (SSL_set_ex_data(c1, ssl_idx, "ssl-data") != 1
        || strcmp(SSL_get_ex_data(c1, ssl_idx), "ssl-data") != 0)
        fail("SSL ex_data");
    SSL_SESSION *lib = SSL_get1_session(c1);
    close_client(c1);
    if (lib == NULL || !SSL_SESSION_is_resumable(lib))
        fail("no resumable session");
    /* ex_data on libssl's session goes to libssl. */
    if (SSL_SESSION_set_ex_data(lib, idx, "on-libssl") != 1
        || strcmp(SSL_SESSION_get_ex_data(lib, idx), "on-libssl") != 0)
        fail("ex_data on libssl's session");
    printf("libssl session: %s, protocol %04x, cipher %s\n",
           SSL_SESSION_has_ticket(lib) ? "ticket" : "session id",
           SSL_SESSION_get_protocol_version(lib),
           SSL_CIPHER_get_name(SSL_SESSION_get0_cipher(lib)));

    /* 2. Serialized by the application, DER and PEM, and read back. */
    unsigned char *der = NULL;
    int len = i2d_SSL_SESSION(lib, &der);
    BIO *mem = BIO_new(BIO_s_mem());
    if (len <= 0 || PEM_write_bio_SSL_SESSION(mem, lib) != 1)
        fail("i2d / PEM_write of libssl's session");
    const unsigned char *p = der;
    SSL_SESSION *mine = d2i_SSL_SESSION(NULL, &p, len);
    SSL_SESSION *pem = PEM_read_bio_SSL_SESSION(mem, NULL, NULL, NULL);
    BIO_free(mem);
    if (mine == NULL || pem == NULL || !der_equal(mine, lib) || !der_equal(pem, lib))
        fail("read back");
    printf("read back: DER and PEM equal libssl's\n");
    SSL_SESSION_free(pem);
    /* libssl's cipher set on the session read back. */
    if (SSL_SESSION_set_cipher(mine, SSL_SESSION_get0_cipher(lib)) != 1 || !der_equal(mine, lib))
        fail("set_cipher with libssl's cipher");
    /* And the other way: the cipher of the session read back (ours, when preloaded) set
     * on libssl's session. */
    const SSL_CIPHER *libs = SSL_SESSION_get0_cipher(lib);
    if (SSL_SESSION_set_cipher(lib, SSL_SESSION_get0_cipher(mine)) != 1 || !der_equal(mine, lib)
        || SSL_SESSION_get0_cipher(lib) != libs)
        fail("set_cipher on libssl's session with the cipher read back");
    if (SSL_SESSION_set_ex_data(mine, idx, "mine") != 1)
        fail("ex_data on ours");

    /* 3. Resumption with SSL_set_session. The application then drops its reference, as
     * OpenSSL allows: the session lives as long as libssl keeps it (until SSL_free for
     * TLS 1.2; for TLS 1.3 libssl replaces it when the new tickets arrive). */
    freed_value = NULL;
    SSL *c2 = connect_pair("set_session", sctx, cctx, mine);
    printf("ex_data on ours after the handshake: %s\n", (char *)SSL_SESSION_get_ex_data(mine, idx));
    SSL_SESSION *got = SSL_get1_session(c2);
    printf("SSL_get1_session: resumable %d, same DER as ours %d\n", SSL_SESSION_is_resumable(got),
           der_equal(got, mine));
    SSL_SESSION_free(got);
    SSL_SESSION_free(mine);
    printf("after the application's free: %s\n", freed_value ? freed_value : "(alive)");
    close_client(c2);
    printf("after SSL_free: %s\n", freed_value ? freed_value : "(alive)");

    /* 4. The server side: its cache emptied, then fed a session the application decoded. */
    if (version == TLS1_2_VERSION) {
        SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_options(cctx, SSL_OP_NO_TICKET);
        SSL *c3 = connect_pair("no ticket", sctx, cctx, NULL);
        SSL_SESSION *csess = SSL_get1_session(c3);
        close_client(c3);
        /* The server's own session for that ID, through the new-session callback. */
        SSL_CTX_sess_set_new_cb(sctx, new_cb);
        SSL_CTX_flush_sessions(sctx, 0x7fffffff);
        SSL *c4 = connect_pair("new_cb", sctx, cctx, NULL);
        SSL_SESSION_free(csess);
        csess = SSL_get1_session(c4);
        close_client(c4);
        SSL_CTX_flush_sessions(sctx, 0x7fffffff);
        printf("server cache after flush: %ld\n", SSL_CTX_sess_number(sctx));
        if (cache_len == 0)
            fail("new_cb saw no session");
        p = cache_der;
        SSL_SESSION *srvs = d2i_SSL_SESSION(NULL, &p, cache_len);
        int added = SSL_CTX_add_session(sctx, srvs);
        printf("add_session: %d, cache %ld\n", added, SSL_CTX_sess_number(sctx));
        SSL_SESSION_free(srvs); /* the cache keeps it */
        SSL_SESSION *c5s = SSL_SESSION_dup(csess);
        SSL *c5 = connect_pair("after add_session", sctx, cctx, c5s);
        SSL_SESSION_free(c5s);
        close_client(c5);
        p = cache_der;
        srvs = d2i_SSL_SESSION(NULL, &p, cache_len);
        int removed = SSL_CTX_remove_session(sctx, srvs);
        printf("remove_session: %d, cache %ld, resumable %d\n", removed, SSL_CTX_sess_number(sctx),
               SSL_SESSION_is_resumable(srvs));
        SSL_SESSION_free(srvs);
        SSL *c6 = connect_pair("after remove_session", sctx, cctx, csess);
        SSL_SESSION_free(csess);
        csess = SSL_get1_session(c6); /* new_cb cached the server's side of this one */
        close_client(c6);
        /* The external cache: libssl asks get_cb, which decodes (ours) and hands it over. */
        SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
        SSL_CTX_sess_set_get_cb(sctx, get_cb);
        printf("sess_get_get_cb is ours: %d\n", SSL_CTX_sess_get_get_cb(sctx) == get_cb);
        SSL_CTX_flush_sessions(sctx, 0x7fffffff);
        SSL *c7 = connect_pair("external cache", sctx, cctx, csess);
        printf("get_cb calls %d\n", get_cb_calls);
        SSL_SESSION_free(csess);
        close_client(c7);
    }

    /* 5. External PSK: the application's callbacks return sessions it made (ours),
     * per SSL on the client, per SSL_CTX on the server. */
    if (version == TLS1_3_VERSION) {
        SSL_CTX_set_psk_find_session_callback(sctx, psk_find_cb);
        /* The PSK's hash must be the suite's. */
        SSL_CTX_set_ciphersuites(sctx, "TLS_AES_128_GCM_SHA256");
        SSL_CTX_set_ciphersuites(cctx, "TLS_AES_128_GCM_SHA256");
        use_psk = 1;
        SSL *c8 = connect_pair("external psk", sctx, cctx, NULL);
        use_psk = 0;
        printf("psk callbacks: client %d, server %d, cipher %s\n", psk_client_calls,
               psk_server_calls, SSL_CIPHER_get_name(SSL_get_current_cipher(c8)));
        close_client(c8);
    }

    if (probe) {
        p = der;
        SSL_SESSION *twice = d2i_SSL_SESSION(NULL, &p, len);
        fprintf(stderr, "probe %p\n", (void *)twice);
        SSL_SESSION_free(twice);
        SSL_SESSION_free(twice);
    }
    OPENSSL_free(der);
    SSL_SESSION_free(lib);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    printf("ex_data callbacks: new %d, free %d\n", new_calls > 0, new_calls == free_calls);
    printf("done\n");
    return 0;
}
