/* Which library's definitions this process calls: built against libssl, run with and
 * without LD_PRELOAD of ssl-session (the harness compares). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

static void show(const char *name, void *fn)
{
    Dl_info info;
    const char *lib = "?";
    if (dladdr(fn, &info) && info.dli_fname) {
        lib = strrchr(info.dli_fname, '/');
        lib = lib ? lib + 1 : info.dli_fname;
    }
    printf("%s %s\n", name, lib);
}

int main(void)
{
    show("SSL_SESSION_new", (void *)SSL_SESSION_new);
    show("SSL_SESSION_dup", (void *)SSL_SESSION_dup);
    show("SSL_SESSION_up_ref", (void *)SSL_SESSION_up_ref);
    show("SSL_SESSION_free", (void *)SSL_SESSION_free);
    show("SSL_CTX_new", (void *)SSL_CTX_new);
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_free(s);
    return 0;
}
