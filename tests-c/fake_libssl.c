// Not a real libssl: a shared object that defines SSL_SESSION_new and SSL_CTX_new (so
// ssl-session takes it for a libssl) but no d2i_SSL_SESSION, and whose fake_decode()
// calls d2i_SSL_SESSION, which binds to a preloaded libssl_session.so. ssl-session must
// then refuse to return one of its own sessions to "libssl": one line, then abort,
// whatever SSL_SESSION_MISUSE says (tests/preload_private.rs). Built with -shared; the
// same object's main() is not used.
#include <stddef.h>

typedef struct ssl_session_st SSL_SESSION;
SSL_SESSION *d2i_SSL_SESSION(SSL_SESSION **a, const unsigned char **pp, long length);

SSL_SESSION *SSL_SESSION_new(void);
void *SSL_CTX_new(const void *method);
int fake_decode(void);

SSL_SESSION *SSL_SESSION_new(void) {
    return NULL;
}

void *SSL_CTX_new(const void *method) {
    (void)method;
    return NULL;
}

int fake_decode(void) {
    // A minimal session's DER is not needed: the call must not get as far as decoding.
    static const unsigned char der[2] = {0x30, 0x00};
    const unsigned char *p = der;
    return d2i_SSL_SESSION(NULL, &p, sizeof der) != NULL;
}
