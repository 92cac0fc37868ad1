// Loads DIR/fake_libssl.so (tests-c/fake_libssl.c) privately and calls its fake_decode().
// Usage: dlopen_fake PATH
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    int (*decode)(void) = (int (*)(void))dlsym(h, "fake_decode");
    if (!decode)
        return 2;
    printf("fake_decode returned %d\n", decode());
    return 0;
}
