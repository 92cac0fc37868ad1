// The deadlock of a library lock held around the loader's functions, made to happen every
// time. Thread B dlopen()s PATH (tests-c/slow_ctor_plugin.c), whose constructor runs with
// the loader's lock held, sleeps 300 ms, then makes a session from the new object's code.
// Meanwhile the main thread makes a session from code outside every loaded object (a
// page of machine code of its own), so that ssl-session reads the loaded objects again,
// which needs the loader's lock. If ssl-session held a lock of its own across that read,
// B's constructor would wait for it while it waits for B: the test runs this under a
// time limit. x86-64 only (the code page); elsewhere it prints the same lines.
// Usage: dlopen_deadlock PATH   (run with libssl_session.so preloaded, without libssl)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef struct ssl_session_st SSL_SESSION;
typedef SSL_SESSION *(*maker)(void);
typedef void (*freer)(SSL_SESSION *);

static void *load(void *path) {
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

// A function in an anonymous page: sub rsp,8; mov rax,f; call rax; add rsp,8; ret.
static maker code_page(maker f) {
#if defined(__x86_64__)
    unsigned char *p =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return f;
    static const unsigned char head[] = {0x48, 0x83, 0xec, 0x08, 0x48, 0xb8};
    static const unsigned char tail[] = {0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3};
    uint64_t a = (uint64_t)(uintptr_t)f;
    memcpy(p, head, sizeof head);
    memcpy(p + sizeof head, &a, sizeof a);
    memcpy(p + sizeof head + sizeof a, tail, sizeof tail);
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
        return f;
    maker m;
    memcpy(&m, &p, sizeof m);
    return m;
#else
    return f;
#endif
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    // The preloaded library's functions (the program links no libssl).
    maker make;
    freer release;
    void *m = dlsym(RTLD_DEFAULT, "SSL_SESSION_new"), *f = dlsym(RTLD_DEFAULT, "SSL_SESSION_free");
    if (!m || !f)
        return 2;
    memcpy(&make, &m, sizeof make);
    memcpy(&release, &f, sizeof release);
    maker from_page = code_page(make);
    // ssl-session has read the loaded objects once: the plugin will be new to it.
    release(make());
    pthread_t t;
    if (pthread_create(&t, NULL, load, argv[1]))
        return 1;
    struct timespec wait = {0, 100 * 1000 * 1000};
    nanosleep(&wait, NULL);
    SSL_SESSION *s = from_page();
    printf("session from the code page: %s\n", s ? "made" : "NULL");
    release(s);
    void *h = NULL;
    pthread_join(t, &h);
    printf("plugin loaded: %s\n", h ? "yes" : "no");
    return s && h ? 0 : 1;
}
