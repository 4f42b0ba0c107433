/* LD_PRELOAD library for the crash trials: SIGKILL this process at the n-th call of one file
 * operation on a path matching a glob, exactly there, whichever thread (or library: pyarrow's
 * C++, DuckDB) makes it.
 *
 *   KILL_AT_CALL   rename | unlink | open  (rename matches the destination path)
 *   KILL_AT_PATH   an fnmatch(3) glob, `*` also crossing `/`
 *   KILL_AT_NTH    n >= 1: the n-th matching call, counted over all threads
 *   KILL_AT_WHEN   before (the call never happens) | after (it happened; the caller never learns)
 *
 * KILL_AT_LOG=FILE also appends every matching call to FILE: how to count the calls a run makes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_long matched;

static int watched(const char *call, const char *path) {
    const char *wanted = getenv("KILL_AT_CALL");
    const char *glob = getenv("KILL_AT_PATH");
    if (!wanted || !glob || !path || strcmp(wanted, call) != 0) return 0;
    return fnmatch(glob, path, 0) == 0;
}

/* 1 when this call is the n-th matching one */
static int chosen(const char *call, const char *path) {
    if (!watched(call, path)) return 0;
    long count = atomic_fetch_add(&matched, 1) + 1;
    const char *file = getenv("KILL_AT_LOG");
    if (file) {
        FILE *log = fopen(file, "a");
        if (log) {
            fprintf(log, "%s %s\n", call, path);
            fclose(log);
        }
    }
    const char *nth = getenv("KILL_AT_NTH");
    return nth && count == atol(nth);
}

static int before(void) {
    const char *when = getenv("KILL_AT_WHEN");
    return !when || strcmp(when, "after") != 0;
}

static void die(void) { kill(getpid(), SIGKILL); }

/* Dies now if this call is the chosen one and the kill comes before it; else says whether to die
 * once the call has returned. */
static int entering(const char *call, const char *path) {
    int here = chosen(call, path);
    if (here && before()) die();
    return here;
}

static int returning(int here, int result) {
    if (here) die();
    return result;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int rename(const char *old, const char *new) {
    int here = entering("rename", new);
    return returning(here, REAL(rename)(old, new));
}

int renameat(int olddirfd, const char *old, int newdirfd, const char *new) {
    int here = entering("rename", new);
    return returning(here, REAL(renameat)(olddirfd, old, newdirfd, new));
}

int unlink(const char *path) {
    int here = entering("unlink", path);
    return returning(here, REAL(unlink)(path));
}

int unlinkat(int dirfd, const char *path, int flags) {
    int here = entering("unlink", path);
    return returning(here, REAL(unlinkat)(dirfd, path, flags));
}

/* open(2) and its kin take a mode only when they may create the file */
#define OPEN(name, parameters, ...)                                  \
    int name parameters {                                            \
        va_list arguments;                                           \
        va_start(arguments, flags);                                  \
        mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(arguments, mode_t) : 0; \
        va_end(arguments);                                           \
        int here = entering("open", path);                           \
        return returning(here, REAL(name)(__VA_ARGS__));             \
    }

OPEN(open, (const char *path, int flags, ...), path, flags, mode)
OPEN(open64, (const char *path, int flags, ...), path, flags, mode)
OPEN(openat, (int dirfd, const char *path, int flags, ...), dirfd, path, flags, mode)
OPEN(openat64, (int dirfd, const char *path, int flags, ...), dirfd, path, flags, mode)
