/* demo.c: a tour of libssl_session, OpenSSL 3.0's SSL_SESSION API as a C library.
 *
 * Build and run it with `make demo`, or by hand after `make`:
 *   cc examples/demo.c -Iinclude -Ltarget/release -Wl,-rpath,$PWD/target/release \
 *      -lssl_session -o demo && ./demo
 *
 * It makes a session, sets a few fields, copies it (dup), shares it (up_ref), frees every
 * reference, and then frees one session twice, in child processes: once with the default
 * policy (report, then abort) and once with SSL_SESSION_MISUSE=warn (report, carry on). */
#include "ssl.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define TLS1_3_VERSION 0x0304 /* as in <openssl/prov_ssl.h> */

static void show(const char *label, const SSL_SESSION *s)
{
    unsigned int id_len = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &id_len);
    size_t key_len = SSL_SESSION_get_master_key(s, NULL, 0); /* outlen 0: the length */
    const char *host = SSL_SESSION_get0_hostname(s);

    printf("  %s:\n", label);
    int version = SSL_SESSION_get_protocol_version(s);
    printf("    protocol version  0x%04x%s\n", (unsigned)version,
           version == TLS1_3_VERSION ? " (TLS 1.3)" : "");
    printf("    session id        %u bytes, %02x%02x%02x%02x...\n", id_len, id[0], id[1],
           id[2], id[3]);
    printf("    master key        %zu bytes\n", key_len);
    printf("    hostname          %s\n", host ? host : "(none)");
    printf("    time, timeout     %ld, %ld s\n", SSL_SESSION_get_time(s),
           SSL_SESSION_get_timeout(s));
    printf("    resumable         %d\n", SSL_SESSION_is_resumable(s));
}

/* Free one session twice in a child process; report how the child ended. `warn` sets
 * SSL_SESSION_MISUSE=warn first: the policy is read once, at the first misuse report. */
static int double_free_in_child(int warn)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 0;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* the abort below should not leave a core file */
        if (warn)
            setenv("SSL_SESSION_MISUSE", "warn", 1);
        SSL_SESSION *s = SSL_SESSION_new();
        SSL_SESSION_free(s);
        SSL_SESSION_free(s); /* the bug: the report goes to stderr */
        printf("    (child) the second SSL_SESSION_free returned; the program goes on\n");
        exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 0;
    }
    if (WIFSIGNALED(status)) {
        printf("    child killed by signal %d (%s)\n", WTERMSIG(status),
               WTERMSIG(status) == SIGABRT ? "SIGABRT" : "unexpected");
        return !warn && WTERMSIG(status) == SIGABRT;
    }
    printf("    child exited with status %d\n", WEXITSTATUS(status));
    return warn && WEXITSTATUS(status) == 0;
}

int main(void)
{
    static const unsigned char id[32] = {0x5e, 0x55, 0x10, 0x4e, 1, 2, 3, 4, 5, 6, 7, 8};
    unsigned char key[48];
    int ok = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and the stderr reports in order */
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)i;

    printf("1. SSL_SESSION_new, then the setters:\n");
    SSL_SESSION *s = SSL_SESSION_new();
    if (s == NULL)
        return 1;
    ok &= SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
    ok &= SSL_SESSION_set1_id(s, id, sizeof id);
    ok &= SSL_SESSION_set1_master_key(s, key, sizeof key);
    ok &= SSL_SESSION_set1_hostname(s, "example.com");
    SSL_SESSION_set_time(s, 1700000000); /* seconds since the epoch */
    ok &= SSL_SESSION_set_timeout(s, 7200) == 1;
    show("session s", s);

    printf("\n2. SSL_SESSION_dup(s): a deep copy; changing it leaves s alone:\n");
    SSL_SESSION *copy = SSL_SESSION_dup(s);
    if (copy == NULL)
        return 1;
    ok &= SSL_SESSION_set1_hostname(copy, "copy.example.com");
    printf("  s    hostname  %s\n", SSL_SESSION_get0_hostname(s));
    printf("  copy hostname  %s\n", SSL_SESSION_get0_hostname(copy));

    printf("\n3. SSL_SESSION_up_ref(s): a second owner of the same object:\n");
    SSL_SESSION *shared = s;
    printf("  up_ref returns %d: two references now, so two frees\n", SSL_SESSION_up_ref(shared));
    SSL_SESSION_free(s); /* drops the first reference: the object lives on */
    printf("  after one SSL_SESSION_free, shared still reads hostname %s\n",
           SSL_SESSION_get0_hostname(shared));
    SSL_SESSION_free(shared); /* the last reference: the session is destroyed */
    SSL_SESSION_free(copy);
    printf("  freed the last reference of s, and copy\n");

    printf("\n4. A double free, in child processes (misuse is reported, not undefined):\n");
    printf("  default policy: one line on stderr, then abort():\n");
    ok &= double_free_in_child(0);
    printf("  SSL_SESSION_MISUSE=warn: the same line, then the call returns, doing nothing:\n");
    ok &= double_free_in_child(1);

    printf("\n%s\n", ok ? "demo ok" : "demo FAILED");
    return ok ? 0 : 1;
}
