// A plugin for tests-c/dlopen_deadlock.c: its constructor, run by dlopen() with the
// loader's lock held, waits a moment (so that the other thread is inside ssl-session by
// then) and makes and frees a session. SSL_SESSION_new and SSL_SESSION_free come from the
// global scope (a preloaded libssl_session.so). Built with -shared.
#include <stddef.h>
#include <time.h>

typedef struct ssl_session_st SSL_SESSION;
SSL_SESSION *SSL_SESSION_new(void);
void SSL_SESSION_free(SSL_SESSION *s);

__attribute__((constructor)) static void slow_init(void) {
    struct timespec t = {0, 300 * 1000 * 1000};
    nanosleep(&t, NULL);
    SSL_SESSION_free(SSL_SESSION_new());
}
