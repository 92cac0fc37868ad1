/* ssl-session forwarding cost: what a libssl session costs when it goes through
 * libssl_session.so (preloaded) on its way to libssl, against calling libssl directly.
 *
 * Build and run (our library preloaded; the program is an ordinary libssl program):
 *   cc -O2 -o forward bench/forward.c -lssl -lcrypto -ldl
 *   LD_PRELOAD=path/to/libssl_session.so ./forward [iterations]
 *
 * "direct" calls libssl's own definitions (looked up in libssl's handle); "via ours" calls
 * the process's definitions, which are ours when preloaded: they see a session that is not
 * theirs and forward it to libssl (the pointer check, then a cached dlsym(RTLD_NEXT)).
 * Each figure is the best of 7 runs, in CPU time; the overhead is "via ours" minus
 * "direct". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ssl_session_st SSL_SESSION;
/* From <openssl/ssl.h>: called so that the program really links libssl. */
int OPENSSL_init_ssl(unsigned long long opts, const void *settings);

struct fns {
    SSL_SESSION *(*new_)(void);
    void (*free_)(SSL_SESSION *);
    int (*up_ref)(SSL_SESSION *);
    long (*get_time)(const SSL_SESSION *);
    const unsigned char *(*get_id)(const SSL_SESSION *, unsigned int *);
};

static void *sym(void *h, const char *n)
{
    void *p = dlsym(h, n);
    if (p == NULL) {
        fprintf(stderr, "forward: %s: %s\n", n, dlerror());
        exit(1);
    }
    return p;
}

static void load(struct fns *f, void *h)
{
    f->new_ = sym(h, "SSL_SESSION_new");
    f->free_ = sym(h, "SSL_SESSION_free");
    f->up_ref = sym(h, "SSL_SESSION_up_ref");
    f->get_time = sym(h, "SSL_SESSION_get_time");
    f->get_id = sym(h, "SSL_SESSION_get_id");
}

/* The process's CPU time: on a shared machine, time another process holds the CPU
 * would otherwise land in whichever loop was running. */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static volatile long sink;

enum op { GET_TIME, GET_ID, UP_REF_FREE };

static double run(const struct fns *f, SSL_SESSION *s, enum op op, long n)
{
    double best = 1e30;
    for (int r = 0; r < 7; r++) {
        double t0 = now();
        long acc = 0;
        unsigned int len;
        switch (op) {
        case GET_TIME:
            for (long i = 0; i < n; i++)
                acc += f->get_time(s);
            break;
        case GET_ID:
            for (long i = 0; i < n; i++)
                acc += (long)f->get_id(s, &len) + len;
            break;
        case UP_REF_FREE:
            for (long i = 0; i < n; i++) {
                acc += f->up_ref(s);
                f->free_(s);
            }
            break;
        }
        double t = (now() - t0) / n;
        sink = acc;
        if (t < best)
            best = t;
    }
    return best;
}

static const char *lib_of(void *fn)
{
    Dl_info i;
    if (!dladdr(fn, &i) || i.dli_fname == NULL)
        return "?";
    const char *b = strrchr(i.dli_fname, '/');
    return b ? b + 1 : i.dli_fname;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 5000000;
    OPENSSL_init_ssl(0, NULL);
    void *ssl = dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD);
    if (ssl == NULL) {
        fprintf(stderr, "forward: libssl.so.3 is not loaded\n");
        return 1;
    }
    struct fns direct, via;
    load(&direct, ssl);
    load(&via, RTLD_DEFAULT);
    if (strncmp(lib_of((void *)via.get_time), "libssl_session.so", 17) != 0) {
        fprintf(stderr, "forward: SSL_SESSION_get_time is %s's: run with "
                        "LD_PRELOAD=libssl_session.so\n", lib_of((void *)via.get_time));
        return 1;
    }
    /* A session of libssl's own, as libssl's handshakes make them. */
    SSL_SESSION *s = direct.new_();
    printf("forwarding a libssl session through %s (%ld calls, best of 7)\n",
           lib_of((void *)via.get_time), n);
    printf("%-24s %10s %10s %10s\n", "op", "direct", "via ours", "overhead");
    static const char *names[] = {"get_time", "get_id", "up_ref + free"};
    /* With the sanitizer on (the default), up_ref and free keep the session's history:
     * their budget is 30 ns per pair above libssl's own. */
    const char *san = getenv("SSL_SESSION_SANITIZE");
    int tracking = san == NULL || strcmp(san, "0") != 0;
    int over = 0;
    for (int op = GET_TIME; op <= UP_REF_FREE; op++) {
        double d = run(&direct, s, op, n), v = run(&via, s, op, n);
        int calls = op == UP_REF_FREE ? 2 : 1;
        double per_call = (v - d) / calls;
        printf("%-24s %8.2f ns %8.2f ns %7.2f ns/call\n", names[op], d, v, per_call);
        if (op == UP_REF_FREE && tracking ? v - d > 30 : per_call >= 10)
            over = 1;
    }
    direct.free_(s);
    printf("target: under 10 ns of overhead per call%s: %s\n",
           tracking ? ", up_ref + free at most 30 ns above direct (sanitizer on)" : "",
           over ? "MISSED" : "met");
    return 0;
}
