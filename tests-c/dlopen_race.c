// Two threads load and unload plugins whose code makes sessions (tests-c/dlopen_plugin.c,
// linked as two shared objects): one thread makes them from inside dlopen() (the
// plugin's constructor, loader lock held), the other from a freshly loaded plugin's
// function, outside dlopen, where ssl-session reads the loaded objects again. If
// ssl-session took a lock of its own around the loader's functions, the two would
// deadlock: the test runs it under a time limit.
// Each round loads new copies (DIR/a<i>.so, DIR/b<i>.so, kept loaded), so that every
// one is an object ssl-session has not seen yet.
// Usage: dlopen_race DIR ROUNDS   (run with libssl_session.so preloaded)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char *dir;
static int rounds;

static void *open_plugin(char which, int i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%c%d.so", dir, which, i);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    return h;
}

static void *load_a(void *arg) {
    (void)arg;
    for (int i = 0; i < rounds; i++)
        open_plugin('a', i);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR ROUNDS\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    rounds = atoi(argv[2]);
    pthread_t t;
    if (pthread_create(&t, NULL, load_a, NULL))
        return 1;
    int made = 0;
    for (int i = 0; i < rounds; i++) {
        int (*make)(void) = (int (*)(void))dlsym(open_plugin('b', i), "plugin_make");
        if (!make)
            return 1;
        made += make();
    }
    pthread_join(t, NULL);
    printf("made %d sessions from fresh plugins in %d rounds\n", made, rounds);
    return made == rounds ? 0 : 1;
}
