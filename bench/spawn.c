// The spawn limit of this machine: posix_spawn + waitpid of `/bin/sh -c true` in a loop, on
// THREADS threads, for SECONDS seconds; prints the completed count per second.
// Usage: spawn THREADS SECONDS
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;
static double seconds;
static long done[64];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *loop(void *arg) {
    long i = (long)arg;
    char *argv[] = {"/bin/sh", "-c", "true", NULL};
    double end = now() + seconds;
    while (now() < end) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) {
            perror("posix_spawn");
            exit(1);
        }
        waitpid(pid, &status, 0);
        done[i]++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    seconds = argc > 2 ? atof(argv[2]) : 3;
    if (threads < 1 || threads > 64) {
        return 2;
    }
    pthread_t t[64];
    double start = now();
    for (long i = 0; i < threads; i++) {
        pthread_create(&t[i], NULL, loop, (void *)i);
    }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += done[i];
    }
    printf("%.1f\n", total / (now() - start));
    return 0;
}
