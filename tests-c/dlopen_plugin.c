// A plugin for tests-c/dlopen_race.c, loaded as many copies named DIR/a<i>.so and
// DIR/b<i>.so. The constructor of an "a" copy, run by dlopen() with the loader's lock
// held, makes and frees a session; plugin_make() does the same on demand (the "b"
// copies, outside dlopen). SSL_SESSION_new and SSL_SESSION_free come from the global
// scope (a preloaded libssl_session.so).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

typedef struct ssl_session_st SSL_SESSION;
SSL_SESSION *SSL_SESSION_new(void);
void SSL_SESSION_free(SSL_SESSION *s);

int plugin_make(void);

int plugin_make(void) {
    SSL_SESSION *s = SSL_SESSION_new();
    if (s == NULL)
        return 0;
    SSL_SESSION_free(s);
    return 1;
}

__attribute__((constructor)) static void plugin_init(void) {
    Dl_info me;
    if (!dladdr((void *)plugin_make, &me) || !me.dli_fname)
        return;
    const char *base = strrchr(me.dli_fname, '/');
    if ((base ? base[1] : me.dli_fname[0]) != 'a')
        return;
    // Stay a moment inside dlopen, so that the other thread's calls meet this one.
    struct timespec t = {0, 100 * 1000};
    nanosleep(&t, NULL);
    plugin_make();
}
