/* Two threads race to free the same session (a double free by two threads), argv[1]
 * rounds; the session is never shared, or with argv[2] "shared" up_ref'd and freed once
 * first (so the last free goes through the shared path's atomic decrement). Built from our header alone and run with SSL_SESSION_MISUSE=warn: each
 * round must be reported exactly once (the loser's free), and the session destroyed once.
 *
 * The race is made certain, not left to the scheduler: the ex_data free callback, which
 * runs inside the winner's destroy, waits until the other thread has either returned from
 * its SSL_SESSION_free (it was refused: correct) or entered the free callback too (it
 * destroyed the session a second time: the bug). Prints how many sessions the callback
 * saw freed: one per round. */
#include "ssl.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static SSL_SESSION *_Atomic cur;
static atomic_long go, done, freed;
/* This round: workers back from SSL_SESSION_free, and free callbacks entered. */
static atomic_int returned, in_cb;

static void wait_for(atomic_long *v, long want)
{
    for (int spins = 0; atomic_load_explicit(v, memory_order_acquire) < want; spins++)
        if (spins > 1000)
            sched_yield();
}

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ptr, (void)ad, (void)idx, (void)argl, (void)argp;
    atomic_fetch_add(&in_cb, 1);
    time_t limit = time(NULL) + 5; /* bounded: a lost thread cannot hang the test */
    while (atomic_load(&returned) + atomic_load(&in_cb) < 2 && time(NULL) < limit)
        sched_yield();
    atomic_fetch_add(&freed, 1);
}

static void *worker(void *arg)
{
    long rounds = (long)arg;
    for (long i = 1; i <= rounds; i++) {
        wait_for(&go, i);
        SSL_SESSION_free(atomic_load(&cur));
        atomic_fetch_add(&returned, 1);
        atomic_fetch_add(&done, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 1000;
    int shared = argc > 2 && strcmp(argv[2], "shared") == 0;
    pthread_t t[2];
    if (SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, on_free) < 0)
        return 1;
    for (int k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, worker, (void *)rounds);
    for (long i = 1; i <= rounds; i++) {
        atomic_store(&returned, 0);
        atomic_store(&in_cb, 0);
        SSL_SESSION *s = SSL_SESSION_new();
        if (shared) {
            SSL_SESSION_up_ref(s);
            SSL_SESSION_free(s);
        }
        atomic_store(&cur, s);
        atomic_store_explicit(&go, i, memory_order_release);
        wait_for(&done, 2 * i);
    }
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    printf("%ld rounds, %ld sessions freed\n", rounds, atomic_load(&freed));
    return 0;
}
