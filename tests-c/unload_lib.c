// Not a real libssl: a shared object that ssl-session takes for one (it defines
// SSL_SESSION_new and SSL_CTX_new) and whose SSL_SESSION_get_time answers 4242 for any
// session. tests-c/dlclose_stale.c loads it, has a call forwarded to it, unloads it and
// calls again: the forward must not jump into the unloaded code (tests/preload_private.rs).
// Built with -shared; unlike libssl.so.3 it is not linked NODELETE, so dlclose unmaps it.
#include <stddef.h>

typedef struct ssl_session_st SSL_SESSION;

SSL_SESSION *SSL_SESSION_new(void);
void *SSL_CTX_new(const void *method);
long SSL_SESSION_get_time(const SSL_SESSION *s);

SSL_SESSION *SSL_SESSION_new(void) {
    return NULL;
}

void *SSL_CTX_new(const void *method) {
    (void)method;
    return NULL;
}

long SSL_SESSION_get_time(const SSL_SESSION *s) {
    (void)s;
    return 4242;
}
