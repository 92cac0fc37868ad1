// Loads PATH (tests-c/unload_lib.c, a stand-in libssl) into the global scope, calls
// SSL_SESSION_get_time on a pointer that is not ssl-session's (ours, preloaded, forwards
// it to the stand-in: 4242), unloads the stand-in and calls again. With the stand-in gone
// there is nobody to forward to: ssl-session must say so (a report; 0 in warn mode), not
// call the address it had cached, which now lies in unmapped memory.
// Usage: dlclose_stale PATH
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

typedef struct ssl_session_st SSL_SESSION;

struct query {
    const char *path;
    int found;
};

static int each(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct query *q = data;
    if (info->dlpi_name && strcmp(info->dlpi_name, q->path) == 0)
        q->found = 1;
    return 0;
}

/* Whether an object loaded from `path` is still mapped. */
static int loaded(const char *path) {
    struct query q = {path, 0};
    dl_iterate_phdr(each, &q);
    return q.found;
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    static long not_a_session[64];
    long (*get_time)(const SSL_SESSION *) =
        (long (*)(const SSL_SESSION *))dlsym(RTLD_DEFAULT, "SSL_SESSION_get_time");
    Dl_info where;
    if (!get_time || !dladdr((void *)get_time, &where) ||
        !strstr(where.dli_fname, "libssl_session.so")) {
        fprintf(stderr, "SSL_SESSION_get_time is not ssl-session's\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    printf("loaded: get_time = %ld\n", get_time((const SSL_SESSION *)not_a_session));
    if (dlclose(h) != 0)
        return 2;
    printf("unloaded: %s\n", loaded(argv[1]) ? "no" : "yes");
    fflush(stdout);
    printf("after unload: get_time = %ld\n", get_time((const SSL_SESSION *)not_a_session));
    return 0;
}
