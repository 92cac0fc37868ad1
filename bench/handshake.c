/* Handshake throughput with and without libssl_session.so preloaded (and its sanitizer of
 * libssl's sessions on or off): an in-process client and server over a BIO pair, full
 * handshakes and resumptions, TLS 1.2 (session ID from the server's cache) and TLS 1.3
 * (tickets), with SSL_get1_session / SSL_set_session / SSL_SESSION_free as clients do.
 *
 *   cc -O2 -o handshake bench/handshake.c -lssl -lcrypto
 *   ./handshake --compare path/to/libssl_session.so [seconds]
 *
 * runs itself (one child per configuration, interleaved, 3 times each, the best run
 * kept): without preload, preloaded with SSL_SESSION_SANITIZE=0, and preloaded with the
 * sanitizer on (the default); prints handshakes per second and the ratios against no
 * preload. `./handshake [seconds]` alone runs one configuration, as the environment
 * says (one line per case, best of 5 rounds). Rates are per second of CPU time. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static EVP_PKEY *key;
static X509 *cert;

static void fail(const char *what)
{
    fprintf(stderr, "handshake: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* The process's CPU time, not the wall clock: on a shared machine the time other
 * processes take the CPU would otherwise count against whichever configuration ran then
 * (client and server run in this one thread, so CPU time is the handshake's cost). */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void make_cert(void)
{
    key = EVP_EC_gen("P-256");
    cert = X509_new();
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

static int pending(SSL *x, int r)
{
    int e = SSL_get_error(x, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* One connection; returns whether it resumed. */
static int connection(SSL_CTX *cc, SSL_CTX *sc, SSL_SESSION **sess)
{
    SSL *c = SSL_new(cc), *s = SSL_new(sc);
    BIO *bc, *bs;
    if (c == NULL || s == NULL || !BIO_new_bio_pair(&bc, 0, &bs, 0))
        fail("SSL_new");
    SSL_set_bio(c, bc, bc);
    SSL_set_bio(s, bs, bs);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (*sess != NULL)
        SSL_set_session(c, *sess);
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
    char buf[8];
    if (SSL_write(s, "ping", 4) != 4 || SSL_read(c, buf, sizeof buf) != 4)
        fail("data");
    int reused = SSL_session_reused(c);
    if (*sess == NULL)
        *sess = SSL_get1_session(c);
    SSL_shutdown(c);
    SSL_shutdown(s);
    SSL_free(c);
    SSL_free(s);
    return reused;
}

static void bench(const char *name, int version, int resume, double seconds)
{
    SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
    SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
    if (!SSL_CTX_use_certificate(sc, cert) || !SSL_CTX_use_PrivateKey(sc, key))
        fail("ctx");
    SSL_CTX_set_min_proto_version(sc, version);
    SSL_CTX_set_max_proto_version(sc, version);
    SSL_CTX_set_min_proto_version(cc, version);
    SSL_CTX_set_max_proto_version(cc, version);
    SSL_CTX_set_session_id_context(sc, (const unsigned char *)"bench", 5);
    if (version == TLS1_2_VERSION)
        SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    double best = 0;
    long total = 0;
    for (int round = 0; round < 5; round++) {
        SSL_SESSION *sess = NULL;
        if (resume)
            connection(cc, sc, &sess);
        long n = 0;
        double t0 = now(), t;
        do {
            SSL_SESSION *use = resume ? sess : NULL;
            int reused = connection(cc, sc, &use);
            if (!resume)
                SSL_SESSION_free(use);
            if (reused != resume)
                fail(resume ? "did not resume" : "resumed");
            n++;
        } while ((t = now() - t0) < seconds / 5);
        if (n / t > best)
            best = n / t;
        total += n;
        SSL_SESSION_free(sess);
    }
    printf("%-22s %9.0f handshakes/s (%ld in all)\n", name, best, total);
    fflush(stdout);
    SSL_CTX_flush_sessions(sc, 0);
    SSL_CTX_free(sc);
    SSL_CTX_free(cc);
}

#define CASES 4
static const char *const case_names[CASES] = {"TLS 1.2 full", "TLS 1.2 resumption",
                                              "TLS 1.3 full", "TLS 1.3 resumption"};

/* One child run: the four rates it printed. */
static void child(const char *self, const char *env, double seconds, double *rate)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "env -u LD_PRELOAD -u SSL_SESSION_SANITIZE %s '%s' %g", env,
             self, seconds);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        fail("popen");
    char line[256];
    int i = 0;
    while (fgets(line, sizeof line, p) != NULL && i < CASES) {
        const char *num = line + 22;
        rate[i++] = atof(num);
    }
    if (pclose(p) != 0 || i != CASES)
        fail("child run failed");
}

static int compare(const char *self, const char *lib, double seconds)
{
    char on[2048], off[2048];
    snprintf(on, sizeof on, "LD_PRELOAD='%s'", lib);
    snprintf(off, sizeof off, "LD_PRELOAD='%s' SSL_SESSION_SANITIZE=0", lib);
    const char *envs[3] = {"", off, on};
    double best[3][CASES] = {{0}};
    for (int round = 0; round < 3; round++)
        for (int c = 0; c < 3; c++) {
            double r[CASES];
            child(self, envs[c], seconds, r);
            for (int i = 0; i < CASES; i++)
                if (r[i] > best[c][i])
                    best[c][i] = r[i];
        }
    printf("handshakes per CPU second, in-process client and server over a BIO pair (best of 3 runs):\n");
    printf("%-20s %10s %14s %14s %10s %10s\n", "", "no preload", "preload, off",
           "preload, on", "off/none", "on/none");
    for (int i = 0; i < CASES; i++)
        printf("%-20s %10.0f %14.0f %14.0f %10.3f %10.3f\n", case_names[i], best[0][i],
               best[1][i], best[2][i], best[1][i] / best[0][i], best[2][i] / best[0][i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--compare") == 0)
        return compare(argv[0], argv[2], argc > 3 ? atof(argv[3]) : 1.0);
    double seconds = argc > 1 ? atof(argv[1]) : 2.5;
    make_cert();
    bench("TLS 1.2 full", TLS1_2_VERSION, 0, seconds);
    bench("TLS 1.2 resumption", TLS1_2_VERSION, 1, seconds);
    bench("TLS 1.3 full", TLS1_3_VERSION, 0, seconds);
    bench("TLS 1.3 resumption", TLS1_3_VERSION, 1, seconds);
    X509_free(cert);
    EVP_PKEY_free(key);
    return 0;
}
